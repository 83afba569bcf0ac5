//! Unit tests for plan loading and validation: every kind of problem, reported together, with its
//! JSON path and what was expected.

use std::path::Path;

use serde_json::{Value, json};

use super::*;

fn minimal() -> Value {
    json!({
        "version": 1,
        "title": "Plan",
        "days": [{ "day": 1, "title": "Day one" }],
        "phases": [{ "id": "p1", "title": "Phase one" }],
        "tasks": [
            { "id": "a", "title": "Task A", "day": 1, "phase": "p1", "priority": "high",
              "checks": [{ "id": "c1", "kind": "table_exists", "table": "t" }] },
            { "id": "b", "title": "Task B", "day": 1, "phase": "p1", "priority": "low", "depends_on": ["a"] }
        ],
        "risks": [{ "id": "r1", "title": "Risk", "severity": "high", "description": "d", "watch": ["a/c1", "b"] }]
    })
}

fn issues_of(plan: &Value) -> Vec<String> {
    validate_value(plan)
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn assert_issue(plan: &Value, expected: &str) {
    let issues = issues_of(plan);
    assert!(
        issues.iter().any(|i| i == expected),
        "expected issue {expected:?}, got {issues:#?}"
    );
}

#[test]
fn the_minimal_plan_is_valid_and_loads() {
    assert_eq!(issues_of(&minimal()), Vec::<String>::new());
    let plan = parse_plan(minimal().to_string().as_bytes(), Path::new("plan.json")).unwrap();
    assert_eq!(plan.tasks.len(), 2);
    assert!(plan.tasks[1].is_manual());
}

#[test]
fn the_shipped_plan_is_valid() {
    let plan = load_plan(&Path::new(env!("CARGO_MANIFEST_DIR")).join("plan.json")).unwrap();
    assert_eq!(plan.days.len(), 5);
    assert!(plan.tasks.iter().any(|t| t.is_manual()));
}

#[test]
fn a_typo_in_a_check_kind_suggests_the_nearest_kind() {
    let mut plan = minimal();
    plan["tasks"][0]["checks"][0]["kind"] = json!("colum_exists");
    assert_issue(
        &plan,
        "tasks[0].checks[0].kind: unknown check kind \"colum_exists\" (did you mean \"column_exists\"?)",
    );
}

#[test]
fn an_unknown_field_suggests_the_nearest_field() {
    let mut plan = minimal();
    plan["tasks"][0]["checks"][0]["tabel"] = json!("x");
    plan["tasks"][0]["prority"] = json!("high");
    let issues = issues_of(&plan);
    assert!(
        issues.contains(
            &"tasks[0].checks[0].tabel: unknown field \"tabel\" (did you mean \"table\"?)"
                .to_string()
        ),
        "{issues:#?}"
    );
    assert!(
        issues.contains(
            &"tasks[0].prority: unknown field \"prority\" (did you mean \"priority\"?)".to_string()
        ),
        "{issues:#?}"
    );
}

#[test]
fn wrong_types_name_what_was_expected_and_found() {
    let mut plan = minimal();
    plan["tasks"][0]["day"] = json!("1");
    plan["tasks"][0]["checks"][0]["table"] = json!(7);
    assert_issue(
        &plan,
        "tasks[0].day: expected a whole number from 0 to 4294967295, found a string",
    );
    assert_issue(
        &plan,
        "tasks[0].checks[0].table: expected a non-empty string, found a whole number",
    );
}

#[test]
fn enums_list_their_values() {
    let mut plan = minimal();
    plan["tasks"][0]["priority"] = json!("urgent");
    plan["tasks"][0]["claimed"] = json!("don");
    assert_issue(
        &plan,
        "tasks[0].priority: \"urgent\" is not one of high, medium, low",
    );
    assert_issue(
        &plan,
        "tasks[0].claimed: \"don\" is not one of done, in_progress, not_started (did you mean \"done\"?)",
    );
}

#[test]
fn missing_required_fields_are_named() {
    let mut plan = minimal();
    plan["tasks"][0].as_object_mut().unwrap().remove("phase");
    plan["tasks"][0]["checks"][0]
        .as_object_mut()
        .unwrap()
        .remove("table");
    assert_issue(
        &plan,
        "tasks[0]: missing field \"phase\" (an id (letters, digits, '-', '_', '.'))",
    );
    assert_issue(
        &plan,
        "tasks[0].checks[0]: missing field \"table\" (a non-empty string)",
    );
}

#[test]
fn empty_titles_are_rejected() {
    let mut plan = minimal();
    plan["title"] = json!("  ");
    plan["days"][0]["title"] = json!("");
    assert_issue(&plan, "title: must not be empty");
    assert_issue(&plan, "days[0].title: must not be empty");
}

#[test]
fn duplicate_ids_point_at_the_first_use() {
    let mut plan = minimal();
    plan["tasks"][1]["id"] = json!("a");
    plan["tasks"][0]["checks"] = json!([
        { "id": "c1", "kind": "table_exists", "table": "t" },
        { "id": "c1", "kind": "table_absent", "table": "u" }
    ]);
    assert_issue(
        &plan,
        "tasks[1].id: task id \"a\" is already used at tasks[0]",
    );
    assert_issue(
        &plan,
        "tasks[0].checks[1].id: check id \"c1\" is already used in this task at tasks[0].checks[0].id",
    );
}

#[test]
fn dangling_references_are_reported_with_suggestions() {
    let mut plan = minimal();
    plan["tasks"][0]["day"] = json!(9);
    plan["tasks"][0]["phase"] = json!("p2");
    plan["tasks"][1]["depends_on"] = json!(["aa"]);
    plan["risks"][0]["watch"] = json!(["a/c2", "zzz"]);
    assert_issue(&plan, "tasks[0].day: day 9 is not in \"days\" (defined: 1)");
    assert_issue(
        &plan,
        "tasks[0].phase: no phase \"p2\" (did you mean \"p1\"?)",
    );
    assert_issue(
        &plan,
        "tasks[1].depends_on[0]: no task \"aa\" (did you mean \"a\"?)",
    );
    assert_issue(
        &plan,
        "risks[0].watch[0]: task \"a\" has no check \"c2\" (did you mean \"c1\"?)",
    );
    assert_issue(&plan, "risks[0].watch[1]: no task \"zzz\" (defined: a, b)");
}

#[test]
fn dependency_cycles_are_named_in_order() {
    let mut plan = minimal();
    plan["tasks"][0]["depends_on"] = json!(["b"]);
    assert_issue(&plan, "tasks[0].depends_on: dependency cycle: a -> b -> a");
    plan["tasks"][0]["depends_on"] = json!(["a"]);
    assert_issue(
        &plan,
        "tasks[0].depends_on[0]: a task cannot depend on itself",
    );
}

#[test]
fn check_kind_rules_are_enforced() {
    let mut plan = minimal();
    plan["tasks"][0]["checks"] = json!([
        { "id": "i", "kind": "index_exists", "table": "t" },
        { "id": "j", "kind": "index_exists", "table": "t", "name": "x", "columns": ["a"] },
        { "id": "r", "kind": "row_count", "table": "t" },
        { "id": "s", "kind": "row_count", "table": "t", "at_least": 5, "at_most": 1 },
        { "id": "q", "kind": "sql", "query": {} }
    ]);
    assert_issue(
        &plan,
        "tasks[0].checks[0]: index_exists needs \"columns\" or \"name\"",
    );
    assert_issue(
        &plan,
        "tasks[0].checks[1]: index_exists takes \"columns\" or \"name\", not both",
    );
    assert_issue(
        &plan,
        "tasks[0].checks[2]: row_count needs one or more of \"equals\", \"at_most\", \"at_least\"",
    );
    assert_issue(
        &plan,
        "tasks[0].checks[3]: at_least (5) is greater than at_most (1): no count can pass",
    );
    assert_issue(
        &plan,
        "tasks[0].checks[4].query: give SQL for at least one of \"postgres\" and \"sqlite\"",
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut plan = minimal();
    plan["version"] = json!(2);
    plan["tasks"][0]["checks"][0]["kind"] = json!("nope");
    plan["tasks"][1]["depends_on"] = json!(["missing"]);
    plan["risks"][0]["severity"] = json!("extreme");
    assert!(issues_of(&plan).len() >= 4, "{:#?}", issues_of(&plan));
    let error = parse_plan(plan.to_string().as_bytes(), Path::new("my-plan.json")).unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("my-plan.json has 4 problems:"),
        "{message}"
    );
    assert!(
        message.contains("version: format version 2 is not supported"),
        "{message}"
    );
}

#[test]
fn ids_must_be_slugs() {
    let mut plan = minimal();
    plan["tasks"][0]["id"] = json!("has space/slash");
    assert_issue(
        &plan,
        "tasks[0].id: \"has space/slash\" is not a valid id: use letters, digits, '-', '_' and '.' only",
    );
}

#[test]
fn malformed_json_names_file_line_and_column() {
    let error = parse_plan(
        b"{\n  \"version\": 1,\n  \"title\": \"x\"\n  \"days\": []\n}",
        Path::new("p.json"),
    )
    .unwrap_err();
    assert_eq!(error.to_string(), "p.json:4:3: expected `,` or `}`");
    let truncated =
        parse_plan(b"{\"version\": 1, \"title\": \"x", Path::new("p.json")).unwrap_err();
    assert!(
        truncated.to_string().contains("(is the file truncated?)"),
        "{truncated}"
    );
}

#[test]
fn empty_non_utf8_and_bom_files() {
    assert!(
        parse_plan(b"  \n", Path::new("p.json"))
            .unwrap_err()
            .to_string()
            .contains("the file is empty")
    );
    let latin1 = b"{\"title\": \"caf\xe9\"}";
    assert_eq!(
        parse_plan(latin1, Path::new("p.json"))
            .unwrap_err()
            .to_string(),
        "p.json:1:15: the file is not valid UTF-8 text; save it as UTF-8"
    );
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend(minimal().to_string().as_bytes());
    assert!(parse_plan(&with_bom, Path::new("p.json")).is_ok());
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let error = parse_plan(deep.as_bytes(), Path::new("p.json")).unwrap_err();
    assert!(
        error.to_string().contains("recursion limit exceeded"),
        "{error}"
    );
}

#[test]
fn a_non_object_plan_says_so() {
    assert_eq!(
        issues_of(&json!([])),
        vec!["expected an object, found an array".to_string()]
    );
}

#[test]
fn a_plan_survives_a_round_trip_through_serde() {
    let plan = load_plan(&Path::new(env!("CARGO_MANIFEST_DIR")).join("plan.json")).unwrap();
    let text = serde_json::to_string(&plan).unwrap();
    let again = parse_plan(text.as_bytes(), Path::new("again.json")).unwrap();
    assert_eq!(plan, again);
}

#[test]
fn every_check_kind_in_the_shape_table_deserializes() {
    let checks = json!([
        { "id": "a", "kind": "table_exists", "table": "t", "schema": "s" },
        { "id": "b", "kind": "table_absent", "table": "t" },
        { "id": "c", "kind": "column_exists", "table": "t", "column": "c", "type": "int", "nullable": false, "default": "0" },
        { "id": "d", "kind": "column_absent", "table": "t", "column": "c" },
        { "id": "e", "kind": "index_exists", "table": "t", "columns": ["c"] },
        { "id": "f", "kind": "row_count", "table": "t", "equals": 0, "at_most": 1, "at_least": 0 },
        { "id": "g", "kind": "migration_version", "revision": "abc", "table": "v", "column": "n", "dir": "alembic/versions" },
        { "id": "h", "kind": "sql", "query": { "postgres": "select true" }, "expect": true, "note": "n" },
        { "id": "i", "kind": "code_absent", "pattern": "session_id", "word": true, "ignore_case": true,
          "paths": ["backend/**/*.py"], "exclude": ["backend/alembic/**"], "max_matches": 3 },
        { "id": "j", "kind": "code_present", "literal": "include_router(v2", "min_matches": 2 },
        { "id": "k", "kind": "path_exists", "path": "backend/tests" },
        { "id": "l", "kind": "path_absent", "path": "backend/app/api/v1" },
        { "id": "m", "kind": "migrations_applied", "tool": "alembic", "dir": "backend/alembic/versions",
          "table": "alembic_version", "schema": "public" },
        { "id": "n", "kind": "columns_unreferenced", "table": "assets", "schema": "public",
          "columns": ["session_id"], "paths": ["backend/app/**"], "exclude": ["**/tests/**"] },
        { "id": "o", "kind": "constraint_exists", "table": "assets", "type": "foreign_key", "columns": ["flow_id"],
          "name": "fk", "references": { "table": "flows", "schema": "s", "columns": ["id"], "on_delete": "cascade",
          "on_update": "no_action" }, "validated": true },
        { "id": "p", "kind": "constraint_absent", "table": "assets", "type": "check", "expression": "a > 0" },
        { "id": "q", "kind": "enum_values", "type": "status", "schema": "s", "values": ["a"], "match": "contains" },
        { "id": "r", "kind": "view_exists", "view": "v", "schema": "s", "materialized": true, "columns": ["a"] },
        { "id": "s", "kind": "view_absent", "view": "v" },
        { "id": "t", "kind": "sequence_exists", "sequence": "q", "schema": "s" },
        { "id": "u", "kind": "extension_exists", "extension": "pg_trgm", "version": "1.6" },
        { "id": "v", "kind": "schema_exists", "schema": "app" },
        { "id": "w", "kind": "schema_absent", "schema": "staging" },
        { "id": "x", "kind": "function_exists", "name": "f", "schema": "s", "args": ["int"], "returns": "void",
          "language": "sql", "security_definer": false },
        { "id": "y", "kind": "function_absent", "name": "f" },
        { "id": "z", "kind": "trigger_exists", "table": "t", "name": "tr", "function": "s.f", "enabled": true },
        { "id": "aa", "kind": "trigger_absent", "table": "t", "name": "tr" },
        { "id": "ab", "kind": "privilege", "role": "reader", "table": "t", "schema": "s", "privileges": ["SELECT"], "has": true },
        { "id": "ac", "kind": "rows_match", "query": "select 1", "expect": [[1], 2], "ordered": true }
    ]);
    let mut plan = minimal();
    plan["tasks"][0]["checks"] = checks;
    plan["risks"][0]["watch"] = json!(["a/h"]);
    let loaded = parse_plan(plan.to_string().as_bytes(), Path::new("p.json")).unwrap();
    let kinds: Vec<&str> = loaded.tasks[0]
        .checks
        .iter()
        .map(|c| c.spec.kind())
        .collect();
    assert_eq!(kinds, shape::kind_names());
}

#[test]
fn the_committed_schema_is_current() {
    let committed =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("plan.schema.json"))
            .unwrap();
    let current = serde_json::to_string_pretty(&Plan::json_schema()).unwrap();
    assert_eq!(
        committed.trim_end(),
        current,
        "plan.schema.json is stale: run `cargo run -- plan schema > plan.schema.json`"
    );
}

#[test]
fn a_sql_check_that_is_not_one_select_is_reported_when_the_plan_is_validated() {
    let mut plan = minimal();
    plan["tasks"][0]["checks"] = json!([
        { "id": "w", "kind": "sql", "query": "DELETE FROM orders RETURNING true" },
        { "id": "two", "kind": "sql", "query": { "postgres": "SELECT 1; SELECT 2", "sqlite": "SELECT 1" } }
    ]);
    assert_issue(
        &plan,
        "tasks[0].checks[0].query: a check must be one SELECT (or VALUES, TABLE, WITH … SELECT); \
         this query starts with DELETE",
    );
    assert_issue(
        &plan,
        "tasks[0].checks[1].query.postgres: multi-statement query rejected: a check runs exactly \
         one SELECT",
    );
}

#[test]
fn the_version_and_a_range_say_what_they_need() {
    assert_issue(
        &json!({}),
        "missing field \"version\" (1, the plan format version)",
    );
    let mut plan = minimal();
    plan["timeline"] = json!({ "original_weeks": 8, "revised_weeks": [3] });
    assert_issue(
        &plan,
        "timeline.revised_weeks: expected two whole numbers, [min, max]; found 1 number",
    );
}

#[test]
fn the_vocabulary_s_rules_name_the_field_and_what_is_expected() {
    let mut plan = minimal();
    plan["tasks"][0]["checks"] = json!([
        { "id": "a", "kind": "constraint_exists", "table": "t", "type": "unique", "references": { "table": "u" } },
        { "id": "b", "kind": "constraint_exists", "table": "t", "type": "foreign_key", "expression": "a > 0" },
        { "id": "c", "kind": "constraint_exists", "table": "t", "type": "not_null" },
        { "id": "d", "kind": "constraint_exists", "table": "t", "type": "foreign_key", "columns": ["a", "b"],
          "references": { "table": "u", "columns": ["id"] } },
        { "id": "e", "kind": "constraint_exists", "table": "t", "type": "primary-key" },
        { "id": "f", "kind": "privilege", "role": "r", "table": "t", "function": "f", "privileges": ["SELECT"], "has": true },
        { "id": "g", "kind": "privilege", "role": "r", "privileges": ["SELECT"], "has": true },
        { "id": "h", "kind": "privilege", "role": "r", "sequence": "s", "privileges": ["DELETE", "USAGE"], "has": false },
        { "id": "i", "kind": "privilege", "role": "r", "table": "t", "privileges": ["SELCT"], "has": true },
        { "id": "j", "kind": "rows_match", "query": "select 1", "expect": "nothing" },
        { "id": "k", "kind": "rows_match", "query": "select 1", "expect": [{ "a": 1 }] },
        { "id": "l", "kind": "rows_match", "query": "delete from t", "expect": "empty" },
        { "id": "m", "kind": "enum_values", "type": "e", "values": [] },
        { "id": "n", "kind": "constraint_exists", "table": "t", "type": "foreign_key",
          "references": { "table": "u", "on_delete": "SET NULL" } },
        { "id": "o", "kind": "column_exists", "table": "t", "column": "c", "identity": "yes" },
        { "id": "p", "kind": "function_absent", "name": "f", "args": ["p_id integer", "serial"] }
    ]);
    for expected in [
        "tasks[0].checks[0].references: only a foreign_key references a table; this constraint is unique",
        "tasks[0].checks[1].expression: only a check constraint has an expression; this constraint is foreign_key",
        "tasks[0].checks[2]: constraint_exists of type not_null needs \"columns\" naming exactly one column",
        "tasks[0].checks[3].references.columns: 1 referenced columns for 2 columns: a foreign key pairs them one to one",
        "tasks[0].checks[4].type: \"primary-key\" is not one of primary_key, foreign_key, unique, check, exclusion, not_null (did you mean \"primary_key\"?)",
        "tasks[0].checks[5]: privilege is about one object; it names table and function (\"schema\" may qualify it)",
        "tasks[0].checks[6]: privilege needs the object: \"table\", \"sequence\", \"function\" or \"schema\"",
        "tasks[0].checks[7].privileges[0]: \"DELETE\" is not a privilege on a sequence: one of USAGE, SELECT, UPDATE",
        "tasks[0].checks[8].privileges[0]: \"SELCT\" is not a privilege on a table: one of SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER (did you mean \"SELECT\"?)",
        "tasks[0].checks[9].expect: expected \"empty\" or an array of rows (each an array of values), found a string",
        "tasks[0].checks[10].expect[0]: expected a row as an array of values in column order (or one value), found an object",
        "tasks[0].checks[12].values: must not be empty",
        "tasks[0].checks[14].identity: \"yes\" is not one of always, by_default",
        "tasks[0].checks[15].args[1]: \"serial\" is not an argument type (serial exists only for columns); write integer",
    ] {
        assert_issue(&plan, expected);
    }
    let issues = issues_of(&plan);
    assert!(
        issues
            .iter()
            .any(|i| i.starts_with("tasks[0].checks[11].query: a check must be one SELECT")),
        "{issues:#?}"
    );
    assert!(
        issues.iter().any(|i| i
            .starts_with("tasks[0].checks[13].references.on_delete: \"SET NULL\" is not one of")),
        "{issues:#?}"
    );
}

#[test]
fn checks_that_cannot_exist_on_sqlite_are_named_and_the_rest_are_not() {
    let mut plan = minimal();
    plan["tasks"][0]["checks"] = json!([
        { "id": "e", "kind": "enum_values", "type": "e", "values": ["a"] },
        { "id": "f", "kind": "constraint_exists", "table": "t", "type": "foreign_key" },
        { "id": "i", "kind": "column_exists", "table": "t", "column": "c", "identity": "always" },
        { "id": "g", "kind": "index_exists", "table": "t", "columns": ["c"], "method": "GIN" },
        { "id": "b", "kind": "index_exists", "table": "t", "columns": ["c"], "method": "BTREE" }
    ]);
    plan["risks"] = json!([]);
    let loaded = parse_plan(plan.to_string().as_bytes(), Path::new("p.json")).unwrap();
    let unavailable: Vec<Option<&str>> = loaded.tasks[0]
        .checks
        .iter()
        .map(|c| c.spec.unavailable_on(crate::Backend::Sqlite))
        .collect();
    assert_eq!(
        unavailable,
        [
            Some("enum types"),
            None,
            Some("identity columns"),
            Some("index methods other than btree"),
            None
        ]
    );
    assert!(
        loaded.tasks[0]
            .checks
            .iter()
            .all(|c| c.spec.unavailable_on(crate::Backend::Postgres).is_none())
    );
}
