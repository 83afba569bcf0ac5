//! The judges on hand-made snapshots: the wording people read, without a database.

use serde_json::json;

use super::{Facts, judge};
use crate::Backend;
use crate::check::facts::{Column, DataFacts, Index, Relation, RelationKind, SchemaSnapshot};
use crate::check::{CheckStatus, Verdict};
use crate::plan::CheckSpec;

fn column(name: &str, data_type: &str, default: Option<&str>) -> Column {
    Column {
        name: name.into(),
        data_type: data_type.into(),
        not_null: false,
        default: default.map(str::to_string),
    }
}

fn relation(schema: &str, name: &str, kind: RelationKind, columns: Vec<Column>) -> Relation {
    Relation {
        schema: schema.into(),
        name: name.into(),
        kind,
        readable: true,
        columns,
        indexes: Vec::new(),
    }
}

fn snapshot() -> SchemaSnapshot {
    let mut assets = relation(
        "public",
        "assets",
        RelationKind::Table,
        vec![
            column("id", "uuid", None),
            column("master_flow_id", "uuid", None),
            column(
                "phase",
                "character varying(50)",
                Some("'discovery'::character varying"),
            ),
        ],
    );
    assets.indexes.push(Index {
        name: "ix_assets_master_flow_id".into(),
        columns: vec![Some("master_flow_id".into())],
    });
    SchemaSnapshot::new(vec![
        assets,
        relation("legacy", "old_things", RelationKind::Table, vec![]),
        relation("public", "a_view", RelationKind::View, vec![]),
    ])
}

fn verdict(check: serde_json::Value) -> Verdict {
    let spec: CheckSpec = serde_json::from_value(check).unwrap_or_else(|e| panic!("{e}"));
    let schema = snapshot();
    let data = DataFacts::default();
    let facts = Facts {
        backend: Backend::Postgres,
        schema: &schema,
        data: &data,
    };
    judge(&spec, &facts, None)
}

fn assert_judged(check: serde_json::Value, status: CheckStatus, evidence: &str) {
    let verdict = verdict(check.clone());
    assert_eq!(verdict.status, status, "{check}: {verdict:?}");
    assert!(
        verdict.evidence.contains(evidence),
        "{check}: evidence {:?} should contain {evidence:?}",
        verdict.evidence
    );
}

#[test]
fn a_table_that_exists_passes_and_a_view_or_another_schema_does_not_count() {
    assert_judged(
        json!({"kind": "table_exists", "table": "assets"}),
        CheckStatus::Pass,
        "table assets exists (3 columns)",
    );
    assert_judged(
        json!({"kind": "table_exists", "table": "a_view"}),
        CheckStatus::Fail,
        "a_view is a view, not a table",
    );
    assert_judged(
        json!({"kind": "table_exists", "table": "old_things"}),
        CheckStatus::Fail,
        "a table old_things exists in schema legacy",
    );
}

#[test]
fn a_column_compares_type_and_default_by_meaning() {
    assert_judged(
        json!({"kind": "column_exists", "table": "assets", "column": "phase",
               "type": "varchar(50)", "default": "'discovery'"}),
        CheckStatus::Pass,
        "column assets.phase exists",
    );
    assert_judged(
        json!({"kind": "column_exists", "table": "assets", "column": "phase", "type": "text"}),
        CheckStatus::Fail,
        "type is character varying(50), expected text",
    );
    assert_judged(
        json!({"kind": "column_exists", "table": "assets", "column": "Phase"}),
        CheckStatus::Fail,
        "a column phase exists (names are case-sensitive)",
    );
}

#[test]
fn a_column_still_present_fails_its_absent_check() {
    assert_judged(
        json!({"kind": "column_absent", "table": "assets", "column": "phase"}),
        CheckStatus::Fail,
        "column phase still exists in assets",
    );
    assert_judged(
        json!({"kind": "column_absent", "table": "assets", "column": "session_id"}),
        CheckStatus::Pass,
        "column session_id is not in assets",
    );
}

#[test]
fn indexes_are_found_by_name_or_leading_columns() {
    assert_judged(
        json!({"kind": "index_exists", "table": "assets", "columns": ["master_flow_id"]}),
        CheckStatus::Pass,
        "index ix_assets_master_flow_id (master_flow_id) on assets",
    );
    assert_judged(
        json!({"kind": "index_exists", "table": "assets", "name": "ix_other"}),
        CheckStatus::Fail,
        "no index ix_other on assets; indexes: ix_assets_master_flow_id",
    );
}

#[test]
fn data_not_read_is_an_error_never_a_failure() {
    assert_judged(
        json!({"kind": "row_count", "table": "assets", "equals": 0}),
        CheckStatus::Error,
        "row count was not read",
    );
    assert_judged(
        json!({"kind": "row_count", "table": "gone", "equals": 0}),
        CheckStatus::Error,
        "cannot count rows: table gone does not exist",
    );
    assert_judged(
        json!({"kind": "sql", "query": "SELECT true"}),
        CheckStatus::Error,
        "query was not run",
    );
}
