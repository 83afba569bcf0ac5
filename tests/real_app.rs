//! The shipped plan against a database laid out like a real application's: its tables in schema
//! `migration`, set as the database's search path (`ALTER DATABASE … SET search_path`), stale
//! copies of some tables in `public` (later on the path, so hidden), a same-named table off the
//! path and a view that hides a table. Every verdict must be the one a careful person reads from
//! `psql`, and no drop may be reported done while the dropped object is still visible.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::process::Command;

use remtrack::check::{CheckStatus, CodeLimits, CodeSource, Limits, Refresh, Target, refresh_with};
use remtrack::demo::{REALITY_SQL, SHIPPED_PLAN};
use remtrack::plan::{Plan, parse_plan};
use serde_json::Value;
use support::pg::{cluster, exec};

fn shipped_plan() -> Plan {
    parse_plan(SHIPPED_PLAN.as_bytes(), std::path::Path::new("plan.json")).unwrap()
}

fn database_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap()
}

/// The seed's reality in schema `migration`, as the application's init script lays it out,
/// with the traps a real database holds.
async fn application_database() -> String {
    let url = cluster().fresh_database().await;
    let name = database_name(&url).to_string();
    exec(
        &url,
        &format!(
            "CREATE SCHEMA migration;
             SET search_path = migration;
             {REALITY_SQL}
             RESET search_path;
             ALTER DATABASE \"{name}\" SET search_path = migration, public;

             -- Stale copies in public, hidden by migration: had the checks looked here, the
             -- session_id drop would pass and the master flow columns would exist.
             CREATE TABLE public.assets (id uuid PRIMARY KEY, name varchar(255));
             CREATE TABLE public.crewai_flow_state_extensions (
                 id uuid PRIMARY KEY,
                 current_phase varchar(50) DEFAULT 'discovery',
                 phase_flow_id uuid,
                 phase_progression jsonb DEFAULT '{{}}',
                 cross_phase_context jsonb DEFAULT '{{}}',
                 assessment_flow_id uuid,
                 planning_flow_id uuid,
                 execution_flow_id uuid);

             -- Off the search path: a dropped table's namesake lives on in an archive schema.
             CREATE SCHEMA legacy;
             CREATE TABLE legacy.workflow_states (id int);

             -- A reporting schema whose view shares a table's name.
             CREATE SCHEMA reporting;
             CREATE VIEW reporting.assets AS SELECT id, name FROM migration.assets;"
        ),
    )
    .await;
    url
}

/// The same reality in `public` of a plain database: what the verdicts must equal.
async fn plain_database() -> String {
    let url = cluster().fresh_database().await;
    exec(&url, REALITY_SQL).await;
    url
}

/// The demo's code, laid out once: the shipped plan's code and migration-file checks read it.
fn demo_code() -> std::sync::Arc<CodeSource> {
    static CODE: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let dir = CODE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        remtrack::demo::code::lay_out(&dir.path().join("code")).unwrap();
        dir
    });
    std::sync::Arc::new(CodeSource::new(
        dir.path().join("code"),
        vec![],
        CodeLimits::default(),
    ))
}

async fn check(plan: &Plan, url: &str, search_path: Option<&[String]>) -> Refresh {
    let target = Target::open_with(url, Limits::default(), search_path).unwrap();
    let refreshed = refresh_with(plan, &target, &demo_code()).await.unwrap();
    target.close().await;
    refreshed
}

/// `task/check` → status, for every check and guard.
fn statuses(plan: &Plan, refreshed: &Refresh) -> BTreeMap<String, CheckStatus> {
    let mut out = BTreeMap::new();
    for (task, verdicts) in plan.tasks.iter().zip(&refreshed.verdicts.tasks) {
        for (check, verdict) in task.checks.iter().zip(&verdicts.checks) {
            out.insert(format!("{}/{}", task.id, check.id), verdict.status);
        }
        let guards = task.fix.iter().flat_map(|fix| fix.guards.iter());
        for (check, verdict) in guards.zip(&verdicts.guards) {
            out.insert(format!("{}/guard {}", task.id, check.id), verdict.status);
        }
    }
    out
}

fn verdict<'a>(plan: &Plan, refreshed: &'a Refresh, id: &str) -> &'a remtrack::check::Verdict {
    let (task_id, check_id) = id.split_once('/').unwrap();
    let index = plan.tasks.iter().position(|t| t.id == task_id).unwrap();
    let check = plan.tasks[index]
        .checks
        .iter()
        .position(|c| c.id == check_id)
        .unwrap();
    &refreshed.verdicts.tasks[index].checks[check]
}

#[tokio::test]
async fn the_shipped_plan_judges_an_application_schema_as_it_judges_public() {
    let plan = shipped_plan();
    let app = check(&plan, &application_database().await, None).await;
    let plain = check(&plan, &plain_database().await, None).await;

    assert_eq!(
        app.search_path.shown,
        ["migration", "public"],
        "the database's own search path"
    );
    assert_eq!(
        statuses(&plan, &app),
        statuses(&plan, &plain),
        "every verdict on the application's layout equals the verdict on a plain database"
    );

    // No drop is done while the object is visible, and the evidence names where it is.
    for (id, evidence) in [
        (
            "drop-discovery-assets/table-gone",
            "table migration.discovery_assets still exists",
        ),
        (
            "drop-data-import-sessions/table-gone",
            "table migration.data_import_sessions still exists with 0 rows",
        ),
        (
            "drop-session-id-columns/assets",
            "column session_id still exists in migration.assets (uuid)",
        ),
        (
            "drop-session-id-columns/llm-usage-logs",
            "column session_id still exists in migration.llm_usage_logs",
        ),
        (
            "master-flow-columns/current-phase",
            "column current_phase missing from migration.crewai_flow_state_extensions",
        ),
    ] {
        let v = verdict(&plan, &app, id);
        assert_eq!(v.status, CheckStatus::Fail, "{id}: {v:?}");
        assert!(v.evidence.contains(evidence), "{id}: {:?}", v.evidence);
    }
    for (id, evidence) in [
        (
            "flow-state-extensions-table/table",
            "table migration.crewai_flow_state_extensions exists",
        ),
        (
            "assets-multi-phase-columns/master-flow-id",
            "column migration.assets.master_flow_id exists (uuid)",
        ),
        (
            "latest-migration-applied/alembic-revision",
            "revision c85140124625 applied (migration.alembic_version",
        ),
    ] {
        let v = verdict(&plan, &app, id);
        assert_eq!(v.status, CheckStatus::Pass, "{id}: {v:?}");
        assert!(v.evidence.contains(evidence), "{id}: {:?}", v.evidence);
    }

    // Dropped from the path, kept in an archive: done, and said.
    let archived = verdict(&plan, &app, "workflow-states-dropped/table-gone");
    assert_eq!(archived.status, CheckStatus::Pass);
    assert_eq!(
        archived.warning.as_deref(),
        Some(
            "no workflow_states on the search path (migration, public), \
             but table legacy.workflow_states exists outside it"
        )
    );
}

#[tokio::test]
async fn a_search_path_override_and_explicit_schemas_look_where_they_say() {
    let plan = shipped_plan();
    let url = application_database().await;

    // Looking only at public (the stale copies): the session_id drop passes on public.assets,
    // and the evidence says public, so nobody mistakes it for the application's table.
    let public = check(&plan, &url, Some(&["public".to_string()])).await;
    assert_eq!(public.search_path.shown, ["public"]);
    let v = verdict(&plan, &public, "drop-session-id-columns/assets");
    assert_eq!(v.status, CheckStatus::Pass, "{v:?}");
    assert_eq!(
        v.evidence,
        "column session_id is not in the table public.assets"
    );

    // A view earlier on the path hides the table, as it does for the application.
    let path = ["reporting".to_string(), "migration".to_string()];
    let hidden = check(&plan, &url, Some(&path)).await;
    let v = verdict(&plan, &hidden, "assets-multi-phase-columns/master-flow-id");
    assert_eq!(v.status, CheckStatus::Fail, "{v:?}");
    assert_eq!(
        v.evidence,
        "column master_flow_id missing: assets is the view reporting.assets, not a table; \
         the table migration.assets later on the search path is hidden by it"
    );

    // A check's own schema always wins over any path.
    let explicit = support::checks::plan_of(serde_json::json!([
        { "id": "app", "kind": "column_absent", "table": "assets", "column": "session_id", "schema": "migration" },
        { "id": "stale", "kind": "column_absent", "table": "assets", "column": "session_id", "schema": "public" },
        { "id": "archive", "kind": "table_absent", "table": "workflow_states", "schema": "legacy" },
        { "id": "view", "kind": "table_exists", "table": "assets", "schema": "reporting" }
    ]));
    let refreshed = check(&explicit, &url, Some(&["public".to_string()])).await;
    let v = support::checks::verdicts_by_id(&explicit, &refreshed.verdicts);
    assert_eq!(v["app"].status, CheckStatus::Fail, "{:?}", v["app"]);
    assert_eq!(v["stale"].status, CheckStatus::Pass, "{:?}", v["stale"]);
    assert_eq!(v["archive"].status, CheckStatus::Fail, "{:?}", v["archive"]);
    assert_eq!(v["view"].status, CheckStatus::Fail, "{:?}", v["view"]);
    assert_eq!(
        v["view"].evidence,
        "assets is the view reporting.assets, not a table"
    );
}

#[tokio::test]
async fn reports_show_the_search_path_and_the_warnings() {
    let url = application_database().await;
    let dir = tempfile::tempdir().unwrap();
    let run = |format: &str, extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_remtrack"))
            .args(["check", "--format", format, "--database-url", &url])
            .args(["--plan", concat!(env!("CARGO_MANIFEST_DIR"), "/plan.json")])
            .args(["--store", dir.path().join("state.db").to_str().unwrap()])
            .args(extra)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };

    let json: Value = serde_json::from_str(&run("json", &[])).unwrap();
    assert_eq!(
        json["database"]["search_path"],
        serde_json::json!(["migration", "public"])
    );
    assert_eq!(
        json["warnings"],
        serde_json::json!([{
            "task": "workflow-states-dropped",
            "check": "table-gone",
            "warning": "no workflow_states on the search path (migration, public), but table legacy.workflow_states exists outside it"
        }])
    );
    let text = run("text", &[]);
    assert!(text.contains("search path: migration, public"), "{text}");
    assert!(
        text.contains("Warnings:\n  workflow-states-dropped/table-gone: no workflow_states"),
        "{text}"
    );
    let markdown = run("markdown", &[]);
    assert!(
        markdown.contains("(search path: migration, public)"),
        "{markdown}"
    );
    assert!(markdown.contains("## Warnings"), "{markdown}");

    let overridden: Value =
        serde_json::from_str(&run("json", &["--search-path", "public,legacy"])).unwrap();
    assert_eq!(
        overridden["database"]["search_path"],
        serde_json::json!(["public", "legacy"])
    );
}

#[tokio::test]
async fn a_role_that_may_not_use_a_schema_on_the_path_is_told_so_never_shown_done() {
    let url = application_database().await;
    exec(
        &url,
        "CREATE ROLE outsider LOGIN; GRANT USAGE ON SCHEMA public TO outsider;",
    )
    .await;
    let outsider = url.replacen("postgres://postgres@", "postgres://outsider@", 1);
    let plan = shipped_plan();
    let refreshed = check(&plan, &outsider, None).await;
    // PostgreSQL leaves migration out of the path for this role: without care the drop would
    // look done.
    for id in [
        "drop-discovery-assets/table-gone",
        "drop-data-import-sessions/table-gone",
        "drop-session-id-columns/llm-usage-logs",
        // public.assets is visible to this role, but the application's assets is migration's.
        "drop-session-id-columns/assets",
    ] {
        let v = verdict(&plan, &refreshed, id);
        assert_eq!(v.status, CheckStatus::Error, "{id}: {v:?}");
        assert!(
            v.evidence
                .contains("schema migration, which this role may not use (no USAGE)"),
            "{id}: {}",
            v.evidence
        );
    }
    // The guard reads the code and the database together: the same, never "nothing to drop".
    let task = plan.task_index("drop-session-id-columns").unwrap();
    let guard = &refreshed.verdicts.tasks[task].guards[0];
    assert_eq!(guard.status, CheckStatus::Error, "{guard:?}");
    assert!(
        guard
            .evidence
            .contains("schema migration, which this role may not use (no USAGE)"),
        "{}",
        guard.evidence
    );
}
