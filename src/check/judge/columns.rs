//! `column_exists` (with type, nullability and default compared by meaning) and `column_absent`.

use super::column_type::default_mismatch;
use super::column_type::type_mismatch;
use super::{Facts, column_types};
use crate::check::Verdict;
use crate::check::default_expr::parse_default;
use crate::check::expr_meaning::same_expression_on;
use crate::check::facts::{Column, Relation, Resolved};
use crate::plan::{ColumnExists, ColumnRef};

/// What differs in identity, generation, collation and comment.
fn details_mismatch(
    facts: &Facts<'_>,
    spec: &ColumnExists,
    found: &Column,
    relation: &Relation,
) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    if let Some(why) = &relation.unreadable_sql
        && (spec.generated.is_some() || spec.collation.is_some())
    {
        return Err(format!(
            "cannot tell: the table's CREATE statement could not be read ({why})"
        ));
    }
    if let Some(expected) = spec.identity
        && found.identity_kind != Some(expected)
    {
        problems.push(match found.identity_kind {
            Some(actual) => format!("column is {}, expected {}", actual.sql(), expected.sql()),
            None => format!(
                "column is not an identity column, expected {}",
                expected.sql()
            ),
        });
    }
    if let Some(expected) = &spec.generated {
        match (&found.default, found.generated) {
            (Some(actual), true) => {
                match same_expression_on(expected, actual, facts.backend, &column_types(relation)) {
                    Ok(true) => {}
                    Ok(false) => problems.push(format!(
                        "column is generated as {actual}, expected {expected}"
                    )),
                    Err(why) => {
                        return Err(format!("cannot compare the generated expression: {why}"));
                    }
                }
            }
            _ => problems.push(format!(
                "column is not generated, expected generated as {expected}"
            )),
        }
    }
    let details = found.details.clone().unwrap_or_default();
    if let Some(expected) = &spec.collation {
        let expected = expected.trim_matches('"');
        let default = expected.eq_ignore_ascii_case("default");
        let sqlite = facts.backend == crate::Backend::Sqlite;
        let same = match &details.collation {
            // SQLite's collation names are not case-sensitive, and BINARY is its default.
            Some(actual) if sqlite => {
                actual.eq_ignore_ascii_case(expected)
                    || (default && actual.eq_ignore_ascii_case("binary"))
            }
            Some(actual) => actual == expected,
            None => default || (sqlite && expected.eq_ignore_ascii_case("binary")),
        };
        if !same {
            problems.push(format!(
                "collation is {}, expected {expected}",
                details.collation.as_deref().unwrap_or("the default")
            ));
        }
    }
    if let Some(expected) = &spec.comment
        && details.comment.as_deref().unwrap_or_default() != expected
    {
        problems.push(match &details.comment {
            Some(actual) => format!("comment is {actual:?}, expected {expected:?}"),
            None => format!("no comment, expected {expected:?}"),
        });
    }
    Ok(problems)
}

pub(super) fn column_exists(facts: &Facts<'_>, spec: &ColumnExists) -> Verdict {
    let column = &spec.column;
    let relation = match facts.table(spec.schema.as_deref(), &spec.table) {
        Ok(relation) => relation,
        Err(evidence) => return Verdict::fail(format!("column {column} missing: {evidence}")),
    };
    let table_name = facts.shown(relation);
    let Some(found) = relation.columns.iter().find(|c| &c.name == column) else {
        let mut evidence = format!("column {column} missing from {table_name}");
        if let Some(other) = relation
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(column))
        {
            evidence.push_str(&format!(
                "; a column {} exists (names are case-sensitive)",
                other.name
            ));
        }
        return Verdict::fail(evidence);
    };
    let mut problems = Vec::new();
    let mut expected_type = None;
    if let Some(expected) = &spec.data_type {
        match type_mismatch(facts, expected, found) {
            Ok((problem, canonical)) => {
                problems.extend(problem);
                expected_type = Some(canonical);
            }
            Err(why) => return Verdict::error(why),
        }
    }
    if let Some(expected) = spec.nullable
        && expected == found.not_null
    {
        problems.push(if found.not_null {
            "column is NOT NULL, expected nullable".to_string()
        } else {
            "column is nullable, expected NOT NULL".to_string()
        });
    }
    // A generated column's expression is kept where a default is: it is not a default.
    let found_default = if found.generated {
        None
    } else {
        found.default.as_ref()
    };
    match details_mismatch(facts, spec, found, relation) {
        Ok(more) => problems.extend(more),
        Err(why) => return Verdict::error(why),
    }
    let mut expected_default = None;
    if let Some(expected) = &spec.default {
        match found_default {
            Some(actual) => match default_mismatch(facts, expected, actual, found) {
                Ok((differs, canonical)) => {
                    if differs {
                        problems.push(format!("default is {actual}, expected {expected}"));
                    }
                    expected_default = Some(canonical);
                }
                Err(why) => return Verdict::error(why),
            },
            None => {
                problems.push(format!("no default, expected {expected}"));
                expected_default = parse_default(expected, &|_, _| None)
                    .ok()
                    .map(|d| d.to_string());
            }
        }
    }
    let verdict = if problems.is_empty() {
        let mut described = found.data_type.clone();
        if let Some(default) = &found.default {
            if found.generated {
                described.push_str(&format!(", generated always as {default}"));
            } else {
                described.push_str(&format!(", default {default}"));
            }
        }
        if let Some(identity) = found.identity_kind {
            described.push_str(&format!(", {}", identity.sql().to_lowercase()));
        }
        if let Some(collation) = found.details.as_ref().and_then(|d| d.collation.as_ref()) {
            described.push_str(&format!(", collate {collation}"));
        }
        if found.not_null {
            described.push_str(", not null");
        }
        Verdict::pass(format!("column {table_name}.{column} exists ({described})"))
    } else {
        Verdict::fail(format!("{table_name}.{column}: {}", problems.join("; ")))
    };
    let mut verdict = verdict
        .with_fact("type", found.data_type.clone())
        .with_fact("not_null", found.not_null)
        .with_fact("default", found.default.clone());
    if let Some(expected) = expected_type {
        verdict = verdict.with_fact("expected_type", expected);
    }
    if let Some(expected) = expected_default {
        verdict = verdict.with_fact("expected_default", expected);
    }
    verdict
}

/// Passes when the name means nothing where PostgreSQL looks, or a relation without the
/// column: a view that still shows the column counts as the column still being there.
pub(super) fn column_absent(facts: &Facts<'_>, spec: &ColumnRef) -> Verdict {
    let (schema, column) = (spec.schema.as_deref(), &spec.column);
    let relation = match facts.resolve(schema, &spec.table) {
        Resolved::Relation(relation) => relation,
        Resolved::Nothing => {
            let (evidence, warning) = facts.absent(schema, &spec.table);
            return Verdict::pass(format!("column {column} is gone: {evidence}"))
                .with_warning(warning);
        }
    };
    let shown = facts.shown(relation);
    match relation.columns.iter().find(|c| &c.name == column) {
        Some(found) if relation.kind.is_table() => Verdict::fail(format!(
            "column {column} still exists in {shown} ({})",
            found.data_type
        )),
        Some(found) => Verdict::fail(format!(
            "column {column} still exists in the {} {shown} ({})",
            relation.kind.noun(),
            found.data_type
        )),
        None => Verdict::pass(format!(
            "column {column} is not in the {} {shown}",
            relation.kind.noun()
        )),
    }
}
