//! Fix runs on PostgreSQL at their edges, each a way a fix could have been called proven (or a
//! dry run harmless) when it was not: a script that hides a COMMIT, a deferred constraint, a
//! guard that writes through a function, a write role resolving names elsewhere, a task with
//! nothing to prove it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use remtrack::demo::REALITY_SQL;
use serde_json::Value;
use support::fix::{Desk, set_fix_sql, shipped_plan};
use support::pg::{cluster, exec};
use support::snapshot::pg_snapshot;

const TASK: &str = "master-flow-columns";

async fn seed_database() -> String {
    let url = cluster().fresh_database().await;
    exec(&url, REALITY_SQL).await;
    url
}

fn plan_with_fix(sql: &str) -> Value {
    let mut plan = shipped_plan();
    set_fix_sql(&mut plan, TASK, "postgres", sql);
    plan
}

fn task_mut<'p>(plan: &'p mut Value, id: &str) -> &'p mut Value {
    plan["tasks"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|t| t["id"] == id)
        .unwrap()
}

#[tokio::test]
async fn a_commit_after_a_column_named_begin_never_commits_a_dry_run() {
    let url = seed_database().await;
    let before = pg_snapshot(&url).await;
    let fix = "CREATE TABLE periods (id int, begin date);\nCOMMIT;\nCREATE TABLE leaked (id int);";
    let desk = Desk::new(&url, &plan_with_fix(fix));
    let ran = desk.dry_run(TASK);
    ran.exits(1)
        .says("refused, nothing ran: statement 2 cannot be proven (COMMIT)");
    assert_eq!(
        pg_snapshot(&url).await,
        before,
        "a dry run changed the database"
    );
}

#[tokio::test]
async fn a_fix_that_breaks_a_deferred_constraint_is_not_proven_and_one_that_keeps_it_applies() {
    let url = seed_database().await;
    exec(
        &url,
        "CREATE TABLE parent (id int PRIMARY KEY);
         CREATE TABLE child (id int REFERENCES parent DEFERRABLE INITIALLY DEFERRED);",
    )
    .await;
    let shipped = support::fix::fix_sql(&shipped_plan(), TASK, "postgres");
    let before = pg_snapshot(&url).await;

    let orphan = format!("{shipped}\nINSERT INTO child VALUES (2);");
    let desk = Desk::new(&url, &plan_with_fix(&orphan));
    desk.dry_run(TASK)
        .exits(1)
        .says("a deferred constraint fails after the fix: insert or update on table \"child\" violates foreign key constraint");
    assert_eq!(pg_snapshot(&url).await, before);

    // A deferred constraint that holds must not stop the commit (the checks are read-only
    // only inside their savepoint; the deferred trigger runs read-write at COMMIT).
    let kept = format!("{shipped}\nINSERT INTO parent VALUES (1);\nINSERT INTO child VALUES (1);");
    let desk = Desk::new(&url, &plan_with_fix(&kept));
    desk.apply(TASK, "ana")
        .exits(0)
        .says("applied: committed after 7 of 7 checks pass");
}

#[tokio::test]
async fn a_guard_that_would_write_through_a_function_cannot_and_changes_nothing() {
    let url = seed_database().await;
    exec(
        &url,
        "CREATE SEQUENCE s;
         CREATE FUNCTION touch() RETURNS boolean LANGUAGE sql AS $$ SELECT nextval('s') > 0 $$;",
    )
    .await;
    let mut plan = shipped_plan();
    task_mut(&mut plan, TASK)["fix"]["guards"] =
        serde_json::json!([{ "id": "touches", "kind": "sql", "query": "SELECT touch()" }]);
    let desk = Desk::new(&url, &plan);
    for _ in 0..2 {
        desk.dry_run(TASK)
            .exits(1)
            .says("refused, nothing ran: guard touches errors:");
    }
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let called: bool = sqlx::query_scalar("SELECT is_called FROM s")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(!called, "a dry run's guard advanced the sequence");
}

#[tokio::test]
async fn a_write_role_that_resolves_names_elsewhere_is_refused() {
    let url = seed_database().await;
    let name = url.rsplit('/').next().unwrap().to_string();
    // The checker reads `migration` first, where the same table also exists; the write role
    // (the superuser here) resolves `crewai_flow_state_extensions` in public.
    exec(
        &url,
        &format!(
            "CREATE SCHEMA migration;
             CREATE TABLE migration.crewai_flow_state_extensions (id uuid);
             CREATE ROLE \"checker_{name}\" LOGIN;
             GRANT USAGE ON SCHEMA migration TO \"checker_{name}\";
             ALTER ROLE \"checker_{name}\" SET search_path = migration, public;"
        ),
    )
    .await;
    let checker = cluster().url_as(&format!("checker_{name}"), None, &name);
    let before = pg_snapshot(&url).await;
    let desk = Desk::new(&url, &shipped_plan());
    desk.fix(TASK, "ana", &["--apply", "--confirm", TASK, "--database-url", &checker])
        .exits(1)
        .says("refused, nothing ran: the write connection resolves names on search path public, the checks on migration, public");
    assert_eq!(pg_snapshot(&url).await, before);

    // The same search path for both: applied, and checked again through the checker.
    let mut plan = shipped_plan();
    plan["search_path"] = serde_json::json!(["public"]);
    let desk = Desk::new(&url, &plan);
    desk.fix(
        TASK,
        "ana",
        &["--apply", "--confirm", TASK, "--database-url", &checker],
    )
    .exits(0)
    .says("checked again on the checks' connection (")
    .says("7 of 7 checks pass");
}

#[tokio::test]
async fn a_task_without_checks_has_nothing_to_prove_its_fix() {
    let url = seed_database().await;
    let mut plan = shipped_plan();
    task_mut(&mut plan, TASK)["checks"] = serde_json::json!([]);
    let desk = Desk::new(&url, &plan);
    let before = pg_snapshot(&url).await;
    desk.apply(TASK, "ana")
        .exits(1)
        .says("refused, nothing ran: task master-flow-columns has no checks, so nothing can prove its fix");
    assert_eq!(pg_snapshot(&url).await, before);
}
