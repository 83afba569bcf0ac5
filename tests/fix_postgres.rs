//! `remtrack fix` on a real PostgreSQL (a fresh database per test, holding the seed's reality):
//! a dry run proves a fix and changes nothing; an apply commits only what its checks prove;
//! guards, a second applier, a killed process, a lost connection, approvals and statements that
//! cannot run in a transaction each end the way a person is told they do, and the store keeps
//! what happened. Whether the database changed is read from a catalog and row-count snapshot.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use remtrack::demo::REALITY_SQL;
use remtrack::store::{EventKind, Store, StoreLocation};
use serde_json::Value;
use sqlx::{Connection as _, PgConnection};
use support::fix::{Desk, fix_sql, set_fix_sql, shipped_plan, task_status, wait_until};
use support::pg::{cluster, exec};
use support::snapshot::pg_snapshot;

const TASK: &str = "master-flow-columns";
const CHECK_IDS: [&str; 7] = [
    "current-phase",
    "phase-flow-id",
    "phase-progression",
    "cross-phase-context",
    "assessment-flow-id",
    "planning-flow-id",
    "execution-flow-id",
];

/// The fix the seed report itself proposes for the master flow columns, copied from its
/// "Complete Master Flow Migration" block (`/work/shared/seed/000_4322ac6891a33a65.txt`, beside
/// the repository as `../shared/seed/`), trailing space and comment included.
const SEED_REPORT_SQL: &str = "-- Add missing columns to crewai_flow_state_extensions
ALTER TABLE crewai_flow_state_extensions 
  ADD COLUMN IF NOT EXISTS current_phase VARCHAR(50) DEFAULT 'discovery',
  ADD COLUMN IF NOT EXISTS phase_flow_id UUID,
  ADD COLUMN IF NOT EXISTS phase_progression JSONB DEFAULT '{}',
  ADD COLUMN IF NOT EXISTS cross_phase_context JSONB DEFAULT '{}',
  ADD COLUMN IF NOT EXISTS assessment_flow_id UUID,
  ADD COLUMN IF NOT EXISTS planning_flow_id UUID,
  ADD COLUMN IF NOT EXISTS execution_flow_id UUID;";

/// A fresh database holding the seed's reality in `public`.
async fn seed_database() -> String {
    let url = cluster().fresh_database().await;
    exec(&url, REALITY_SQL).await;
    url
}

/// The seed's reality in schema `migration`, the database's search path, as an application's
/// init script lays it out (`tests/real_app.rs`).
async fn seed_database_in_schema_migration() -> String {
    let url = cluster().fresh_database().await;
    let name = url.rsplit('/').next().unwrap();
    exec(
        &url,
        &format!(
            "CREATE SCHEMA migration; SET search_path = migration; {REALITY_SQL} RESET search_path;
             ALTER DATABASE \"{name}\" SET search_path = migration, public;"
        ),
    )
    .await;
    url
}

/// The shipped plan with `sql` as master-flow-columns' PostgreSQL fix.
fn plan_with_fix(sql: &str) -> Value {
    let mut plan = shipped_plan();
    set_fix_sql(&mut plan, TASK, "postgres", sql);
    plan
}

/// The shipped fix with current_phase as the application's model declares it, `String(100)`.
fn fix_with_varchar_100() -> String {
    let sql = fix_sql(&shipped_plan(), TASK, "postgres");
    assert!(sql.contains("current_phase VARCHAR(50)"), "{sql}");
    sql.replace("current_phase VARCHAR(50)", "current_phase VARCHAR(100)")
}

/// The shipped fix, then four seconds asleep with the DDL done and its locks held.
fn slow_fix() -> String {
    format!(
        "{}\nSELECT pg_sleep(4);",
        fix_sql(&shipped_plan(), TASK, "postgres")
    )
}

/// The backend of a fix in this database now asleep in its `pg_sleep`, if there is one.
async fn sleeping_fix(url: &str) -> Option<i32> {
    let mut conn = PgConnection::connect(url).await.unwrap();
    let pid = sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity
          WHERE datname = current_database() AND application_name LIKE 'remtrack fix%'
            AND state = 'active' AND query LIKE '%pg_sleep%'",
    )
    .fetch_optional(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    pid
}

/// Waits for the fix started in a child to be asleep after its DDL; its backend's pid.
async fn wait_for_sleeping_fix(url: &str) -> i32 {
    wait_until(
        "the fix to reach its pg_sleep",
        Duration::from_secs(20),
        || async { sleeping_fix(url).await.is_some() },
    )
    .await;
    sleeping_fix(url).await.unwrap()
}

/// Waits until the server has ended every remtrack fix session in this database.
async fn wait_for_no_fix_session(url: &str) {
    wait_until(
        "the server to end the fix's session",
        Duration::from_secs(20),
        || async {
            let mut conn = PgConnection::connect(url).await.unwrap();
            let sessions: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity
              WHERE datname = current_database() AND application_name LIKE 'remtrack fix%'",
            )
            .fetch_one(&mut conn)
            .await
            .unwrap();
            conn.close().await.unwrap();
            sessions == 0
        },
    )
    .await;
}

#[tokio::test]
async fn a_dry_run_shows_what_ran_and_every_verdict_and_changes_nothing() {
    let url = seed_database_in_schema_migration().await;
    // Rows too: an insert the snapshot's counts would see, had it been kept.
    let sql = format!(
        "{}\nINSERT INTO llm_usage_logs (id, model) SELECT id, 'dry run' FROM assets;",
        fix_sql(&shipped_plan(), TASK, "postgres")
    );
    let desk = Desk::new(&url, &plan_with_fix(&sql));
    let before = pg_snapshot(&url).await;
    assert!(
        before.contains("rows migration.llm_usage_logs 1")
            && before.contains("column migration.crewai_flow_state_extensions.flow_id uuid"),
        "the snapshot reads the schema the seed is in:\n{before}"
    );

    let ran = desk.dry_run(TASK);
    ran.exits(0)
        .says("ran 2 statements in one transaction:")
        .says("1. (0 rows) ALTER TABLE crewai_flow_state_extensions\n       ADD COLUMN IF NOT EXISTS current_phase VARCHAR(50) DEFAULT 'discovery',\n")
        .says("2. (3 rows) INSERT INTO llm_usage_logs (id, model) SELECT id, 'dry run' FROM assets\n")
        .says("checks after the fix, inside the transaction: 7 of 7 checks pass")
        .says("proven: after this fix, 7 of 7 checks pass")
        .says("Rolled back: nothing was changed.");
    for id in CHECK_IDS {
        ran.says(&format!(
            "  pass {id}: column migration.crewai_flow_state_extensions."
        ));
    }

    assert_eq!(
        pg_snapshot(&url).await,
        before,
        "a dry run changed the database"
    );
    assert!(desk.events().is_empty(), "a dry run records nothing");
}

#[tokio::test]
async fn a_fix_its_checks_disprove_is_not_proven_and_not_applied() {
    let url = seed_database().await;
    let desk = Desk::new(&url, &plan_with_fix(&fix_with_varchar_100()));
    let before = pg_snapshot(&url).await;

    desk.dry_run(TASK)
        .exits(1)
        .says("checks after the fix, inside the transaction: 6 of 7 checks pass")
        .says("  fail current-phase: public.crewai_flow_state_extensions.current_phase: type is character varying(100), expected varchar(50)")
        .says("not proven: after this fix, 6 of 7 checks pass; current-phase fails:");

    desk.apply(TASK, "ana")
        .exits(1)
        .says("not applied: after this fix, 6 of 7 checks pass; current-phase fails:")
        .says("character varying(100)");
    assert_eq!(pg_snapshot(&url).await, before, "a disproved fix was kept");

    let failed = desk.events_of("apply_failed");
    assert_eq!(failed.len(), 1, "{failed:#?}");
    let event = &failed[0];
    assert_eq!(event["actor"], "ana");
    assert!(
        event["note"]
            .as_str()
            .unwrap()
            .contains("type is character varying(100)"),
        "{event:#}"
    );
    // It ran and was judged inside the transaction, not refused beforehand.
    assert_eq!(event["evidence"]["outcome"], "not_proven");
    assert_eq!(event["evidence"]["statements"].as_array().unwrap().len(), 1);
    assert!(desk.events_of("applied").is_empty());
}

#[tokio::test]
async fn a_failing_guard_refuses_the_dry_run_and_the_apply_before_anything_runs() {
    let url = seed_database().await;
    exec(
        &url,
        "INSERT INTO data_import_sessions (id, session_name)
         VALUES ('5e550000-0000-4000-8000-0000000000aa', 'still in use')",
    )
    .await;
    let desk = Desk::new(&url, &shipped_plan());
    let before = pg_snapshot(&url).await;
    let refusal = "refused, nothing ran: guard table-empty fails: 1 row in public.data_import_sessions, expected exactly 0";

    desk.dry_run("drop-data-import-sessions")
        .exits(1)
        .says(refusal)
        .never_says("ran 1 statement");
    desk.apply("drop-data-import-sessions", "ana")
        .exits(1)
        .says(refusal)
        .never_says("ran 1 statement");

    assert_eq!(
        pg_snapshot(&url).await,
        before,
        "a refused fix changed the database"
    );
    let failed = desk.events_of("apply_failed");
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["evidence"]["outcome"], "refused");
    assert_eq!(failed[0]["evidence"]["statements"], Value::Array(vec![]));
    assert!(
        failed[0]["note"]
            .as_str()
            .unwrap()
            .contains("guard table-empty fails")
    );
}

#[tokio::test]
async fn a_second_apply_while_one_runs_is_refused_naming_who_holds_it() {
    let url = seed_database().await;
    let desk = Desk::new(&url, &plan_with_fix(&slow_fix()));
    let ana = desk.spawn_apply(TASK, "ana", &[]);
    wait_for_sleeping_fix(&url).await;

    desk.apply(TASK, "bob")
        .exits(1)
        .says("refused, nothing ran: another fix of master-flow-columns is running on this database: ana is applying it");
    desk.fix(TASK, "carol", &["--dry-run"])
        .exits(1)
        .says("ana is applying it");

    ana.finish_within(Duration::from_secs(30))
        .exits(0)
        .says("applied: committed after 7 of 7 checks pass inside the transaction");
    assert_eq!(task_status(&desk.check(&url), TASK), "done");
    let events: Vec<(String, String)> = desk
        .events()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().into(),
                e["actor"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("apply_failed".into(), "bob".into()),
            ("applied".into(), "ana".into())
        ]
    );
}

#[tokio::test]
async fn an_apply_killed_mid_fix_leaves_the_database_as_it_was() {
    let url = seed_database().await;
    let desk = Desk::new(&url, &plan_with_fix(&slow_fix()));
    let before = pg_snapshot(&url).await;
    let mut ana = desk.spawn_apply(TASK, "ana", &[]);
    wait_for_sleeping_fix(&url).await;
    assert!(ana.running());

    let status = ana.kill_9();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    // The server notices the client is gone once the sleep ends; its locks go with the session.
    wait_for_no_fix_session(&url).await;

    assert_eq!(
        pg_snapshot(&url).await,
        before,
        "a killed apply left changes"
    );
}

#[tokio::test]
async fn a_connection_lost_mid_apply_is_reported_rolled_back_by_the_server() {
    let url = seed_database().await;
    let desk = Desk::new(&url, &plan_with_fix(&slow_fix()));
    let before = pg_snapshot(&url).await;
    let ana = desk.spawn_apply(TASK, "ana", &[]);
    let pid = wait_for_sleeping_fix(&url).await;

    exec(&url, &format!("SELECT pg_terminate_backend({pid})")).await;

    ana.finish_within(Duration::from_secs(30))
        .exits(1)
        // The ALTER ran; the sleep after it was cut off.
        .says("ran 1 statement in one transaction:")
        .says("not applied (rolled back by the server: the connection was lost before the commit")
        .never_says("unknown: recheck");
    wait_for_no_fix_session(&url).await;
    assert_eq!(pg_snapshot(&url).await, before, "a lost apply left changes");
    let failed = desk.events_of("apply_failed");
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["evidence"]["outcome"], "rolled_back");
    assert!(
        failed[0]["note"]
            .as_str()
            .unwrap()
            .starts_with("not applied (rolled back by the server")
    );
}

#[tokio::test]
async fn an_apply_needs_an_approval_by_someone_else_of_this_very_fix_text() {
    let url = seed_database().await;
    // The team's store, shared: on PostgreSQL, as a team keeps it.
    let store = cluster().fresh_database().await;
    let mut plan = shipped_plan();
    plan["fix_policy"] = serde_json::json!({ "approvals": 1 });
    let desk = Desk::sharing_store(&url, &plan, &store);
    let before = pg_snapshot(&url).await;
    let needs = "refused, nothing ran: needs 1 approval from someone other than ana; ";

    desk.apply(TASK, "ana")
        .exits(1)
        .says(&format!("{needs}none given yet"));
    let failed = desk.events_of("apply_failed");
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert!(
        failed[0]["note"]
            .as_str()
            .unwrap()
            .contains("needs 1 approval")
    );

    // Her own approval is recorded (it would count for another applier) but not for her.
    let mine = desk.fix(TASK, "ana", &["--approve", "--note", "looks right to me"]);
    mine.exits(0).says("proven:");
    assert!(mine.stderr.contains("ana's approval recorded"), "{mine}");
    desk.apply(TASK, "ana").exits(1).says(&format!(
        "{needs}only your own was given (you cannot approve your own fix)"
    ));

    desk.fix(TASK, "bob", &["--approve", "--note", "ok"])
        .exits(0);
    // The fix changes after bob approved it: his approval was for the text before.
    let commented = format!(
        "{}\nCOMMENT ON TABLE crewai_flow_state_extensions IS 'master flow';",
        fix_sql(&plan, TASK, "postgres")
    );
    set_fix_sql(&mut plan, TASK, "postgres", &commented);
    desk.write_plan(&plan);
    desk.apply(TASK, "ana").exits(1).says(&format!(
        "{needs}none given for this fix text (an approval given for the earlier text no longer counts)"
    ));
    assert_eq!(
        pg_snapshot(&url).await,
        before,
        "an unapproved apply changed the database"
    );

    desk.fix(
        TASK,
        "bob",
        &["--approve", "--note", "ok, with the comment"],
    )
    .exits(0);
    desk.apply(TASK, "ana")
        .exits(0)
        .says("applied: committed after 7 of 7 checks pass");
    let after = pg_snapshot(&url).await;
    assert!(
        after.contains("comment public.crewai_flow_state_extensions: master flow"),
        "the approved text is the one that ran:\n{after}"
    );
    let applied = desk.events_of("applied");
    assert_eq!(applied.len(), 1, "{applied:#?}");
    assert_eq!(
        applied[0]["evidence"]["approvers"],
        serde_json::json!(["bob"])
    );
    assert_eq!(desk.events_of("approved").len(), 3);
    assert_eq!(desk.events_of("apply_failed").len(), 3);
}

#[tokio::test]
async fn create_index_concurrently_is_refused_before_anything_runs() {
    let url = seed_database().await;
    let sql = format!(
        "{}\nCREATE INDEX CONCURRENTLY ix_flow_current_phase ON crewai_flow_state_extensions (current_phase);",
        fix_sql(&shipped_plan(), TASK, "postgres")
    );
    let desk = Desk::new(&url, &plan_with_fix(&sql));
    let before = pg_snapshot(&url).await;
    let refusal = "refused, nothing ran: statement 2 cannot be proven (CREATE INDEX CONCURRENTLY \
         ix_flow_current_phase ON crewai_flow_state_extensions): CREATE INDEX … CONCURRENTLY \
         cannot run inside a transaction";

    let dry = desk.fix(TASK, "ana", &["--dry-run", "--format", "json"]);
    dry.exits(1);
    let run = dry.json();
    assert_eq!(run["outcome"], "refused");
    assert!(
        run["reason"]
            .as_str()
            .unwrap()
            .contains("CONCURRENTLY cannot run inside a transaction"),
        "{run:#}"
    );
    assert_eq!(
        run["statements"],
        Value::Array(vec![]),
        "the ALTER before it did not run either"
    );
    assert_eq!(
        run["before"],
        Value::Null,
        "not even the transaction was begun"
    );
    desk.apply(TASK, "ana").exits(1).says(refusal);

    assert_eq!(pg_snapshot(&url).await, before);
}

#[tokio::test]
async fn the_log_shows_each_apply_with_its_sql_evidence_and_duration_and_never_the_password() {
    let db = seed_database().await;
    let name = db.rsplit('/').next().unwrap();
    // Any password gets in (trust); none may be printed or stored.
    let url = cluster().url_as("postgres", Some("s3cret-pw"), name);
    let desk = Desk::new(&url, &plan_with_fix(&fix_with_varchar_100()));
    desk.apply(TASK, "ana").exits(1);
    desk.write_plan(&shipped_plan());
    let applied = desk.apply(TASK, "ana");
    applied
        .exits(0)
        .says("checked again after the commit: 7 of 7 checks pass");

    let text = desk.log("text");
    let lines: Vec<&str> = text.stdout.lines().collect();
    // Newest first: the apply, then the failed one with its reason, each with its database.
    assert!(
        lines[0]
            .contains("  ana applied the fix to master-flow-columns (7 of 7 checks pass after, "),
        "{text}"
    );
    assert!(
        lines[1].trim_start().starts_with("on postgres://"),
        "{text}"
    );
    assert!(
        lines[2].contains(
            "  ana's apply of master-flow-columns failed: after this fix, 6 of 7 checks pass; current-phase fails:"
        ) && lines[2].contains("character varying(100)"),
        "{text}"
    );

    let json = desk.log("json");
    let events = json.json();
    let applied_event = &events[0];
    assert_eq!(applied_event["kind"], "applied");
    let evidence = &applied_event["evidence"];
    assert_eq!(evidence["sql"], fix_sql(&shipped_plan(), TASK, "postgres"));
    assert!(
        evidence["database"].as_str().unwrap().ends_with(name),
        "{evidence:#}"
    );
    for snapshot in ["dry_run", "after"] {
        let checks = evidence[snapshot]["checks"].as_array().unwrap();
        assert_eq!(checks.len(), 7, "{snapshot}: {evidence:#}");
        assert!(
            checks.iter().all(|c| c["status"] == "pass"),
            "{snapshot}: {evidence:#}"
        );
    }
    assert!(
        evidence["duration_ms"].as_u64().unwrap() > 0,
        "{evidence:#}"
    );
    let failed = &events[1];
    assert_eq!(failed["kind"], "apply_failed");
    assert!(
        failed["evidence"]["reason"]
            .as_str()
            .unwrap()
            .contains("character varying(100)")
    );
    assert_eq!(
        failed["evidence"]["after"],
        Value::Null,
        "nothing was committed to check again"
    );

    for said in [&applied.stdout, &applied.stderr, &text.stdout, &json.stdout] {
        assert!(
            !said.contains("s3cret-pw"),
            "the password was printed:\n{said}"
        );
    }
    let bytes = std::fs::read(&desk.store).unwrap();
    assert!(
        !bytes.windows(9).any(|w| w == b"s3cret-pw"),
        "the password was stored"
    );

    // What the log printed is what the store holds.
    let location = StoreLocation::parse(&desk.store);
    let store = Store::open_existing(&location).await.unwrap().unwrap();
    let kept: Vec<EventKind> = store
        .events(Some(TASK))
        .await
        .unwrap()
        .iter()
        .map(|event| event.kind)
        .collect();
    store.close().await;
    assert_eq!(kept, [EventKind::ApplyFailed, EventKind::Applied]);
}

#[tokio::test]
async fn the_seed_reports_own_sql_is_proven_and_the_models_varchar_100_is_flagged() {
    let url = seed_database().await;
    let before = pg_snapshot(&url).await;
    let seed = Desk::new(&url, &plan_with_fix(SEED_REPORT_SQL));
    seed.dry_run(TASK)
        .exits(0)
        .says("proven: after this fix, 7 of 7 checks pass");

    let as_the_model =
        SEED_REPORT_SQL.replace("current_phase VARCHAR(50)", "current_phase VARCHAR(100)");
    assert_ne!(as_the_model, SEED_REPORT_SQL);
    let model = Desk::new(&url, &plan_with_fix(&as_the_model));
    model
        .dry_run(TASK)
        .exits(1)
        .says("not proven: after this fix, 6 of 7 checks pass; current-phase fails: public.crewai_flow_state_extensions.current_phase: type is character varying(100), expected varchar(50)");
    assert_eq!(pg_snapshot(&url).await, before);
}
