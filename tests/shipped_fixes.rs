//! The fix SQL the shipped plan shows (and `y` copies) really fixes its task: applied to the
//! seed's database reality on PostgreSQL and on SQLite, once its guards pass, every check of
//! that task passes. The code is the demo's after its code tasks are done (no `session_id`
//! left, `api/v1` gone): a fix guarded by the code waits for that, as it should.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use remtrack::Backend;
use remtrack::check::{CheckStatus, CodeLimits, CodeSource, Limits, Refresh, Target, refresh_with};
use remtrack::demo::{REALITY_SQL, SHIPPED_PLAN, build_demo_database};
use remtrack::plan::{Plan, parse_plan};
use sqlx::{Connection as _, Executor as _};
use support::pg::{cluster, exec};

fn shipped_plan() -> Plan {
    parse_plan(SHIPPED_PLAN.as_bytes(), std::path::Path::new("plan.json")).unwrap()
}

/// The demo's code once its code tasks are done: `session_id` no longer read anywhere.
fn code_after_the_code_tasks() -> std::sync::Arc<CodeSource> {
    static CODE: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let dir = CODE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("code");
        remtrack::demo::code::lay_out(&root).unwrap();
        for (path, text) in remtrack::demo::code::FILES {
            if path.ends_with(".py") && !path.contains("alembic") {
                std::fs::write(root.join(path), text.replace("session_id", "flow_id")).unwrap();
            }
        }
        std::fs::remove_dir_all(root.join("backend/app/api/v1")).unwrap();
        dir
    });
    std::sync::Arc::new(CodeSource::new(
        dir.path().join("code"),
        vec![],
        CodeLimits::default(),
    ))
}

async fn check(plan: &Plan, url: &str) -> Refresh {
    let target = Target::open(url, Limits::default()).unwrap();
    let refreshed = refresh_with(plan, &target, &code_after_the_code_tasks())
        .await
        .unwrap();
    target.close().await;
    refreshed
}

fn all_pass(verdicts: &[remtrack::check::Verdict]) -> bool {
    verdicts.iter().all(|v| v.status == CheckStatus::Pass)
}

/// Applies each failing task's fix whose guards pass, then checks again; returns the fixed
/// task ids and the tasks that still fail after their fix.
async fn apply_fixes(plan: &Plan, url: &str, backend: Backend) -> (Vec<String>, Vec<String>) {
    let before = check(plan, url).await;
    let mut applied = Vec::new();
    for (task, verdicts) in plan.tasks.iter().zip(&before.verdicts.tasks) {
        let Some(fix) = &task.fix else { continue };
        if all_pass(&verdicts.checks) {
            continue;
        }
        assert!(
            all_pass(&verdicts.guards),
            "{}: a guard fails on the seed's reality, so its fix may not run: {:?}",
            task.id,
            verdicts.guards
        );
        let sql = fix
            .sql
            .for_backend(backend)
            .unwrap_or_else(|| panic!("{} has no fix for {}", task.id, backend.name()));
        // A writable connection of the test's own: remtrack never runs fix SQL.
        match backend {
            Backend::Postgres => exec(url, sql).await,
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
                conn.execute(sqlx::raw_sql(sql))
                    .await
                    .unwrap_or_else(|e| panic!("{}: fix failed on SQLite: {e}\n{sql}", task.id));
                conn.close().await.unwrap();
            }
        }
        applied.push(task.id.clone());
    }
    let after = check(plan, url).await;
    let still_failing = plan
        .tasks
        .iter()
        .zip(&after.verdicts.tasks)
        .filter(|(task, verdicts)| applied.contains(&task.id) && !all_pass(&verdicts.checks))
        .map(|(task, verdicts)| format!("{}: {:?}", task.id, verdicts.checks))
        .collect();
    (applied, still_failing)
}

#[tokio::test]
async fn every_fix_fixes_its_task_on_postgres() {
    let plan = shipped_plan();
    let url = cluster().fresh_database().await;
    exec(&url, REALITY_SQL).await;
    let (applied, still_failing) = apply_fixes(&plan, &url, Backend::Postgres).await;
    assert!(
        applied.len() >= 3,
        "the seed leaves several fixable tasks: {applied:?}"
    );
    assert!(still_failing.is_empty(), "{still_failing:#?}");
}

#[tokio::test]
async fn every_fix_fixes_its_task_on_sqlite() {
    let plan = shipped_plan();
    let dir = tempfile::tempdir().unwrap();
    let url = build_demo_database(&dir.path().join("demo.db"))
        .await
        .unwrap();
    let (applied, still_failing) = apply_fixes(&plan, &url, Backend::Sqlite).await;
    assert!(
        applied.len() >= 3,
        "the seed leaves several fixable tasks: {applied:?}"
    );
    assert!(still_failing.is_empty(), "{still_failing:#?}");
}
