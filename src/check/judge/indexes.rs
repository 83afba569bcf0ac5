//! `index_exists`: an index found by name, or by its leading key columns in order, with its
//! uniqueness, partial predicate (by meaning), method, included columns and validity.

use super::{Facts, column_types};
use crate::check::Verdict;
use crate::check::expr_meaning::same_expression_on;
use crate::check::facts::{Index, Relation};
use crate::plan::IndexExists;

/// Why `index` is not the index `spec` describes (validity aside); empty when it is.
fn differences(
    facts: &Facts<'_>,
    spec: &IndexExists,
    index: &Index,
    relation: &Relation,
) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    // Unique on (email, tenant_id) does not make email unique, nor does a partial unique index
    // make the column unique where its predicate does not hold.
    if spec.unique == Some(true) && index.unique {
        if let Some(wanted) = &spec.columns
            && wanted.len() != index.columns.len()
        {
            problems.push(format!(
                "is unique on all of ({}), not on ({}) alone",
                index
                    .columns
                    .iter()
                    .map(|c| c.as_deref().unwrap_or("(expression)"))
                    .collect::<Vec<_>>()
                    .join(", "),
                wanted.join(", ")
            ));
        }
        if spec.predicate.is_none()
            && let Some(predicate) = &index.predicate
        {
            problems.push(format!("is unique only WHERE {predicate}"));
        }
    }
    if let Some(unique) = spec.unique
        && unique != index.unique
    {
        problems.push(
            if index.unique {
                "is UNIQUE, expected not unique"
            } else {
                "is not UNIQUE"
            }
            .to_string(),
        );
    }
    if let Some(expected) = &spec.predicate {
        match &index.predicate {
            Some(actual) => {
                match same_expression_on(expected, actual, facts.backend, &column_types(relation)) {
                    Ok(true) => {}
                    Ok(false) => problems.push(format!(
                        "is partial WHERE {actual}, expected WHERE {expected}"
                    )),
                    Err(why) => return Err(format!("cannot compare the predicate: {why}")),
                }
            }
            None => problems.push(format!("is not partial, expected WHERE {expected}")),
        }
    }
    if let Some(method) = &spec.method
        && !method.eq_ignore_ascii_case(&index.method)
    {
        problems.push(format!("uses {}, expected {method}", index.method));
    }
    if let Some(include) = &spec.include
        && include != &index.include
    {
        problems.push(if index.include.is_empty() {
            format!(
                "includes no columns, expected INCLUDE ({})",
                include.join(", ")
            )
        } else {
            format!(
                "includes ({}), expected ({})",
                index.include.join(", "),
                include.join(", ")
            )
        });
    }
    Ok(problems)
}

pub(super) fn index_exists(facts: &Facts<'_>, spec: &IndexExists) -> Verdict {
    let relation = match facts.table(spec.schema.as_deref(), &spec.table) {
        Ok(relation) => relation,
        Err(evidence) => return Verdict::fail(evidence),
    };
    let table_name = facts.shown(relation);
    let (name, columns) = (spec.name.as_deref(), spec.columns.as_deref());
    let found: Vec<&Index> = relation
        .indexes
        .iter()
        .filter(|index| match (name, columns) {
            (Some(name), _) => index.name == name,
            (None, Some(wanted)) => {
                wanted.len() <= index.columns.len()
                    && wanted
                        .iter()
                        .zip(&index.columns)
                        .all(|(w, have)| have.as_deref() == Some(w.as_str()))
            }
            (None, None) => false,
        })
        .collect();
    let wanted = match (name, columns) {
        (Some(name), _) => format!("no index {name} on {table_name}"),
        (None, columns) => format!(
            "no index on {table_name} leading with ({})",
            columns.map(|c| c.join(", ")).unwrap_or_default()
        ),
    };
    let mut near = Vec::new();
    let mut matching = Vec::new();
    for index in &found {
        match differences(facts, spec, index, relation) {
            Ok(problems) if problems.is_empty() => matching.push(*index),
            Ok(problems) => near.push(format!("{} {}", describe(index), problems.join(", "))),
            Err(why) => return Verdict::error(why),
        }
    }
    let want_valid = spec.valid.unwrap_or(true);
    // One of the validity asked answers before one that is not.
    matching.sort_by_key(|index| index.valid != want_valid);
    match matching.first() {
        Some(index) if index.valid == want_valid => Verdict::pass(format!(
            "index {} on {table_name}{}",
            describe(index),
            if index.valid {
                ""
            } else {
                " (INVALID, as expected)"
            }
        )),
        Some(index) if !index.valid => Verdict::fail(format!(
            "index {} on {table_name} exists but is INVALID (a failed CREATE INDEX CONCURRENTLY \
             leaves one): PostgreSQL does not use it; drop it and create it again",
            describe(index)
        )),
        Some(index) => Verdict::fail(format!(
            "index {} on {table_name} is valid, expected INVALID",
            describe(index)
        )),
        None if !near.is_empty() => Verdict::fail(format!(
            "no matching index on {table_name}: {}",
            near.join("; ")
        )),
        None if relation.indexes.is_empty() => {
            Verdict::fail(format!("{wanted}; it has no indexes"))
        }
        None => {
            let existing: Vec<String> = relation.indexes.iter().map(describe).collect();
            Verdict::fail(format!("{wanted}; indexes: {}", existing.join(", ")))
        }
    }
}

fn describe(index: &Index) -> String {
    let columns: Vec<&str> = index
        .columns
        .iter()
        .map(|c| c.as_deref().unwrap_or("(expression)"))
        .collect();
    let mut text = format!("{} ({})", index.name, columns.join(", "));
    if index.unique && !index.primary {
        text = format!("{text} UNIQUE");
    }
    if !index.method.is_empty() && index.method != "btree" {
        text.push_str(&format!(" USING {}", index.method));
    }
    if !index.include.is_empty() {
        text.push_str(&format!(" INCLUDE ({})", index.include.join(", ")));
    }
    if let Some(predicate) = &index.predicate {
        text.push_str(&format!(" WHERE {predicate}"));
    }
    text
}
