//! Property tests ("fuzzing" on stable Rust) of everything that reads text from people or plans:
//! the plan loader, the type and default parsers and the SQL screen never panic, and the
//! type and default parsers read back what they print. `PROPTEST_CASES` raises the case count for a longer run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use proptest::prelude::*;
use remtrack::Backend;
use remtrack::check::default_expr::{parse_default, same_default};
use remtrack::check::screen_check_sql;
use remtrack::check::sqltype::parse_type;
use remtrack::plan::parse_plan;

const SHIPPED_PLAN: &str = include_str!("../plan.json");

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::from),
        prop::sample::select(vec![
            "table_exists",
            "row_count",
            "sql",
            "done",
            "high",
            "1",
            "id",
            "t"
        ])
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = prop::sample::select(vec![
            "version",
            "title",
            "days",
            "day",
            "phases",
            "phase",
            "tasks",
            "id",
            "kind",
            "table",
            "checks",
            "priority",
            "claimed",
            "depends_on",
            "fix",
            "sql",
            "guards",
            "risks",
            "watch",
            "columns",
            "type",
            "x",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::from),
            prop::collection::btree_map(keys, inner, 0..6).prop_map(|m| serde_json::Value::Object(
                m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

/// A type or default that parses prints a canonical form that parses to the same thing, and
/// a default means itself.
fn check_reads_back(text: &str) -> Result<(), TestCaseError> {
    if let Ok(parsed) = parse_type(text) {
        let printed = parsed.to_string();
        let again = parse_type(&printed);
        prop_assert_eq!(
            again.as_ref().ok(),
            Some(&parsed),
            "type {:?} printed {:?}",
            text,
            printed
        );
    }
    let resolve = |_: Option<&str>, _: &str| None;
    if let Ok(parsed) = parse_default(text, &resolve) {
        let printed = parsed.to_string();
        let again = parse_default(&printed, &resolve);
        prop_assert_eq!(
            again.as_ref().ok(),
            Some(&parsed),
            "default {:?} printed {:?}",
            text,
            printed
        );
        for column_type in ["integer", "boolean", "text"] {
            prop_assert!(same_default(&parsed, &parsed, column_type));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_loader_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_plan(&bytes, Path::new("fuzz.json"));
    }

    #[test]
    fn the_loader_never_panics_on_plan_shaped_json(value in json_value()) {
        let _ = parse_plan(value.to_string().as_bytes(), Path::new("fuzz.json"));
    }

    #[test]
    fn the_loader_never_panics_on_a_damaged_shipped_plan(cut in 0usize..SHIPPED_PLAN.len(), byte in any::<u8>()) {
        let mut bytes = SHIPPED_PLAN.as_bytes().to_vec();
        bytes[cut] = byte;
        let _ = parse_plan(&bytes, Path::new("fuzz.json"));
        let _ = parse_plan(&SHIPPED_PLAN.as_bytes()[..cut], Path::new("fuzz.json"));
    }

    #[test]
    fn type_and_default_parsing_never_panics_and_reads_back_its_own_output(text in ".{0,40}") {
        check_reads_back(&text)?;
    }

    #[test]
    fn sql_like_text_reads_back_its_own_output(text in "[ \t(),:'a-zA-Z0-9_.\\[\\]{}+-]{0,40}") {
        check_reads_back(&text)?;
    }

    #[test]
    fn the_sql_screen_never_panics(text in ".{0,80}", sqlish in "[ ;'\"$a-z()*/-]{0,60}") {
        let _ = screen_check_sql(&text, Backend::Postgres);
        let _ = screen_check_sql(&sqlish, Backend::Postgres);
        let _ = screen_check_sql(&sqlish, Backend::Sqlite);
    }
}
