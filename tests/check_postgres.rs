//! The live check engine against a real PostgreSQL: every check kind passing, failing and
//! erroring; spellings of types and defaults; near misses; writes, locks and permissions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use remtrack::check::{CheckStatus, Limits, Target, Verdict, refresh};
use serde_json::json;
use support::checks::{assert_verdict, plan_of, verdicts_by_id};
use support::pg::{cluster, exec};

const SCHEMA: &str = r#"
CREATE TABLE flows (
    id uuid PRIMARY KEY,
    current_phase varchar(50) DEFAULT 'discovery',
    phase_progression jsonb DEFAULT '{}',
    wrong_default jsonb DEFAULT '[]',
    counter integer NOT NULL DEFAULT 0,
    created_at timestamptz DEFAULT now(),
    flag boolean DEFAULT false,
    label text,
    amount numeric(10,2)
);
CREATE INDEX ix_flows_phase_created ON flows (current_phase, created_at);
CREATE TABLE empty_legacy (id int);
CREATE TABLE three_rows (id int);
INSERT INTO three_rows VALUES (1), (2), (3);
CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
INSERT INTO alembic_version VALUES ('head_a'), ('head_b');
CREATE SCHEMA legacy;
CREATE TABLE legacy.only_elsewhere (id int);
CREATE VIEW looks_like_table AS SELECT 1 AS id;
CREATE TABLE "MixedCase" (id int);
CREATE TABLE parted (id int, at date) PARTITION BY RANGE (at);
CREATE SEQUENCE some_seq;
"#;

async fn database() -> String {
    let url = cluster().fresh_database().await;
    exec(&url, SCHEMA).await;
    url
}

async fn run(url: &str, checks: serde_json::Value) -> std::collections::HashMap<String, Verdict> {
    let plan = plan_of(checks);
    let target = Target::open(url, Limits::default()).unwrap();
    let refreshed = refresh(&plan, &target).await.unwrap();
    target.close().await;
    verdicts_by_id(&plan, &refreshed.verdicts)
}

#[tokio::test]
async fn tables_exist_or_not_and_views_and_other_schemas_do_not_count() {
    let url = database().await;
    let v = run(&url, json!([
        { "id": "exists", "kind": "table_exists", "table": "flows" },
        { "id": "partitioned", "kind": "table_exists", "table": "parted" },
        { "id": "missing", "kind": "table_exists", "table": "nope" },
        { "id": "view", "kind": "table_exists", "table": "looks_like_table" },
        { "id": "elsewhere", "kind": "table_exists", "table": "only_elsewhere" },
        { "id": "in-schema", "kind": "table_exists", "table": "only_elsewhere", "schema": "legacy" },
        { "id": "case", "kind": "table_exists", "table": "mixedcase" },
        { "id": "absent", "kind": "table_absent", "table": "nope" },
        { "id": "absent-view", "kind": "table_absent", "table": "looks_like_table" },
        { "id": "still-there", "kind": "table_absent", "table": "three_rows" }
    ])).await;
    assert_verdict(&v, "exists", CheckStatus::Pass, "table public.flows exists");
    assert_verdict(
        &v,
        "partitioned",
        CheckStatus::Pass,
        "partitioned table public.parted exists",
    );
    assert_verdict(
        &v,
        "missing",
        CheckStatus::Fail,
        "no table nope on the search path (public)",
    );
    assert_verdict(
        &v,
        "view",
        CheckStatus::Fail,
        "looks_like_table is the view public.looks_like_table, not a table",
    );
    assert_verdict(
        &v,
        "elsewhere",
        CheckStatus::Fail,
        "a table legacy.only_elsewhere exists outside the search path",
    );
    assert_verdict(
        &v,
        "in-schema",
        CheckStatus::Pass,
        "legacy.only_elsewhere exists",
    );
    assert_verdict(
        &v,
        "case",
        CheckStatus::Fail,
        "a table public.MixedCase exists (names are case-sensitive)",
    );
    assert_verdict(
        &v,
        "absent",
        CheckStatus::Pass,
        "no nope on the search path (public)",
    );
    assert_verdict(
        &v,
        "absent-view",
        CheckStatus::Fail,
        "no table, but looks_like_table still names the view public.looks_like_table",
    );
    assert_verdict(
        &v,
        "still-there",
        CheckStatus::Fail,
        "table public.three_rows still exists with 3 rows",
    );
}

#[tokio::test]
async fn column_types_and_defaults_compare_by_meaning() {
    let url = database().await;
    let v = run(&url, json!([
        { "id": "varchar", "kind": "column_exists", "table": "flows", "column": "current_phase", "type": "VARCHAR(50)", "default": "'discovery'" },
        { "id": "spelled-out", "kind": "column_exists", "table": "flows", "column": "current_phase", "type": "character varying(50)", "default": "'discovery'::character varying" },
        { "id": "jsonb", "kind": "column_exists", "table": "flows", "column": "phase_progression", "type": "jsonb", "default": "'{}'" },
        { "id": "int", "kind": "column_exists", "table": "flows", "column": "counter", "type": "int4", "default": "0", "nullable": false },
        { "id": "tz", "kind": "column_exists", "table": "flows", "column": "created_at", "type": "timestamptz", "default": "CURRENT_TIMESTAMP" },
        { "id": "bool", "kind": "column_exists", "table": "flows", "column": "flag", "type": "bool", "default": "FALSE" },
        { "id": "numeric", "kind": "column_exists", "table": "flows", "column": "amount", "type": "decimal(10, 2)" },
        { "id": "wrong-type", "kind": "column_exists", "table": "flows", "column": "label", "type": "varchar(50)" },
        { "id": "wrong-default", "kind": "column_exists", "table": "flows", "column": "wrong_default", "default": "'{}'" },
        { "id": "no-default", "kind": "column_exists", "table": "flows", "column": "label", "default": "'x'" },
        { "id": "wrong-null", "kind": "column_exists", "table": "flows", "column": "label", "nullable": false },
        { "id": "missing", "kind": "column_exists", "table": "flows", "column": "cross_phase_context" },
        { "id": "no-table", "kind": "column_exists", "table": "nope", "column": "x" },
        { "id": "absent", "kind": "column_absent", "table": "flows", "column": "session_id" },
        { "id": "present", "kind": "column_absent", "table": "flows", "column": "label" }
    ])).await;
    for id in [
        "varchar",
        "spelled-out",
        "jsonb",
        "int",
        "tz",
        "bool",
        "numeric",
        "absent",
    ] {
        assert_verdict(&v, id, CheckStatus::Pass, "");
    }
    assert_verdict(
        &v,
        "wrong-type",
        CheckStatus::Fail,
        "type is text, expected varchar(50)",
    );
    assert_verdict(
        &v,
        "wrong-default",
        CheckStatus::Fail,
        "default is '[]'::jsonb, expected '{}'",
    );
    assert_verdict(
        &v,
        "no-default",
        CheckStatus::Fail,
        "no default, expected 'x'",
    );
    assert_verdict(
        &v,
        "wrong-null",
        CheckStatus::Fail,
        "column is nullable, expected NOT NULL",
    );
    assert_verdict(
        &v,
        "missing",
        CheckStatus::Fail,
        "column cross_phase_context missing from public.flows",
    );
    assert_verdict(
        &v,
        "no-table",
        CheckStatus::Fail,
        "no table nope on the search path (public)",
    );
    assert_verdict(
        &v,
        "present",
        CheckStatus::Fail,
        "column label still exists in public.flows (text)",
    );
}

#[tokio::test]
async fn indexes_row_counts_and_migration_versions() {
    let url = database().await;
    let v = run(&url, json!([
        { "id": "by-columns", "kind": "index_exists", "table": "flows", "columns": ["current_phase"] },
        { "id": "by-both-columns", "kind": "index_exists", "table": "flows", "columns": ["current_phase", "created_at"] },
        { "id": "by-name", "kind": "index_exists", "table": "flows", "name": "ix_flows_phase_created" },
        { "id": "not-leading", "kind": "index_exists", "table": "flows", "columns": ["created_at"] },
        { "id": "empty", "kind": "row_count", "table": "empty_legacy", "equals": 0 },
        { "id": "too-many", "kind": "row_count", "table": "three_rows", "at_most": 0 },
        { "id": "enough", "kind": "row_count", "table": "three_rows", "at_least": 2, "at_most": 3 },
        { "id": "count-missing", "kind": "row_count", "table": "nope", "equals": 0 },
        { "id": "head-b", "kind": "migration_version", "revision": "head_b" },
        { "id": "old", "kind": "migration_version", "revision": "c85140124625" },
        { "id": "no-alembic", "kind": "migration_version", "revision": "x", "table": "nope_version" }
    ])).await;
    assert_verdict(
        &v,
        "by-columns",
        CheckStatus::Pass,
        "ix_flows_phase_created (current_phase, created_at)",
    );
    assert_verdict(&v, "by-both-columns", CheckStatus::Pass, "");
    assert_verdict(&v, "by-name", CheckStatus::Pass, "");
    assert_verdict(
        &v,
        "not-leading",
        CheckStatus::Fail,
        "no index on public.flows leading with (created_at); indexes: flows_pkey (id), ix_flows_phase_created",
    );
    assert_verdict(
        &v,
        "empty",
        CheckStatus::Pass,
        "0 rows in public.empty_legacy",
    );
    assert_verdict(
        &v,
        "too-many",
        CheckStatus::Fail,
        "3 rows in public.three_rows, expected at most 0",
    );
    assert_verdict(&v, "enough", CheckStatus::Pass, "3 rows");
    assert_verdict(
        &v,
        "count-missing",
        CheckStatus::Error,
        "cannot count rows: no table nope on the search path (public)",
    );
    assert_verdict(
        &v,
        "head-b",
        CheckStatus::Pass,
        "revision head_b applied (public.alembic_version: head_a, head_b)",
    );
    assert_verdict(
        &v,
        "old",
        CheckStatus::Fail,
        "revision c85140124625 not applied; public.alembic_version holds head_a, head_b",
    );
    assert_verdict(
        &v,
        "no-alembic",
        CheckStatus::Fail,
        "no table nope_version on the search path (public)",
    );
}

#[tokio::test]
async fn sql_checks_pass_fail_and_error() {
    let url = database().await;
    let v = run(&url, json!([
        { "id": "true", "kind": "sql", "query": "SELECT count(*) = 3 FROM three_rows" },
        { "id": "number", "kind": "sql", "query": "SELECT count(*) FROM three_rows", "expect": 3 },
        { "id": "text", "kind": "sql", "query": { "postgres": "SELECT 'a' || 'b'", "sqlite": "SELECT 'x'" }, "expect": "ab" },
        { "id": "false", "kind": "sql", "query": "SELECT count(*) = 0 FROM three_rows -- trailing comment" },
        { "id": "bad", "kind": "sql", "query": "SELECT * FROM no_such_table" },
        { "id": "two-columns", "kind": "sql", "query": "SELECT 1, 2" },
        { "id": "no-rows", "kind": "sql", "query": "SELECT 1 WHERE false" },
        { "id": "many-rows", "kind": "sql", "query": "SELECT id FROM three_rows" },
        { "id": "only-sqlite", "kind": "sql", "query": { "sqlite": "SELECT 1" } },
        { "id": "slow", "kind": "sql", "query": "SELECT pg_sleep(30) IS NULL" }
    ])).await;
    assert_verdict(&v, "true", CheckStatus::Pass, "returned true");
    assert_verdict(&v, "number", CheckStatus::Pass, "returned 3");
    assert_verdict(&v, "text", CheckStatus::Pass, "returned 'ab'");
    assert_verdict(
        &v,
        "false",
        CheckStatus::Fail,
        "returned false, expected true",
    );
    assert_verdict(
        &v,
        "bad",
        CheckStatus::Error,
        "relation \"no_such_table\" does not exist",
    );
    assert_verdict(
        &v,
        "two-columns",
        CheckStatus::Error,
        "returned 2 columns, expected one",
    );
    assert_verdict(&v, "no-rows", CheckStatus::Error, "returned no rows");
    assert_verdict(&v, "many-rows", CheckStatus::Error, "more than one row");
    assert_verdict(
        &v,
        "only-sqlite",
        CheckStatus::Error,
        "no query for postgres",
    );
    assert_verdict(&v, "slow", CheckStatus::Error, "timed out after 5 s");
}

/// A cheap fingerprint of everything a check could change: relations, columns, row counts, sequences.
async fn fingerprint(url: &str) -> String {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT format('%s.%s %s %s', n.nspname, c.relname, c.relkind,
                (SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ',' ORDER BY attnum)
                   FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped))
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
          ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let counts: (i64, i64, i64, bool, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM three_rows), (SELECT count(*) FROM empty_legacy),
                (SELECT count(*) FROM pg_largeobject_metadata), (SELECT is_called FROM some_seq),
                (SELECT count(*) FROM pg_roles)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    format!("{rows:?} {counts:?}")
}

#[tokio::test]
async fn sql_checks_that_try_to_write_get_an_error_and_change_nothing() {
    let url = database().await;
    let before = fingerprint(&url).await;
    let checks = json!([
        { "id": "insert", "kind": "sql", "query": "WITH x AS (INSERT INTO three_rows VALUES (4) RETURNING 1) SELECT true" },
        { "id": "update", "kind": "sql", "query": "UPDATE three_rows SET id = 0 RETURNING true" },
        { "id": "drop", "kind": "sql", "query": "DROP TABLE three_rows" },
        { "id": "create", "kind": "sql", "query": "CREATE TABLE sneaky (id int)" },
        { "id": "set-role", "kind": "sql", "query": "SET ROLE postgres" },
        { "id": "multi", "kind": "sql", "query": "SELECT true; DELETE FROM three_rows" },
        { "id": "terminate", "kind": "sql", "query": "SELECT pg_terminate_backend(pg_backend_pid())" },
        { "id": "nextval", "kind": "sql", "query": "SELECT nextval('some_seq') > 0" },
        { "id": "lo-create", "kind": "sql", "query": "SELECT lo_create(0) > 0" },
        { "id": "copy", "kind": "sql", "query": "COPY three_rows TO STDOUT" },
        { "id": "select-into", "kind": "sql", "query": "SELECT * INTO copied FROM three_rows" }
    ]);
    // `plan validate` refuses every one of them but the last, which only PostgreSQL can tell...
    let plan = json!({
        "version": 1, "title": "t",
        "days": [{ "day": 1, "title": "D" }], "phases": [{ "id": "p", "title": "P" }],
        "tasks": [{ "id": "t", "title": "T", "day": 1, "phase": "p", "priority": "high", "checks": checks }]
    });
    let problems = remtrack::plan::validate_value(&plan);
    assert_eq!(problems.len(), 10, "{problems:#?}");
    // ...and the engine refuses them all the same, should a plan ever reach it unvalidated.
    let unvalidated = support::checks::plan_unvalidated(checks);
    let target = Target::open(&url, Limits::default()).unwrap();
    let refreshed = refresh(&unvalidated, &target).await.unwrap();
    target.close().await;
    let v = verdicts_by_id(&unvalidated, &refreshed.verdicts);
    for (id, verdict) in &v {
        assert_eq!(
            verdict.status,
            CheckStatus::Error,
            "{id} should be an error: {verdict:?}"
        );
    }
    assert_verdict(
        &v,
        "multi",
        CheckStatus::Error,
        "multi-statement query rejected",
    );
    assert_verdict(&v, "terminate", CheckStatus::Error, "pg_terminate_backend");
    assert_verdict(&v, "nextval", CheckStatus::Error, "nextval");
    assert_eq!(fingerprint(&url).await, before, "the database changed");
}

#[tokio::test]
async fn a_least_privilege_role_gets_permission_errors_only_where_it_cannot_read() {
    let url = database().await;
    exec(&url, "CREATE ROLE reader LOGIN; GRANT USAGE ON SCHEMA public TO reader; GRANT SELECT ON three_rows TO reader;").await;
    let reader_url = url.replacen("postgres://postgres@", "postgres://reader@", 1);
    let v = run(&reader_url, json!([
        { "id": "schema-fact", "kind": "column_exists", "table": "flows", "column": "current_phase", "type": "varchar(50)" },
        { "id": "readable", "kind": "row_count", "table": "three_rows", "equals": 3 },
        { "id": "unreadable", "kind": "row_count", "table": "empty_legacy", "equals": 0 },
        { "id": "sql-unreadable", "kind": "sql", "query": "SELECT count(*) = 0 FROM empty_legacy" },
        { "id": "migration", "kind": "migration_version", "revision": "head_a" }
    ])).await;
    assert_verdict(&v, "schema-fact", CheckStatus::Pass, "");
    assert_verdict(&v, "readable", CheckStatus::Pass, "3 rows");
    assert_verdict(
        &v,
        "unreadable",
        CheckStatus::Error,
        "permission denied for table public.empty_legacy",
    );
    assert_verdict(
        &v,
        "sql-unreadable",
        CheckStatus::Error,
        "permission denied for table empty_legacy",
    );
    assert_verdict(
        &v,
        "migration",
        CheckStatus::Error,
        "permission denied for table public.alembic_version",
    );
}

#[tokio::test]
async fn a_locked_table_times_out_its_own_checks_and_the_rest_complete() {
    let url = database().await;
    let holder = sqlx::PgPool::connect(&url).await.unwrap();
    let mut tx = holder.begin().await.unwrap();
    sqlx::query("LOCK TABLE three_rows IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await
        .unwrap();
    let v = run(
        &url,
        json!([
            { "id": "locked", "kind": "row_count", "table": "three_rows", "equals": 3 },
            { "id": "other", "kind": "row_count", "table": "empty_legacy", "equals": 0 },
            { "id": "schema", "kind": "table_exists", "table": "three_rows" }
        ]),
    )
    .await;
    tx.rollback().await.unwrap();
    holder.close().await;
    assert_verdict(
        &v,
        "locked",
        CheckStatus::Error,
        "timed out after 1 s waiting for a lock",
    );
    assert_verdict(&v, "other", CheckStatus::Pass, "0 rows");
    assert_verdict(&v, "schema", CheckStatus::Pass, "");
}

#[tokio::test]
async fn an_unreachable_database_is_an_error_for_the_whole_refresh() {
    let plan = plan_of(json!([{ "id": "t", "kind": "table_exists", "table": "x" }]));
    let limits = Limits {
        connect_timeout: std::time::Duration::from_secs(2),
        ..Limits::default()
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target =
        Target::open(&format!("postgres://u:hunter2@127.0.0.1:{port}/db"), limits).unwrap();
    let error = refresh(&plan, &target).await.unwrap_err().to_string();
    assert!(
        error.starts_with(&format!(
            "cannot reach postgres://u:***@127.0.0.1:{port}/db"
        )),
        "{error}"
    );
    assert!(!error.contains("hunter2"));
}

#[tokio::test]
async fn sql_checks_share_one_statement_and_a_failing_one_costs_only_its_own_verdict() {
    let url = database().await;
    let target = Target::open(&url, Limits::default()).unwrap();
    let healthy = plan_of(json!([
        { "id": "a", "kind": "sql", "query": "SELECT count(*) = 3 FROM three_rows" },
        { "id": "b", "kind": "sql", "query": "SELECT 'x'", "expect": "x" },
        { "id": "c", "kind": "sql", "query": "SELECT 2 + 2", "expect": 4 }
    ]));
    let refreshed = refresh(&healthy, &target).await.unwrap();
    assert!(
        refreshed.verdicts.tasks[0]
            .checks
            .iter()
            .all(|v| v.status == CheckStatus::Pass),
        "{:?}",
        refreshed.verdicts
    );
    assert_eq!(
        refreshed.queries, 2,
        "the catalog, then the three checks at once"
    );

    let one_broken = plan_of(json!([
        { "id": "a", "kind": "sql", "query": "SELECT count(*) = 3 FROM three_rows" },
        { "id": "broken", "kind": "sql", "query": "SELECT 1 / 0 = 1" },
        { "id": "c", "kind": "sql", "query": "SELECT 2 + 2", "expect": 4 }
    ]));
    let refreshed = refresh(&one_broken, &target).await.unwrap();
    let v = verdicts_by_id(&one_broken, &refreshed.verdicts);
    target.close().await;
    assert_eq!(v["a"].status, CheckStatus::Pass);
    assert_eq!(v["c"].status, CheckStatus::Pass);
    assert_verdict(&v, "broken", CheckStatus::Error, "division by zero");
    assert_eq!(
        refreshed.queries, 5,
        "the catalog, the failed shared statement, then each check alone"
    );
}

#[tokio::test]
async fn a_server_that_refuses_the_connection_is_not_retried_until_asked() {
    use remtrack::engine::{Engine, EngineRequest, EngineUpdate};
    use std::sync::Arc;
    use std::time::Duration;

    let url = cluster().url("no_such_database");
    let target = Target::open(&url, Limits::default()).unwrap();
    let plan = plan_of(json!([{ "id": "t", "kind": "table_exists", "table": "flows" }]));
    let engine = Engine::spawn(
        Arc::new(plan),
        target,
        Arc::new(remtrack::check::CodeSource::unset()),
        Duration::from_millis(200),
    );
    let mut view = engine.attach();
    let finished = loop {
        match tokio::time::timeout(Duration::from_secs(10), view.updates.recv()).await {
            Ok(Ok(EngineUpdate::RefreshFinished { outcome, .. })) => break outcome,
            Ok(Ok(_)) => continue,
            other => panic!("no refresh finished: {other:?}"),
        }
    };
    let error = finished
        .as_ref()
        .as_ref()
        .expect_err("the database does not exist");
    assert!(error.is_refused(), "{error}");
    assert!(
        error
            .to_string()
            .contains("refused the connection: database \"no_such_database\" does not exist"),
        "{error}"
    );

    // Nothing by itself, although the interval is 200 ms and backoff would retry within 1 s.
    let quiet = tokio::time::timeout(Duration::from_secs(2), view.updates.recv()).await;
    assert!(quiet.is_err(), "retried by itself: {quiet:?}");

    view.requests.send(EngineRequest::RefreshNow).await.unwrap();
    let asked = tokio::time::timeout(Duration::from_secs(5), view.updates.recv()).await;
    assert!(
        matches!(asked, Ok(Ok(EngineUpdate::RefreshStarted { .. }))),
        "{asked:?}"
    );
}

#[tokio::test]
async fn an_index_left_invalid_by_a_failed_concurrent_build_does_not_count() {
    use sqlx::Connection as _;
    let url = database().await;
    exec(
        &url,
        "CREATE TABLE dup (x int); INSERT INTO dup VALUES (1), (1);",
    )
    .await;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let failed = sqlx::query("CREATE UNIQUE INDEX CONCURRENTLY ix_dup_x ON dup (x)")
        .execute(&mut conn)
        .await;
    assert!(failed.is_err(), "the duplicate makes the build fail");
    conn.close().await.unwrap();
    let v = run(
        &url,
        json!([
            { "id": "by-name", "kind": "index_exists", "table": "dup", "name": "ix_dup_x" },
            { "id": "by-columns", "kind": "index_exists", "table": "dup", "columns": ["x"] }
        ]),
    )
    .await;
    assert_verdict(&v, "by-name", CheckStatus::Fail, "is INVALID");
    assert_verdict(&v, "by-columns", CheckStatus::Fail, "is INVALID");
}

/// An Alembic versions folder: a base, a three-parent merge, a labelled branch another one
/// depends on, and a second head never applied.
fn alembic_tree(root: &std::path::Path) {
    let versions = root.join("app/alembic/versions");
    std::fs::create_dir_all(&versions).unwrap();
    for (name, text) in [
        (
            "a.py",
            "\"\"\"base\n\nrevision = 'docstring'\n\"\"\"\nrevision = 'a'\ndown_revision = None\n",
        ),
        (
            "b.py",
            "revision: str = 'b'\ndown_revision: Union[str, None] = 'a'\n",
        ),
        (
            "c.py",
            "revision = 'c'\ndown_revision = 'a'\nbranch_labels = ('reports',)\n",
        ),
        ("d.py", "revision = 'd'\ndown_revision = 'a'\n"),
        ("m.py", "revision = 'm'\ndown_revision = ('b', 'c', 'd')\n"),
        (
            "n.py",
            "revision = 'n'\ndown_revision = 'm'  # the applied head\n",
        ),
        (
            "x.py",
            "revision = 'x'\ndown_revision = 'a'\ndepends_on = 'reports'\n",
        ),
    ] {
        std::fs::write(versions.join(name), text).unwrap();
    }
}

async fn run_with_code(
    url: &str,
    root: &std::path::Path,
    checks: serde_json::Value,
) -> std::collections::HashMap<String, Verdict> {
    let plan = plan_of(checks);
    let target = Target::open(url, Limits::default()).unwrap();
    let code = std::sync::Arc::new(remtrack::check::CodeSource::new(
        root.to_path_buf(),
        vec![],
        remtrack::check::CodeLimits::default(),
    ));
    let refreshed = remtrack::check::refresh_with(&plan, &target, &code)
        .await
        .unwrap();
    target.close().await;
    verdicts_by_id(&plan, &refreshed.verdicts)
}

#[tokio::test]
async fn migration_files_against_the_registry_pending_heads_unknown_rows_and_ancestors() {
    let url = cluster().fresh_database().await;
    exec(
        &url,
        "CREATE SCHEMA ops; CREATE TABLE ops.alembic_version (version_num varchar(32) PRIMARY KEY);
         INSERT INTO ops.alembic_version VALUES ('n');
         CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
         INSERT INTO alembic_version VALUES ('n'), ('x'), ('zz_from_a_deleted_file');
         CREATE TABLE empty_registry (version_num varchar(32));",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    alembic_tree(dir.path());
    let versions = "app/alembic/versions";
    let verdicts = run_with_code(
        &url,
        dir.path(),
        json!([
            { "id": "ops", "kind": "migrations_applied", "tool": "alembic", "dir": versions, "schema": "ops" },
            { "id": "all", "kind": "migrations_applied", "tool": "alembic", "dir": versions },
            { "id": "empty", "kind": "migrations_applied", "tool": "alembic", "dir": versions, "table": "empty_registry" },
            { "id": "none", "kind": "migrations_applied", "tool": "alembic", "dir": versions, "table": "no_registry" },
            { "id": "ancestor", "kind": "migration_version", "revision": "b", "dir": versions, "schema": "ops" },
            { "id": "not-after", "kind": "migration_version", "revision": "x", "dir": versions, "schema": "ops" },
            { "id": "no-dir", "kind": "migration_version", "revision": "b", "schema": "ops" },
            { "id": "unknown-rev", "kind": "migration_version", "revision": "q", "dir": versions }
        ]),
    )
    .await;
    // ops records only `n`: everything under it (through the merge) is applied; x and the
    // label it depends on are not all there: x is a second head, pending.
    assert_verdict(
        &verdicts,
        "ops",
        CheckStatus::Fail,
        "1 of 7 revisions not applied: x (head) app/alembic/versions/x.py · database at n; the files have 2 heads: n, x",
    );
    // public records both heads and one revision no file knows.
    assert_verdict(
        &verdicts,
        "all",
        CheckStatus::Fail,
        "zz_from_a_deleted_file recorded in public.alembic_version but not in the files",
    );
    assert!(
        !verdicts["all"].evidence.contains("not applied"),
        "{:?}",
        verdicts["all"]
    );
    assert_verdict(
        &verdicts,
        "empty",
        CheckStatus::Fail,
        "7 of 7 revisions not applied: a ",
    );
    assert_verdict(
        &verdicts,
        "none",
        CheckStatus::Fail,
        "none of the 7 revisions is applied",
    );
    // With the files, a revision past which the database has migrated is applied.
    assert_verdict(
        &verdicts,
        "ancestor",
        CheckStatus::Pass,
        "revision b applied: ops.alembic_version records n, which comes after it",
    );
    assert_verdict(
        &verdicts,
        "not-after",
        CheckStatus::Fail,
        "does not come after it",
    );
    // Without them, Alembic's head-only table says no (as the README warns).
    assert_verdict(
        &verdicts,
        "no-dir",
        CheckStatus::Fail,
        "revision b not applied",
    );
    assert_verdict(
        &verdicts,
        "unknown-rev",
        CheckStatus::Error,
        "revision q is not among the files",
    );

    // Every file applied: a pass.
    exec(&url, "INSERT INTO ops.alembic_version VALUES ('x')").await;
    let verdicts = run_with_code(
        &url,
        dir.path(),
        json!([{ "id": "ops", "kind": "migrations_applied", "tool": "alembic", "dir": versions, "schema": "ops" }]),
    )
    .await;
    assert_verdict(
        &verdicts,
        "ops",
        CheckStatus::Pass,
        "all 7 revisions applied · database at n, x",
    );

    // A revision that is not a literal: an error naming the file and line, never a guess.
    std::fs::write(
        dir.path().join(versions).join("y.py"),
        "REV = 'y'\nrevision = REV\ndown_revision = 'x'\n",
    )
    .unwrap();
    let verdicts = run_with_code(
        &url,
        dir.path(),
        json!([{ "id": "ops", "kind": "migrations_applied", "tool": "alembic", "dir": versions, "schema": "ops" }]),
    )
    .await;
    assert_verdict(
        &verdicts,
        "ops",
        CheckStatus::Error,
        "app/alembic/versions/y.py:2: revision = REV is not a literal",
    );
}

#[tokio::test]
async fn columns_unreferenced_reads_the_database_for_what_is_left_and_the_code_for_who_reads_it() {
    let url = cluster().fresh_database().await;
    exec(
        &url,
        "CREATE TABLE assets (id int, session_id uuid, legacy_flag boolean, user_session_id int);
         CREATE VIEW assets_view AS SELECT id, session_id FROM assets;",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("app/models")).unwrap();
    std::fs::create_dir_all(root.join("app/tests")).unwrap();
    std::fs::write(
        root.join("app/models/asset.py"),
        "class Asset:\n    session_id = Column(UUID)\n    user_session_id = Column(Integer)\n",
    )
    .unwrap();
    std::fs::write(
        root.join("app/tests/test_old.py"),
        "assert row.legacy_flag\n",
    )
    .unwrap();
    let verdicts = run_with_code(
        &url,
        root,
        json!([
            { "id": "drop", "kind": "columns_unreferenced", "table": "assets",
              "columns": ["legacy_flag", "gone_already"], "paths": ["app/**"], "exclude": ["app/tests/**"] },
            { "id": "still", "kind": "columns_unreferenced", "table": "assets",
              "columns": ["session_id", "legacy_flag"], "paths": ["app/**"] },
            { "id": "no-table", "kind": "columns_unreferenced", "table": "dropped_table", "columns": ["x"] },
            { "id": "view", "kind": "columns_unreferenced", "table": "assets_view", "columns": ["session_id"], "paths": ["app/**"] }
        ]),
    )
    .await;
    assert_verdict(
        &verdicts,
        "drop",
        CheckStatus::Pass,
        "public.assets.legacy_flag referenced nowhere in 1 file: safe to drop · already gone from the database: public.assets.gone_already",
    );
    // A whole word: user_session_id does not count for session_id; the tests folder does here.
    assert_verdict(
        &verdicts,
        "still",
        CheckStatus::Fail,
        "public.assets.session_id still referenced in 1 place in 1 file (first app/models/asset.py:2); public.assets.legacy_flag still referenced in 1 place in 1 file (first app/tests/test_old.py:1)",
    );
    assert_verdict(
        &verdicts,
        "no-table",
        CheckStatus::Pass,
        "nothing left to drop: nothing named dropped_table on the search path (public)",
    );
    // A view still showing the column is not "nothing left": it is judged as a table is.
    assert_verdict(
        &verdicts,
        "view",
        CheckStatus::Fail,
        "public.assets_view.session_id still referenced",
    );
}

#[tokio::test]
async fn golang_migrate_versions_against_its_one_row_dirty_or_behind_or_ahead() {
    let url = cluster().fresh_database().await;
    exec(
        &url,
        "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
         INSERT INTO schema_migrations VALUES (20240110120000, false);",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("db/migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    for name in [
        "20240101000000_create_users.up.sql",
        "20240101000000_create_users.down.sql",
        "20240110120000_add_flow_id.up.sql",
        "20240110120000_add_flow_id.down.sql",
        "20240201090000_drop_session_id.up.sql",
        "20240201090000_drop_session_id.down.sql",
        "README.md",
    ] {
        std::fs::write(migrations.join(name), "-- sql\n").unwrap();
    }
    let check = json!([{ "id": "g", "kind": "migrations_applied", "tool": "golang-migrate", "dir": "db/migrations" }]);
    let verdicts = run_with_code(&url, dir.path(), check.clone()).await;
    assert_verdict(
        &verdicts,
        "g",
        CheckStatus::Fail,
        "1 of 3 migrations not applied: db/migrations/20240201090000_drop_session_id.up.sql · database at version 20240110120000",
    );

    exec(
        &url,
        "UPDATE schema_migrations SET version = 20240201090000, dirty = true",
    )
    .await;
    let verdicts = run_with_code(&url, dir.path(), check.clone()).await;
    assert_verdict(
        &verdicts,
        "g",
        CheckStatus::Fail,
        "public.schema_migrations is dirty at version 20240201090000",
    );

    exec(&url, "UPDATE schema_migrations SET dirty = false").await;
    let verdicts = run_with_code(&url, dir.path(), check.clone()).await;
    assert_verdict(
        &verdicts,
        "g",
        CheckStatus::Pass,
        "all 3 migrations applied · database at version 20240201090000",
    );

    exec(
        &url,
        "UPDATE schema_migrations SET version = 20250101000000",
    )
    .await;
    let verdicts = run_with_code(&url, dir.path(), check).await;
    assert_verdict(
        &verdicts,
        "g",
        CheckStatus::Fail,
        "records version 20250101000000, which no file in db/migrations has",
    );
}

#[tokio::test]
async fn flyway_history_against_its_files_pending_changed_failed_repeatable_and_baseline() {
    let url = cluster().fresh_database().await;
    // Flyway's own history table.
    exec(
        &url,
        r#"CREATE TABLE flyway_schema_history (
             installed_rank integer PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL,
             type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum integer,
             installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(),
             execution_time integer NOT NULL, success boolean NOT NULL);
           INSERT INTO flyway_schema_history VALUES
             (1, '1', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'ana', now(), 0, true),
             (2, '1.1', 'add flow id', 'SQL', 'V1_1__add_flow_id.sql', -463480198, 'ana', now(), 5, true),
             (3, NULL, 'views', 'SQL', 'R__views.sql', 78787420, 'ana', now(), 1, true);"#,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("sql");
    std::fs::create_dir_all(&migrations).unwrap();
    let write = |name: &str, text: &str| std::fs::write(migrations.join(name), text).unwrap();
    write("V1__init.sql", "CREATE TABLE users (id int);\n");
    // Same text as applied, with Windows line endings: the same checksum.
    write(
        "V1_1__add_flow_id.sql",
        "ALTER TABLE assets ADD COLUMN flow_id uuid;\r\n",
    );
    write(
        "V2__drop_session_id.sql",
        "ALTER TABLE assets DROP COLUMN session_id;\n",
    );
    write("R__views.sql", "SELECT 1;");
    write("U1_1__undo.sql", "-- undo is not a forward migration\n");
    let check =
        json!([{ "id": "f", "kind": "migrations_applied", "tool": "flyway", "dir": "sql" }]);

    let verdicts = run_with_code(&url, dir.path(), check.clone()).await;
    // V1 lies below the baseline; V1.1 is applied with the same checksum; V2 is pending.
    assert_verdict(
        &verdicts,
        "f",
        CheckStatus::Fail,
        "1 of 4 migrations not applied: sql/V2__drop_session_id.sql",
    );
    assert!(
        !verdicts["f"].evidence.contains("changed"),
        "{:?}",
        verdicts["f"]
    );

    exec(&url, "INSERT INTO flyway_schema_history VALUES (4, '2', 'drop session id', 'SQL', 'V2__drop_session_id.sql', 1, 'ana', now(), 1, false)").await;
    write("R__views.sql", "SELECT 2;");
    write(
        "V1_1__add_flow_id.sql",
        "ALTER TABLE assets ADD COLUMN flow_id uuid NOT NULL;\n",
    );
    let verdicts = run_with_code(&url, dir.path(), check.clone()).await;
    let evidence = &verdicts["f"].evidence;
    assert_eq!(verdicts["f"].status, CheckStatus::Fail);
    assert!(
        evidence.contains("sql/R__views.sql (repeatable: its current text was never applied)"),
        "{evidence}"
    );
    assert!(
        evidence.contains(
            "sql/V1_1__add_flow_id.sql changed after it was applied (checksum -463480198 recorded"
        ),
        "{evidence}"
    );
    assert!(
        evidence.contains("V2__drop_session_id.sql failed (version 2)"),
        "{evidence}"
    );

    // Repaired, applied again, texts restored: everything as on disk.
    exec(&url, "DELETE FROM flyway_schema_history WHERE installed_rank = 4;
                INSERT INTO flyway_schema_history VALUES (4, '2', 'drop session id', 'SQL', 'V2__drop_session_id.sql', 0, 'ana', now(), 1, true)").await;
    write("R__views.sql", "SELECT 1;");
    write(
        "V1_1__add_flow_id.sql",
        "ALTER TABLE assets ADD COLUMN flow_id uuid;\n",
    );
    let checksum = remtrack::check::migrations::flyway::checksum(
        b"ALTER TABLE assets DROP COLUMN session_id;\n",
    );
    exec(
        &url,
        &format!("UPDATE flyway_schema_history SET checksum = {checksum} WHERE installed_rank = 4"),
    )
    .await;
    let verdicts = run_with_code(&url, dir.path(), check.clone()).await;
    assert_verdict(
        &verdicts,
        "f",
        CheckStatus::Pass,
        "all 4 migrations applied, checksums as on disk",
    );

    // A version recorded that no file has.
    exec(&url, "INSERT INTO flyway_schema_history VALUES (5, '3', 'gone', 'SQL', 'V3__gone.sql', 7, 'ana', now(), 1, true)").await;
    let verdicts = run_with_code(&url, dir.path(), check.clone()).await;
    assert_verdict(
        &verdicts,
        "f",
        CheckStatus::Fail,
        "version 3 recorded in public.flyway_schema_history but no file has it",
    );

    // Marked deleted by `flyway repair`, then an undo script: neither is a version with a
    // missing file, and an undone version is pending again.
    exec(&url, "INSERT INTO flyway_schema_history VALUES (6, '3', 'gone', 'DELETE', 'V3__gone.sql', 7, 'ana', now(), 0, true);
                INSERT INTO flyway_schema_history VALUES (7, '2', 'undo', 'UNDO_SCRIPT', 'U2__drop_session_id.sql', 1, 'ana', now(), 0, true)").await;
    let verdicts = run_with_code(&url, dir.path(), check.clone()).await;
    assert_verdict(
        &verdicts,
        "f",
        CheckStatus::Fail,
        "1 of 4 migrations not applied: sql/V2__drop_session_id.sql",
    );
    assert!(
        !verdicts["f"].evidence.contains("no file has it"),
        "{:?}",
        verdicts["f"]
    );
    exec(
        &url,
        "DELETE FROM flyway_schema_history WHERE installed_rank = 7",
    )
    .await;

    // A repeatable run with text A, then B, then the file back at A: Flyway would run it
    // again, so it is pending (its newest run was B).
    exec(&url, "INSERT INTO flyway_schema_history VALUES (8, NULL, 'views', 'SQL', 'R__views.sql', 895998086, 'ana', now(), 1, true)").await;
    let verdicts = run_with_code(&url, dir.path(), check.clone()).await;
    assert_verdict(
        &verdicts,
        "f",
        CheckStatus::Fail,
        "sql/R__views.sql (repeatable: its current text was never applied)",
    );
    exec(
        &url,
        "DELETE FROM flyway_schema_history WHERE installed_rank = 8",
    )
    .await;

    // Flyway reads sub-folders: a pending migration there is pending here too.
    std::fs::create_dir_all(migrations.join("v4")).unwrap();
    write("v4/V4__later.sql", "SELECT 4;");
    let verdicts = run_with_code(&url, dir.path(), check.clone()).await;
    assert_verdict(
        &verdicts,
        "f",
        CheckStatus::Fail,
        "1 of 5 migrations not applied: sql/v4/V4__later.sql",
    );

    // A symlinked migration is neither followed nor skipped.
    std::os::unix::fs::symlink(
        migrations.join("v4/V4__later.sql"),
        migrations.join("V5__linked.sql"),
    )
    .unwrap();
    let verdicts = run_with_code(&url, dir.path(), check).await;
    assert_verdict(
        &verdicts,
        "f",
        CheckStatus::Error,
        "sql/V5__linked.sql is a symbolic link",
    );
}

#[tokio::test]
async fn sqitch_plan_against_its_registry_reworked_changes_and_other_projects() {
    let url = cluster().fresh_database().await;
    // sqitch's registry, as `sqitch deploy` creates it (the columns remtrack reads, and more).
    exec(
        &url,
        "CREATE SCHEMA sqitch;
         CREATE TABLE sqitch.changes (change_id text PRIMARY KEY, script_hash text, change text NOT NULL,
             project text NOT NULL, note text NOT NULL DEFAULT '', committed_at timestamptz NOT NULL DEFAULT now());
         INSERT INTO sqitch.changes (change_id, change, project) VALUES
             ('a1', 'users', 'flipr'), ('b2', 'flows', 'flipr'), ('c3', 'users', 'another_project');",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("db")).unwrap();
    std::fs::write(
        dir.path().join("db/sqitch.plan"),
        "%syntax-version=1.0.0\n%project=flipr\n\n\
         users 2024-01-01T00:00:00Z Ana <ana@example.com> # users\n\
         flows [users] 2024-01-02T00:00:00Z Ana <ana@example.com> # flows\n\
         @v1.0 2024-01-03T00:00:00Z Ana <ana@example.com> # tag\n\
         flows [flows@v1.0] 2024-01-04T00:00:00Z Ana <ana@example.com> # reworked\n\
         audit 2024-01-05T00:00:00Z Ana <ana@example.com> # audit\n",
    )
    .unwrap();
    let check = json!([{ "id": "s", "kind": "migrations_applied", "tool": "sqitch", "dir": "db" }]);
    let verdicts = run_with_code(&url, dir.path(), check.clone()).await;
    assert_verdict(
        &verdicts,
        "s",
        CheckStatus::Fail,
        "2 of 4 changes not deployed: flows (reworked, db/sqitch.plan:7), audit",
    );

    exec(&url, "INSERT INTO sqitch.changes (change_id, change, project) VALUES ('d4', 'flows', 'flipr'), ('e5', 'audit', 'flipr')").await;
    let verdicts = run_with_code(&url, dir.path(), check.clone()).await;
    assert_verdict(
        &verdicts,
        "s",
        CheckStatus::Pass,
        "all 4 changes of flipr deployed (sqitch.changes)",
    );

    exec(&url, "INSERT INTO sqitch.changes (change_id, change, project) VALUES ('f6', 'legacy_views', 'flipr')").await;
    let verdicts = run_with_code(&url, dir.path(), check).await;
    assert_verdict(
        &verdicts,
        "s",
        CheckStatus::Fail,
        "legacy_views deployed (sqitch.changes) but not in the plan",
    );
}
