//! The schema vocabulary on SQLite: what exists there (foreign keys, primary and unique keys,
//! check constraints from the table's SQL, NOT NULL, views, triggers, partial indexes,
//! generated columns, collations, `rows_match`) passes and fails; what cannot exist there
//! (enums, sequences, extensions, schemas, functions, privileges, identity, comments, …) is an
//! error saying so, never a pass or a fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;

use remtrack::check::{CheckStatus, Limits, Target, Verdict, refresh};
use serde_json::json;
use sqlx::{ConnectOptions, Connection};
use support::checks::{assert_verdict, plan_of, verdicts_by_id};

const SCHEMA: &str = r#"
CREATE TABLE flows (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE "Assets" (
  id INTEGER CONSTRAINT pk_assets PRIMARY KEY,
  master_flow_id INTEGER REFERENCES flows (id) ON DELETE CASCADE,
  status TEXT NOT NULL CHECK (status IN ('draft', 'active')),
  price REAL,
  qty INTEGER,
  total REAL GENERATED ALWAYS AS (price * qty) STORED,
  code TEXT COLLATE NOCASE,
  CONSTRAINT positive_qty CHECK (qty > 0),
  CONSTRAINT uq_code UNIQUE (code, status)
);
CREATE INDEX ix_assets_live ON "Assets" (status) WHERE price IS NOT NULL;
CREATE VIEW live_assets AS SELECT id, status FROM "Assets" WHERE status = 'active';
CREATE TRIGGER touch_assets AFTER UPDATE ON "Assets" BEGIN SELECT 1; END;
CREATE TABLE customers (id INTEGER PRIMARY KEY);
CREATE TABLE orders (cid INTEGER REFERENCES Customers (ID));
CREATE TRIGGER orders_audit AFTER INSERT ON Orders BEGIN SELECT 1; END;
INSERT INTO flows VALUES (1, 'a'), (2, 'b');
INSERT INTO "Assets" (master_flow_id, status, price, qty, code) VALUES (1, 'draft', 1.5, 2, 'A1');
"#;

async fn run(checks: serde_json::Value) -> HashMap<String, Verdict> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.db");
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .connect()
        .await
        .unwrap();
    sqlx::raw_sql(SCHEMA).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    let plan = plan_of(checks);
    let target = Target::open(&format!("sqlite:{}", path.display()), Limits::default()).unwrap();
    let refreshed = refresh(&plan, &target).await.unwrap();
    target.close().await;
    verdicts_by_id(&plan, &refreshed.verdicts)
}

#[tokio::test]
async fn what_sqlite_has_passes_and_fails() {
    let v = run(json!([
        { "id": "pk", "kind": "constraint_exists", "table": "Assets", "type": "primary_key", "columns": ["id"], "name": "pk_assets" },
        { "id": "fk", "kind": "constraint_exists", "table": "Assets", "type": "foreign_key", "columns": ["master_flow_id"],
          "references": { "table": "flows", "columns": ["id"], "on_delete": "cascade" } },
        { "id": "fk-action", "kind": "constraint_exists", "table": "Assets", "type": "foreign_key",
          "references": { "table": "flows", "on_delete": "set_null" } },
        { "id": "fk-absent", "kind": "constraint_absent", "table": "flows", "type": "foreign_key" },
        { "id": "unique", "kind": "constraint_exists", "table": "Assets", "type": "unique", "columns": ["code", "status"], "name": "uq_code" },
        { "id": "check-named", "kind": "constraint_exists", "table": "Assets", "type": "check", "name": "positive_qty", "expression": "(qty > 0)" },
        { "id": "check-column", "kind": "constraint_exists", "table": "Assets", "type": "check", "columns": ["status"],
          "expression": "status in ('draft','active')" },
        { "id": "check-wrong", "kind": "constraint_exists", "table": "Assets", "type": "check", "expression": "qty >= 0" },
        { "id": "not-null", "kind": "constraint_exists", "table": "Assets", "type": "not_null", "columns": ["status"] },
        { "id": "nullable", "kind": "constraint_absent", "table": "Assets", "type": "not_null", "columns": ["code"] },
        { "id": "view", "kind": "view_exists", "view": "live_assets", "columns": ["id"] },
        { "id": "view-absent", "kind": "view_absent", "view": "live_assets" },
        { "id": "trigger", "kind": "trigger_exists", "table": "Assets", "name": "touch_assets" },
        { "id": "trigger-absent", "kind": "trigger_absent", "table": "Assets", "name": "audit" },
        { "id": "partial", "kind": "index_exists", "table": "Assets", "name": "ix_assets_live", "where": "price is not null" },
        { "id": "unique-index", "kind": "index_exists", "table": "Assets", "columns": ["code", "status"], "unique": true },
        { "id": "generated", "kind": "column_exists", "table": "Assets", "column": "total", "generated": "price*qty" },
        { "id": "collation", "kind": "column_exists", "table": "Assets", "column": "code", "collation": "NOCASE" },
        { "id": "rows", "kind": "rows_match", "query": "SELECT id, name FROM flows", "expect": [[2, "b"], [1, "a"]] },
        { "id": "orphans", "kind": "rows_match", "query": "SELECT id FROM \"Assets\" WHERE master_flow_id IS NULL", "expect": "empty" },
        { "id": "fk-case", "kind": "constraint_absent", "table": "orders", "type": "foreign_key", "references": { "table": "customers" } },
        { "id": "fk-case-exists", "kind": "constraint_exists", "table": "orders", "type": "foreign_key", "references": { "table": "customers", "columns": ["id"] } },
        { "id": "trigger-case", "kind": "trigger_absent", "table": "orders", "name": "orders_audit" },
        { "id": "collation-case", "kind": "column_exists", "table": "Assets", "column": "code", "collation": "nocase" }
    ]))
    .await;
    assert_verdict(&v, "pk", CheckStatus::Pass, "pk_assets PRIMARY KEY (id)");
    assert_verdict(&v, "fk", CheckStatus::Pass, "REFERENCES flows(id)");
    assert_verdict(
        &v,
        "fk-action",
        CheckStatus::Fail,
        "ON DELETE CASCADE, expected ON DELETE SET NULL",
    );
    assert_verdict(
        &v,
        "fk-absent",
        CheckStatus::Pass,
        "no such foreign key on flows",
    );
    assert_verdict(
        &v,
        "unique",
        CheckStatus::Pass,
        "uq_code UNIQUE (code, status)",
    );
    assert_verdict(&v, "check-named", CheckStatus::Pass, "positive_qty");
    assert_verdict(&v, "check-column", CheckStatus::Pass, "status");
    assert_verdict(&v, "check-wrong", CheckStatus::Fail, "expected qty >= 0");
    assert_verdict(&v, "not-null", CheckStatus::Pass, "NOT NULL");
    assert_verdict(
        &v,
        "nullable",
        CheckStatus::Pass,
        "no such NOT NULL constraint",
    );
    assert_verdict(
        &v,
        "view",
        CheckStatus::Pass,
        "view live_assets (2 columns): CREATE VIEW",
    );
    assert_verdict(
        &v,
        "view-absent",
        CheckStatus::Fail,
        "view live_assets still exists",
    );
    assert_verdict(
        &v,
        "trigger",
        CheckStatus::Pass,
        "trigger touch_assets on Assets",
    );
    assert_verdict(&v, "trigger-absent", CheckStatus::Pass, "no trigger audit");
    assert_verdict(&v, "partial", CheckStatus::Pass, "WHERE price IS NOT NULL");
    assert_verdict(&v, "unique-index", CheckStatus::Pass, "UNIQUE");
    assert_verdict(&v, "generated", CheckStatus::Pass, "total");
    assert_verdict(&v, "collation", CheckStatus::Pass, "collate NOCASE");
    assert_verdict(
        &v,
        "rows",
        CheckStatus::Pass,
        "returned the 2 rows expected",
    );
    assert_verdict(&v, "orphans", CheckStatus::Pass, "returned no rows");
    assert_verdict(
        &v,
        "fk-case",
        CheckStatus::Fail,
        "foreign key still on orders",
    );
    assert_verdict(
        &v,
        "fk-case-exists",
        CheckStatus::Pass,
        "REFERENCES customers(id)",
    );
    assert_verdict(
        &v,
        "trigger-case",
        CheckStatus::Fail,
        "trigger orders_audit still on orders",
    );
    assert_verdict(&v, "collation-case", CheckStatus::Pass, "code");
}

#[tokio::test]
async fn what_cannot_exist_on_sqlite_is_an_error_saying_so() {
    let v = run(json!([
        { "id": "enum", "kind": "enum_values", "type": "status", "values": ["a"] },
        { "id": "sequence", "kind": "sequence_exists", "sequence": "s" },
        { "id": "extension", "kind": "extension_exists", "extension": "pg_trgm" },
        { "id": "schema", "kind": "schema_exists", "schema": "main" },
        { "id": "function", "kind": "function_absent", "name": "f" },
        { "id": "privilege", "kind": "privilege", "role": "r", "table": "flows", "privileges": ["SELECT"], "has": false },
        { "id": "identity", "kind": "column_exists", "table": "Assets", "column": "id", "identity": "always" },
        { "id": "comment", "kind": "column_exists", "table": "Assets", "column": "id", "comment": "x" },
        { "id": "exclusion", "kind": "constraint_absent", "table": "Assets", "type": "exclusion" },
        { "id": "gin", "kind": "index_exists", "table": "Assets", "columns": ["code"], "method": "gin" },
        { "id": "include", "kind": "index_exists", "table": "Assets", "columns": ["code"], "include": ["price"] },
        { "id": "trigger-function", "kind": "trigger_exists", "table": "Assets", "name": "touch_assets", "function": "f" }
    ]))
    .await;
    for (id, verdict) in &v {
        assert_eq!(verdict.status, CheckStatus::Error, "{id}: {verdict:?}");
        assert!(
            verdict.evidence.starts_with("not available on SQLite: "),
            "{id}: {verdict:?}"
        );
    }
    assert_verdict(
        &v,
        "enum",
        CheckStatus::Error,
        "enum types do not exist there",
    );
    assert_verdict(
        &v,
        "gin",
        CheckStatus::Error,
        "index methods other than btree",
    );
}
