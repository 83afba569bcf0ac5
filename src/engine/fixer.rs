//! A person's fix order, carried out for the hub: on the tracker's write target, with the plan
//! shown now. The hub never starts one by itself; a view sends it when a person asked.

use std::sync::Arc;

use crate::apply::{FixAction, FixOrder, Performed, WriteTarget, perform};
use crate::check::CodeSource;
use crate::plan::Plan;
use crate::store::{Store, fix_fingerprint};

/// Where fixes are written (the tracker was given `--apply-url`), and the code their checks read.
#[derive(Debug, Clone)]
pub struct FixSetup {
    pub target: WriteTarget,
    pub code: Arc<CodeSource>,
}

/// What a person asked of a task's fix, as a view sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixJob {
    pub task_id: String,
    pub action: FixAction,
    /// Who asked: the tracker's user, or under `serve` the name the key belongs to.
    pub actor: String,
    /// The actor's role under `serve` (kept with an approval).
    pub role: Option<String>,
    /// Why one approves, or what one asks (empty for a dry run or an apply).
    pub note: String,
    /// For an apply: the fingerprint of the fix text the dry run proved. The plan file may have
    /// changed between the confirmation and now; what was proven is what may be applied.
    pub proven: Option<String>,
}

/// What came of a job, with the report a person reads.
#[derive(Debug, Clone)]
pub struct FixReport {
    pub performed: Performed,
    /// The run's report ([`crate::apply::FixRun::lines`]) for the task as the plan had it.
    pub lines: Vec<String>,
    /// The fingerprint of the fix text that ran (none when the plan has no SQL for it).
    pub fingerprint: Option<String>,
}

/// Runs `job` on `plan` against the setup's target, recording in `store` what `perform` records.
pub(super) async fn carry_out(
    setup: &FixSetup,
    plan: &Plan,
    store: Option<&Store>,
    job: &FixJob,
    checks_search_path: Option<Vec<String>>,
) -> Result<FixReport, String> {
    let task = plan
        .task(&job.task_id)
        .ok_or_else(|| format!("the plan has no task {} now", job.task_id))?;
    let fingerprint = fix_fingerprint(task, setup.target.backend());
    if job.action == FixAction::Apply && (job.proven.is_none() || job.proven != fingerprint) {
        return Err(format!(
            "not applied: {}'s fix changed in the plan since the dry run proved it; prove it again (p)",
            task.id
        ));
    }
    let performed = perform(
        &setup.target,
        store,
        FixOrder {
            plan,
            task_id: &task.id,
            actor: &job.actor,
            role: job.role.as_deref(),
            action: job.action,
            note: &job.note,
            code: &setup.code,
            checks_search_path,
        },
    )
    .await;
    let lines = performed.run.lines(task, setup.target.display_url());
    Ok(FixReport {
        performed,
        lines,
        fingerprint,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::apply::{Conclusion, FixLimits, NO_APPLY_URL};
    use crate::check::{Limits, Target};
    use crate::engine::hub::{Hub, HubOptions};
    use crate::status::TaskStatus;
    use crate::store::StoreLocation;

    const PLAN: &str = r#"{
        "version": 1, "title": "Plan",
        "days": [{ "day": 1, "title": "Day one" }],
        "phases": [{ "id": "p1", "title": "Phase one" }],
        "tasks": [
            { "id": "a", "title": "Task A", "day": 1, "phase": "p1", "priority": "high",
              "checks": [{ "id": "c1", "kind": "table_exists", "table": "u" }],
              "fix": { "sql": "CREATE TABLE u (id INTEGER);" } }
        ]
    }"#;

    /// A hub over a fresh SQLite database without table `u`, refreshing once a minute (so
    /// only a refresh asked for can show a change soon), writing fixes to it when `writes`.
    async fn hub_in(dir: &std::path::Path, writes: bool) -> Arc<Hub> {
        let url = format!("sqlite:{}", dir.join("app.db").display());
        let conn =
            <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!("{url}?mode=rwc"));
        sqlx::Connection::close(conn.await.unwrap_or_else(|e| panic!("{e}")))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let plan_file = dir.join("plan.json");
        std::fs::write(&plan_file, PLAN).unwrap_or_else(|e| panic!("{e}"));
        let plan = Arc::new(crate::plan::load_plan(&plan_file).unwrap_or_else(|e| panic!("{e}")));
        Hub::start(HubOptions {
            code: Arc::new(CodeSource::for_plan(&plan, &plan_file, None)),
            plan,
            target: Target::open(&url, Limits::default()).unwrap_or_else(|e| panic!("{e}")),
            refresh_every: Duration::from_secs(60),
            store: StoreLocation::Sqlite(dir.join("state.db")),
            plan_file: None,
            search_path_override: None,
            fix_target: writes.then(|| {
                WriteTarget::open(&url, FixLimits::default(), None)
                    .unwrap_or_else(|e| panic!("{e}"))
            }),
        })
    }

    fn ask(action: FixAction, proven: Option<String>) -> FixJob {
        FixJob {
            task_id: "a".into(),
            action,
            actor: "ana".into(),
            role: None,
            note: String::new(),
            proven,
        }
    }

    async fn status_within(hub: &Hub, wanted: TaskStatus, within: Duration) -> bool {
        tokio::time::timeout(within, async {
            let (mut board, mut updates) = hub.board();
            while board.status.tasks[0].status != wanted {
                board = match updates.recv().await {
                    Ok(update) => update.board,
                    Err(_) => hub.board_now(),
                };
            }
        })
        .await
        .is_ok()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dry_run_changes_nothing_and_an_apply_turns_the_task_done_at_once() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let hub = hub_in(dir.path(), true).await;
        assert!(status_within(&hub, TaskStatus::Failing, Duration::from_secs(10)).await);

        let dry = hub
            .fix(ask(FixAction::DryRun, None))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(dry.performed.run.conclusion, Conclusion::Proven);
        assert!(dry.lines.last().is_some_and(|l| l.starts_with("proven:")));
        // An apply of a text other than the one proven is refused before anything runs.
        let other = hub
            .fix(ask(FixAction::Apply, Some("sha256:other".into())))
            .await;
        assert!(other.is_err_and(|e| e.contains("changed in the plan since the dry run")));
        assert!(
            !status_within(&hub, TaskStatus::Done, Duration::from_millis(800)).await,
            "the dry run was rolled back"
        );

        let applied = hub
            .fix(ask(FixAction::Apply, dry.fingerprint.clone()))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(applied.performed.run.conclusion, Conclusion::Applied);
        // The next refresh of its own is a minute away: this one the apply asked for.
        assert!(status_within(&hub, TaskStatus::Done, Duration::from_secs(10)).await);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn without_a_write_url_nothing_runs_and_the_way_to_give_one_is_said() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let hub = hub_in(dir.path(), false).await;
        let refused = hub.fix(ask(FixAction::DryRun, None)).await;
        assert_eq!(refused.err().as_deref(), Some(NO_APPLY_URL));
    }
}
