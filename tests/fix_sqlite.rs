//! `remtrack fix` on SQLite (the demo's database, the seed's reality): a dry run leaves the
//! file byte-for-byte as it was; a disproved fix, a failing guard and a statement SQLite cannot
//! run in a transaction change nothing; one writer at a time; a killed or overrunning apply
//! leaves the database as before.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use remtrack::demo::build_demo_database;
use serde_json::Value;
use sqlx::{Connection as _, SqliteConnection};
use support::fix::{Desk, Running, fix_sql, set_fix_sql, shipped_plan, wait_until};
use support::snapshot::{file_sha256, sqlite_journal, sqlite_snapshot};

const TASK: &str = "master-flow-columns";

/// A statement that counts for hours: a fix held mid-transaction until it is killed or stopped.
const ENDLESS_INSERT: &str = "INSERT INTO llm_usage_logs (id, total_tokens) \
     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000000) \
     SELECT 'counted', count(*) FROM n;";

/// The demo's database in a folder of its own; its path and its `sqlite:` URL.
struct Demo {
    _dir: tempfile::TempDir,
    path: PathBuf,
    url: String,
}

async fn demo_database() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.db");
    let url = build_demo_database(&path).await.unwrap();
    Demo {
        _dir: dir,
        path,
        url,
    }
}

/// What must not change: the file's bytes, and what it holds.
async fn state(path: &Path) -> (String, String) {
    let bytes = file_sha256(path);
    (bytes, sqlite_snapshot(path).await)
}

async fn exec(url: &str, sql: &str) {
    let mut conn = SqliteConnection::connect(url).await.unwrap();
    sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

fn plan_with_fix(task: &str, sql: &str) -> Value {
    let mut plan = shipped_plan();
    set_fix_sql(&mut plan, task, "sqlite", sql);
    plan
}

/// The shipped fix, then a statement that never ends on its own.
fn endless_fix() -> Value {
    let sql = format!(
        "{}\n{ENDLESS_INSERT}",
        fix_sql(&shipped_plan(), TASK, "sqlite")
    );
    plan_with_fix(TASK, &sql)
}

/// Starts the endless fix in a child and waits until it is inside its write transaction: the
/// rollback journal appears with the first page the DDL changes.
async fn endless_apply_under_way(desk: &Desk, demo: &Demo, args: &[&str]) -> Running {
    let mut ana = desk.spawn_apply(TASK, "ana", args);
    let journal = sqlite_journal(&demo.path);
    wait_until(
        "the fix's write transaction to begin",
        Duration::from_secs(20),
        || {
            let started = journal.exists();
            async move { started }
        },
    )
    .await;
    assert!(ana.running(), "the endless fix ended by itself");
    ana
}

#[tokio::test]
async fn a_dry_run_leaves_the_file_byte_for_byte_as_it_was() {
    let demo = demo_database().await;
    let sql = format!(
        "{}\nINSERT INTO llm_usage_logs (id, model) SELECT id, 'dry run' FROM assets;",
        fix_sql(&shipped_plan(), TASK, "sqlite")
    );
    let desk = Desk::new(&demo.url, &plan_with_fix(TASK, &sql));
    let before = state(&demo.path).await;
    assert!(
        before.1.contains("rows llm_usage_logs 1"),
        "the snapshot counts rows:\n{}",
        before.1
    );

    let ran = desk.dry_run(TASK);
    ran.exits(0)
        .says("ran 8 statements in one transaction:")
        .says("1. (0 rows) ALTER TABLE crewai_flow_state_extensions ADD COLUMN current_phase VARCHAR(50) DEFAULT 'discovery'\n")
        .says("8. (3 rows) INSERT INTO llm_usage_logs (id, model) SELECT id, 'dry run' FROM assets\n")
        .says("  pass current-phase: column crewai_flow_state_extensions.current_phase exists (VARCHAR(50), default 'discovery')")
        .says("  pass execution-flow-id: column crewai_flow_state_extensions.execution_flow_id exists (UUID)")
        .says("proven: after this fix, 7 of 7 checks pass (the fix has no guards). Rolled back: nothing was changed.");
    assert_eq!(
        state(&demo.path).await,
        before,
        "a dry run changed the file"
    );
    assert!(!sqlite_journal(&demo.path).exists());

    let json = desk.fix(TASK, "ana", &["--dry-run", "--format", "json"]);
    let run = json.exits(0).json();
    assert_eq!(run["outcome"], "proven");
    let rows: Vec<Value> = run["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["rows"].clone())
        .collect();
    assert_eq!(rows, [0, 0, 0, 0, 0, 0, 0, 3].map(Value::from));
    let inside = run["inside"]["checks"].as_array().unwrap();
    assert_eq!(inside.len(), 7);
    assert!(inside.iter().all(|c| c["status"] == "pass"), "{run:#}");
    assert_eq!(
        state(&demo.path).await,
        before,
        "a dry run changed the file"
    );
}

#[tokio::test]
async fn a_fix_its_checks_disprove_is_not_proven_and_not_applied() {
    let demo = demo_database().await;
    let sql = fix_sql(&shipped_plan(), TASK, "sqlite")
        .replace("current_phase VARCHAR(50)", "current_phase VARCHAR(100)");
    let desk = Desk::new(&demo.url, &plan_with_fix(TASK, &sql));
    let before = state(&demo.path).await;
    let why = "after this fix, 6 of 7 checks pass; current-phase fails: \
         crewai_flow_state_extensions.current_phase: type is VARCHAR(100), expected varchar(50)";

    desk.dry_run(TASK)
        .exits(1)
        .says(&format!("not proven: {why}"));
    desk.apply(TASK, "ana")
        .exits(1)
        .says(&format!("not applied: {why}"));

    assert_eq!(state(&demo.path).await, before, "a disproved fix was kept");
    let failed = desk.events_of("apply_failed");
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["evidence"]["outcome"], "not_proven");
    assert_eq!(
        failed[0]["evidence"]["statements"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
}

#[tokio::test]
async fn a_failing_guard_refuses_the_dry_run_and_the_apply_before_anything_runs() {
    let demo = demo_database().await;
    exec(
        &demo.url,
        "INSERT INTO data_import_sessions (id, session_name) VALUES ('s-1', 'still in use')",
    )
    .await;
    let desk = Desk::new(&demo.url, &shipped_plan());
    let before = state(&demo.path).await;
    let refusal = "refused, nothing ran: guard table-empty fails: 1 row in data_import_sessions, expected exactly 0";

    desk.dry_run("drop-data-import-sessions")
        .exits(1)
        .says(refusal);
    desk.apply("drop-data-import-sessions", "ana")
        .exits(1)
        .says(refusal)
        .never_says("ran 1 statement");

    assert_eq!(state(&demo.path).await, before);
    let failed = desk.events_of("apply_failed");
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["evidence"]["statements"], Value::Array(vec![]));
}

#[tokio::test]
async fn vacuum_in_a_fix_is_refused_before_anything_runs() {
    let demo = demo_database().await;
    let task = "drop-data-import-sessions";
    let plan = plan_with_fix(task, "DROP TABLE IF EXISTS data_import_sessions;\nVACUUM;");
    let desk = Desk::new(&demo.url, &plan);
    let before = state(&demo.path).await;
    let refusal = "refused, nothing ran: statement 2 cannot be proven (VACUUM): VACUUM cannot run \
         inside a transaction on SQLite";

    let dry = desk.fix(task, "ana", &["--dry-run", "--format", "json"]);
    let run = dry.exits(1).json();
    assert_eq!(run["outcome"], "refused");
    assert!(
        run["reason"]
            .as_str()
            .unwrap()
            .contains("VACUUM cannot run inside a transaction on SQLite"),
        "{run:#}"
    );
    assert_eq!(
        run["statements"],
        Value::Array(vec![]),
        "the DROP before it did not run"
    );
    desk.apply(task, "ana").exits(1).says(refusal);

    assert_eq!(state(&demo.path).await, before);
}

#[tokio::test]
async fn an_apply_killed_mid_fix_leaves_the_database_as_it_was() {
    let demo = demo_database().await;
    let desk = Desk::new(&demo.url, &endless_fix());
    let before = sqlite_snapshot(&demo.path).await;
    let ana = endless_apply_under_way(&desk, &demo, &[]).await;

    let status = ana.kill_9();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    // Cut off inside its transaction: the journal it began is left behind.
    assert!(sqlite_journal(&demo.path).exists());
    assert_eq!(
        sqlite_snapshot(&demo.path).await,
        before,
        "a killed apply left changes"
    );
    // Nothing of it holds the database: the shipped fix applies now.
    desk.write_plan(&shipped_plan());
    desk.apply(TASK, "ana").exits(0).says("applied:");
}

#[tokio::test]
async fn a_second_writer_is_refused_while_an_apply_holds_the_database() {
    let demo = demo_database().await;
    let desk = Desk::new(&demo.url, &endless_fix());
    let before = sqlite_snapshot(&demo.path).await;
    let ana = endless_apply_under_way(&desk, &demo, &[]).await;

    let bob = desk.fix(
        "drop-discovery-assets",
        "bob",
        &[
            "--apply",
            "--confirm",
            "drop-discovery-assets",
            "--lock-timeout",
            "300ms",
        ],
    );
    bob.exits(1)
        .says("refused, nothing ran: another connection is writing to this database")
        .says("did not finish within the lock timeout (0.3 s); SQLite allows one writer at a time")
        .never_says("connection was lost");
    desk.fix(TASK, "carol", &["--dry-run", "--lock-timeout", "300ms"])
        .exits(1)
        .says("refused, nothing ran: another connection is writing to this database");

    let status = ana.kill_9();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    assert_eq!(sqlite_snapshot(&demo.path).await, before);
    let failed = desk.events_of("apply_failed");
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["actor"], "bob");
}

#[tokio::test]
async fn a_statement_longer_than_the_statement_timeout_is_stopped_and_rolled_back() {
    let demo = demo_database().await;
    let desk = Desk::new(&demo.url, &endless_fix());
    let before = state(&demo.path).await;
    let ana = endless_apply_under_way(&desk, &demo, &["--statement-timeout", "1s"]).await;

    // Endless, so it ends only if the timeout stops it.
    let ran = ana.finish_within(Duration::from_secs(30));
    ran.exits(1)
        .says("statement 8 failed: it ran longer than the statement timeout (1 s)")
        .says("Rolled back: nothing was changed.");
    assert_eq!(
        state(&demo.path).await,
        before,
        "an overrunning apply left changes"
    );
    assert!(!sqlite_journal(&demo.path).exists());
    let failed = desk.events_of("apply_failed");
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["evidence"]["outcome"], "statement_failed");
}

#[tokio::test]
async fn a_guard_that_never_ends_is_stopped_by_the_statement_timeout_and_refuses_the_fix() {
    let demo = demo_database().await;
    let mut plan = shipped_plan();
    let task = plan["tasks"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|t| t["id"] == TASK)
        .unwrap();
    // A SELECT that counts forever: only the timeout's interrupt can end it.
    task["fix"]["guards"] = serde_json::json!([{
        "id": "endless",
        "kind": "sql",
        "query": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) = 0 FROM n",
    }]);
    let desk = Desk::new(&demo.url, &plan);
    let before = state(&demo.path).await;
    let ran = desk
        .spawn_fix(TASK, "ana", &["--dry-run", "--statement-timeout", "1s"])
        .finish_within(Duration::from_secs(30));
    ran.exits(1)
        .says("refused, nothing ran: guard endless errors: timed out after 1 s");
    assert_eq!(state(&demo.path).await, before);
}

#[tokio::test]
async fn a_fix_that_undoes_done_work_is_not_proven() {
    let demo = demo_database().await;
    // Drops the legacy table, and with it `assets`, whose columns a done Day 1 task checks.
    let plan = plan_with_fix(
        "drop-data-import-sessions",
        "DROP TABLE IF EXISTS data_import_sessions;\nDROP TABLE IF EXISTS assets;",
    );
    let desk = Desk::new(&demo.url, &plan);
    let before = state(&demo.path).await;
    desk.dry_run("drop-data-import-sessions")
        .exits(1)
        .says("checks after the fix, inside the transaction: 1 of 1 check passes")
        .says("not proven: it undoes work that is done: assets-multi-phase-columns/");
    desk.apply("drop-data-import-sessions", "ana").exits(1);
    assert_eq!(state(&demo.path).await, before);
}

#[tokio::test]
async fn a_done_task_has_nothing_to_fix_and_a_blocked_one_is_not_applied() {
    let demo = demo_database().await;
    let desk = Desk::new(&demo.url, &shipped_plan());
    desk.apply(TASK, "ana").exits(0);
    desk.dry_run(TASK)
        .exits(1)
        .says("refused, nothing ran: every check of master-flow-columns passes already: there is nothing to fix");

    // Without its code guard, the session_id drop still waits for the code task it depends on.
    let mut plan = shipped_plan();
    let task = plan["tasks"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|t| t["id"] == "drop-session-id-columns")
        .unwrap();
    task["fix"]["guards"] = serde_json::json!([]);
    let desk = Desk::new(&demo.url, &plan);
    let before = state(&demo.path).await;
    desk.dry_run("drop-session-id-columns")
        .exits(0)
        .says("warning: depends on work that is not done (fix-session-id-in-code:");
    desk.apply("drop-session-id-columns", "ana")
        .exits(1)
        .says("refused, nothing ran: drop-session-id-columns depends on work that is not done: fix-session-id-in-code:");
    assert_eq!(state(&demo.path).await, before);
}
