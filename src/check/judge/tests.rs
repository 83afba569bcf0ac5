//! The judges on hand-made snapshots: the wording people read, without a database.

use serde_json::json;

use super::{Facts, judge};
use crate::Backend;
use crate::check::facts::{
    Column, DataFacts, Index, Relation, RelationKind, SchemaSnapshot, SearchPath,
};
use crate::check::{CheckStatus, Verdict};
use crate::plan::CheckSpec;

fn column(name: &str, data_type: &str, default: Option<&str>) -> Column {
    Column {
        name: name.into(),
        data_type: data_type.into(),
        not_null: false,
        default: default.map(str::to_string),
        ..Column::default()
    }
}

fn relation(schema: &str, name: &str, kind: RelationKind, columns: Vec<Column>) -> Relation {
    Relation {
        schema: schema.into(),
        name: name.into(),
        kind,
        readable: true,
        columns,
        ..Relation::default()
    }
}

/// Shaped like a real application: its tables in `migration`, set as the database's search
/// path; stale copies in `public` (later on the path) and `legacy` (off it); a view that hides
/// a table.
fn snapshot() -> SchemaSnapshot {
    let mut assets = relation(
        "migration",
        "assets",
        RelationKind::Table,
        vec![
            column("id", "uuid", None),
            column("master_flow_id", "uuid", None),
            column("session_id", "uuid", None),
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
        valid: true,
        method: "btree".into(),
        ..Index::default()
    });
    assets.indexes.push(Index {
        name: "ix_assets_phase".into(),
        columns: vec![Some("phase".into())],
        valid: false,
        method: "btree".into(),
        ..Index::default()
    });
    SchemaSnapshot::new(
        vec![
            assets,
            relation(
                "public",
                "assets",
                RelationKind::Table,
                vec![column("id", "uuid", None)],
            ),
            relation("migration", "discovery_assets", RelationKind::Table, vec![]),
            relation(
                "legacy",
                "data_import_sessions",
                RelationKind::Table,
                vec![],
            ),
            relation(
                "migration",
                "flows",
                RelationKind::View,
                vec![column("session_id", "uuid", None)],
            ),
            relation("public", "flows", RelationKind::Table, vec![]),
            relation("migration", "old_seq", RelationKind::Sequence, vec![]),
            relation("migration", "MixedCase", RelationKind::Table, vec![]),
        ],
        SearchPath {
            effective: vec!["pg_catalog".into(), "migration".into(), "public".into()],
            shown: vec!["migration".into(), "public".into()],
            unusable: Vec::new(),
        },
    )
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
fn names_resolve_on_the_search_path_first_schema_first() {
    assert_judged(
        json!({"kind": "table_exists", "table": "assets"}),
        CheckStatus::Pass,
        "table migration.assets exists (4 columns); it hides the table public.assets",
    );
    assert_judged(
        json!({"kind": "column_exists", "table": "assets", "column": "master_flow_id", "type": "uuid"}),
        CheckStatus::Pass,
        "column migration.assets.master_flow_id exists (uuid)",
    );
    assert_judged(
        json!({"kind": "table_exists", "table": "assets", "schema": "public"}),
        CheckStatus::Pass,
        "table public.assets exists (1 columns)",
    );
}

#[test]
fn a_dropped_table_still_visible_on_the_search_path_is_not_done() {
    assert_judged(
        json!({"kind": "table_absent", "table": "discovery_assets"}),
        CheckStatus::Fail,
        "table migration.discovery_assets still exists",
    );
    assert_judged(
        json!({"kind": "column_absent", "table": "assets", "column": "session_id"}),
        CheckStatus::Fail,
        "column session_id still exists in migration.assets (uuid)",
    );
    assert_judged(
        json!({"kind": "table_absent", "table": "old_seq"}),
        CheckStatus::Fail,
        "no table, but old_seq still names the sequence migration.old_seq",
    );
    assert_judged(
        json!({"kind": "column_absent", "table": "flows", "column": "session_id"}),
        CheckStatus::Fail,
        "column session_id still exists in the view migration.flows",
    );
}

#[test]
fn an_absent_check_passes_off_the_path_but_says_so() {
    let outside = verdict(json!({"kind": "table_absent", "table": "data_import_sessions"}));
    assert_eq!(outside.status, CheckStatus::Pass, "{outside:?}");
    assert_eq!(
        outside.evidence,
        "no data_import_sessions on the search path (migration, public)"
    );
    assert_eq!(
        outside.warning.as_deref(),
        Some(
            "no data_import_sessions on the search path (migration, public), \
             but table legacy.data_import_sessions exists outside it"
        )
    );
    let named = verdict(
        json!({"kind": "table_absent", "table": "data_import_sessions", "schema": "migration"}),
    );
    assert_eq!(named.status, CheckStatus::Pass);
    assert_eq!(
        named.warning, None,
        "a check that names its schema looked where it meant"
    );
    let gone = verdict(json!({"kind": "table_absent", "table": "workflow_states"}));
    assert_eq!(
        (gone.status, gone.evidence.as_str(), gone.warning),
        (
            CheckStatus::Pass,
            "no workflow_states on the search path (migration, public)",
            None
        )
    );
}

#[test]
fn a_view_earlier_on_the_path_hides_a_table_and_the_check_says_so() {
    assert_judged(
        json!({"kind": "table_exists", "table": "flows"}),
        CheckStatus::Fail,
        "flows is the view migration.flows, not a table; \
         the table public.flows later on the search path is hidden by it",
    );
}

#[test]
fn case_matters_and_the_evidence_names_the_other_spelling() {
    assert_judged(
        json!({"kind": "table_exists", "table": "mixedcase"}),
        CheckStatus::Fail,
        "no table mixedcase on the search path (migration, public); \
         a table migration.MixedCase exists (names are case-sensitive)",
    );
}

#[test]
fn a_column_compares_type_and_default_by_meaning() {
    assert_judged(
        json!({"kind": "column_exists", "table": "assets", "column": "phase",
               "type": "varchar(50)", "default": "'discovery'"}),
        CheckStatus::Pass,
        "column migration.assets.phase exists",
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
        "column phase still exists in migration.assets",
    );
    assert_judged(
        json!({"kind": "column_absent", "table": "assets", "column": "legacy_id"}),
        CheckStatus::Pass,
        "column legacy_id is not in the table migration.assets",
    );
}

#[test]
fn indexes_are_found_by_name_or_leading_columns() {
    assert_judged(
        json!({"kind": "index_exists", "table": "assets", "columns": ["master_flow_id"]}),
        CheckStatus::Pass,
        "index ix_assets_master_flow_id (master_flow_id) on migration.assets",
    );
    assert_judged(
        json!({"kind": "index_exists", "table": "assets", "columns": ["phase"]}),
        CheckStatus::Fail,
        "index ix_assets_phase (phase) on migration.assets exists but is INVALID",
    );
    assert_judged(
        json!({"kind": "index_exists", "table": "assets", "name": "ix_other"}),
        CheckStatus::Fail,
        "no index ix_other on migration.assets; indexes: ix_assets_master_flow_id",
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
        "cannot count rows: no table gone on the search path (migration, public)",
    );
    assert_judged(
        json!({"kind": "sql", "query": "SELECT true"}),
        CheckStatus::Error,
        "query was not run",
    );
}

#[test]
fn a_type_or_default_that_cannot_be_understood_is_an_error_not_a_guess() {
    assert_judged(
        json!({"kind": "column_exists", "table": "assets", "column": "phase", "type": "varchar("}),
        CheckStatus::Error,
        "cannot understand the type \"varchar(\": expected a number",
    );
    assert_judged(
        json!({"kind": "column_exists", "table": "assets", "column": "phase", "default": "'open"}),
        CheckStatus::Error,
        "cannot understand the default \"'open\": a string is not closed",
    );
}

#[test]
fn a_cast_in_the_expected_default_is_respected() {
    assert_judged(
        json!({"kind": "column_exists", "table": "assets", "column": "phase", "default": "'discovery'::integer"}),
        CheckStatus::Fail,
        "default is 'discovery'::character varying, expected 'discovery'::integer",
    );
}

#[test]
fn sqlite_declared_types_outside_postgresql_grammar_compare_as_written() {
    let schema = SchemaSnapshot::new(
        vec![relation(
            "main",
            "t",
            RelationKind::Table,
            vec![column("n", "UNSIGNED BIG INT", None)],
        )],
        SearchPath::of(&["main"]),
    );
    let data = DataFacts::default();
    let facts = Facts {
        backend: Backend::Sqlite,
        schema: &schema,
        data: &data,
    };
    let judged = |data_type: &str| {
        let spec: CheckSpec = serde_json::from_value(
            json!({"kind": "column_exists", "table": "t", "column": "n", "type": data_type}),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        judge(&spec, &facts, None)
    };
    assert_eq!(judged("unsigned  big int").status, CheckStatus::Pass);
    assert_eq!(judged("bigint").status, CheckStatus::Fail);
}

#[test]
fn sql_values_compare_exactly_and_booleans_only_as_booleans_on_postgresql() {
    use crate::check::facts::SqlOutcome;
    let judged = |backend: Backend, value: serde_json::Value, check: serde_json::Value| {
        let spec: CheckSpec = serde_json::from_value(check).unwrap_or_else(|e| panic!("{e}"));
        let (schema, data) = (snapshot(), DataFacts::default());
        let facts = Facts {
            backend,
            schema: &schema,
            data: &data,
        };
        judge(&spec, &facts, Some(&SqlOutcome::Value(value))).status
    };
    let count = json!({"kind": "sql", "query": "SELECT count(*) FROM bad_rows"});
    assert_eq!(
        judged(Backend::Postgres, json!(1), count.clone()),
        CheckStatus::Fail,
        "a count of 1 is not true"
    );
    assert_eq!(
        judged(Backend::Sqlite, json!(1), count),
        CheckStatus::Pass,
        "SQLite's 1 is its true"
    );
    let big = json!({"kind": "sql", "query": "SELECT n", "expect": 9_007_199_254_740_992_u64});
    assert_eq!(
        judged(
            Backend::Postgres,
            json!(9_007_199_254_740_993_u64),
            big.clone()
        ),
        CheckStatus::Fail
    );
    assert_eq!(
        judged(Backend::Postgres, json!(9_007_199_254_740_992_u64), big),
        CheckStatus::Pass
    );
}
