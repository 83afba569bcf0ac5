//! The live check engine against SQLite: every kind passing, failing and erroring, on a file
//! opened read-only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;

use remtrack::check::{CheckStatus, Limits, Target, Verdict, refresh};
use serde_json::json;
use sqlx::{ConnectOptions, Connection};
use support::checks::{assert_verdict, plan_of, plan_unvalidated, verdicts_by_id};

async fn database(dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("t.db");
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .connect()
        .await
        .unwrap();
    sqlx::raw_sql(
        "CREATE TABLE flows (id UUID PRIMARY KEY, current_phase VARCHAR(50) DEFAULT 'discovery',
                             phase_progression JSONB DEFAULT '{}', label TEXT, counter INTEGER NOT NULL DEFAULT 0);
         CREATE INDEX ix_flows_phase ON flows (current_phase, label);
         CREATE TABLE three_rows (id INTEGER); INSERT INTO three_rows VALUES (1), (2), (3);
         CREATE TABLE \"we\"\"ird name\" (id INTEGER);
         CREATE VIEW looks_like_table AS SELECT 1 AS id;
         CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
         INSERT INTO alembic_version VALUES ('c85140124625');",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    format!("sqlite:{}", path.display())
}

/// Unvalidated, so that checks `plan validate` refuses (writes, two statements) still reach the
/// engine and prove it refuses them too.
async fn run(url: &str, checks: serde_json::Value) -> HashMap<String, Verdict> {
    let plan = plan_unvalidated(checks);
    let target = Target::open(url, Limits::default()).unwrap();
    let refreshed = refresh(&plan, &target).await.unwrap();
    target.close().await;
    verdicts_by_id(&plan, &refreshed.verdicts)
}

#[tokio::test]
async fn every_check_kind_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = database(&dir).await;
    let v = run(&url, json!([
        { "id": "table", "kind": "table_exists", "table": "flows" },
        { "id": "weird-name", "kind": "table_exists", "table": "we\"ird name" },
        { "id": "view", "kind": "table_exists", "table": "looks_like_table" },
        { "id": "missing", "kind": "table_exists", "table": "nope" },
        { "id": "absent", "kind": "table_absent", "table": "nope" },
        { "id": "not-absent", "kind": "table_absent", "table": "three_rows" },
        { "id": "column", "kind": "column_exists", "table": "flows", "column": "current_phase", "type": "character varying(50)", "default": "'discovery'::character varying" },
        { "id": "jsonb", "kind": "column_exists", "table": "flows", "column": "phase_progression", "type": "jsonb", "default": "'{}'::jsonb" },
        { "id": "not-null", "kind": "column_exists", "table": "flows", "column": "counter", "type": "int", "nullable": false },
        { "id": "wrong-type", "kind": "column_exists", "table": "flows", "column": "label", "type": "varchar(50)" },
        { "id": "column-missing", "kind": "column_exists", "table": "flows", "column": "phase_flow_id" },
        { "id": "column-absent", "kind": "column_absent", "table": "flows", "column": "session_id" },
        { "id": "index", "kind": "index_exists", "table": "flows", "columns": ["current_phase"] },
        { "id": "index-name", "kind": "index_exists", "table": "flows", "name": "ix_nope" },
        { "id": "rows", "kind": "row_count", "table": "three_rows", "equals": 3 },
        { "id": "rows-fail", "kind": "row_count", "table": "three_rows", "at_most": 0 },
        { "id": "weird-rows", "kind": "row_count", "table": "we\"ird name", "equals": 0 },
        { "id": "rows-missing", "kind": "row_count", "table": "nope", "equals": 0 },
        { "id": "migration", "kind": "migration_version", "revision": "c85140124625" },
        { "id": "migration-fail", "kind": "migration_version", "revision": "ffff" },
        { "id": "sql", "kind": "sql", "query": "SELECT count(*) = 3 FROM three_rows" },
        { "id": "sql-fail", "kind": "sql", "query": { "sqlite": "SELECT count(*) FROM three_rows" }, "expect": 0 },
        { "id": "sql-error", "kind": "sql", "query": "SELECT * FROM nope" },
        { "id": "sql-write", "kind": "sql", "query": "INSERT INTO three_rows VALUES (4) RETURNING 1" },
        { "id": "sql-multi", "kind": "sql", "query": "SELECT 1; DELETE FROM three_rows" }
    ])).await;
    for id in [
        "table",
        "weird-name",
        "absent",
        "column",
        "jsonb",
        "not-null",
        "column-absent",
        "index",
        "rows",
        "weird-rows",
        "migration",
        "sql",
    ] {
        assert_verdict(&v, id, CheckStatus::Pass, "");
    }
    assert_verdict(
        &v,
        "view",
        CheckStatus::Fail,
        "looks_like_table is a view, not a table",
    );
    assert_verdict(&v, "missing", CheckStatus::Fail, "no table nope in main");
    assert_verdict(
        &v,
        "not-absent",
        CheckStatus::Fail,
        "table three_rows still exists with 3 rows",
    );
    assert_verdict(
        &v,
        "wrong-type",
        CheckStatus::Fail,
        "type is TEXT, expected varchar(50)",
    );
    assert_verdict(
        &v,
        "column-missing",
        CheckStatus::Fail,
        "column phase_flow_id missing from flows",
    );
    assert_verdict(
        &v,
        "index-name",
        CheckStatus::Fail,
        "no index ix_nope on flows; indexes: ix_flows_phase (current_phase, label)",
    );
    assert_verdict(
        &v,
        "rows-fail",
        CheckStatus::Fail,
        "3 rows in three_rows, expected at most 0",
    );
    assert_verdict(
        &v,
        "rows-missing",
        CheckStatus::Error,
        "no table nope in main",
    );
    assert_verdict(
        &v,
        "migration-fail",
        CheckStatus::Fail,
        "holds c85140124625",
    );
    assert_verdict(&v, "sql-fail", CheckStatus::Fail, "returned 3, expected 0");
    assert_verdict(&v, "sql-error", CheckStatus::Error, "no such table: nope");
    assert_verdict(&v, "sql-write", CheckStatus::Error, "");
    assert_verdict(
        &v,
        "sql-multi",
        CheckStatus::Error,
        "multi-statement query rejected",
    );

    let target = Target::open(&url, Limits::default()).unwrap();
    assert!(matches!(target, Target::Sqlite { .. }));
    let rows: i64 = match &target {
        Target::Sqlite { pool, .. } => sqlx::query_scalar("SELECT count(*) FROM three_rows")
            .fetch_one(pool)
            .await
            .unwrap(),
        Target::Postgres { .. } => unreachable!(),
    };
    assert_eq!(rows, 3, "a check wrote to the database");
}

#[tokio::test]
async fn a_missing_sqlite_file_is_unreachable_and_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.db");
    let plan = plan_of(json!([{ "id": "t", "kind": "table_exists", "table": "x" }]));
    let target = Target::open(&format!("sqlite:{}", path.display()), Limits::default()).unwrap();
    let error = refresh(&plan, &target).await.unwrap_err().to_string();
    assert!(error.contains("cannot reach"), "{error}");
    assert!(!path.exists(), "checking must not create the database file");
}

#[tokio::test]
async fn migration_registries_are_read_on_sqlite_as_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .connect()
        .await
        .unwrap();
    sqlx::raw_sql(
        "CREATE TABLE flyway_schema_history (installed_rank INTEGER PRIMARY KEY, version TEXT,
            description TEXT, type TEXT, script TEXT, checksum INTEGER, installed_by TEXT,
            installed_on TEXT, execution_time INTEGER, success BOOLEAN);
         INSERT INTO flyway_schema_history VALUES
            (1, '1', 'init', 'SQL', 'V1__init.sql', 78787420, 'ana', '', 1, 1),
            (2, NULL, 'views', 'SQL', 'R__views.sql', 78787420, 'ana', '', 1, 1);
         CREATE TABLE schema_migrations (version INTEGER NOT NULL, dirty BOOLEAN NOT NULL);
         INSERT INTO schema_migrations VALUES (2, 1);",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let code = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(code.path().join("sql")).unwrap();
    std::fs::write(code.path().join("sql/V1__init.sql"), "SELECT 1;").unwrap();
    std::fs::write(code.path().join("sql/R__views.sql"), "SELECT 1;\n").unwrap();
    std::fs::create_dir_all(code.path().join("go")).unwrap();
    for name in ["1_a.up.sql", "2_b.up.sql"] {
        std::fs::write(code.path().join("go").join(name), "").unwrap();
    }
    let plan = plan_of(json!([
        { "id": "flyway", "kind": "migrations_applied", "tool": "flyway", "dir": "sql" },
        { "id": "go", "kind": "migrations_applied", "tool": "golang-migrate", "dir": "go" }
    ]));
    let target = Target::open(&format!("sqlite:{}", path.display()), Limits::default()).unwrap();
    let source = std::sync::Arc::new(remtrack::check::CodeSource::new(
        code.path().to_path_buf(),
        vec![],
        remtrack::check::CodeLimits::default(),
    ));
    let refreshed = remtrack::check::refresh_with(&plan, &target, &source)
        .await
        .unwrap();
    let verdicts = verdicts_by_id(&plan, &refreshed.verdicts);
    assert_eq!(
        verdicts["flyway"].status,
        CheckStatus::Pass,
        "{:?}",
        verdicts["flyway"]
    );
    assert_eq!(
        verdicts["go"].status,
        CheckStatus::Fail,
        "{:?}",
        verdicts["go"]
    );
    assert!(
        verdicts["go"].evidence.contains("is dirty at version 2"),
        "{:?}",
        verdicts["go"]
    );
}
