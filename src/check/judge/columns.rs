//! `column_exists` (with type, nullability and default compared by meaning) and `column_absent`.

use super::Facts;
use super::column_type::default_mismatch;
use super::column_type::type_mismatch;
use crate::check::Verdict;
use crate::check::default_expr::parse_default;
use crate::check::facts::Resolved;
use crate::plan::{ColumnExists, ColumnRef};

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
    let mut expected_default = None;
    if let Some(expected) = &spec.default {
        match &found.default {
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
            described.push_str(&format!(", default {default}"));
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
