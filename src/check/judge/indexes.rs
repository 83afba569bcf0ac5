//! `index_exists`: an index found by name, or by its leading key columns in order.

use super::Facts;
use crate::check::Verdict;
use crate::check::facts::Index;
use crate::plan::IndexExists;

pub(super) fn index_exists(facts: &Facts<'_>, spec: &IndexExists) -> Verdict {
    let relation = match facts.table(spec.schema.as_deref(), &spec.table) {
        Ok(relation) => relation,
        Err(evidence) => return Verdict::fail(evidence),
    };
    let table_name = facts.shown(relation);
    let (name, columns) = (spec.name.as_deref(), spec.columns.as_deref());
    // A valid index answers before an invalid one that also matches.
    let found = relation
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
        });
    let found = found.max_by_key(|index| index.valid);
    let wanted = match (name, columns) {
        (Some(name), _) => format!("no index {name} on {table_name}"),
        (None, columns) => format!(
            "no index on {table_name} leading with ({})",
            columns.map(|c| c.join(", ")).unwrap_or_default()
        ),
    };
    match found {
        Some(index) if !index.valid => Verdict::fail(format!(
            "index {} on {table_name} is INVALID (a failed CREATE INDEX CONCURRENTLY): \
             drop it and create it again",
            describe(index)
        )),
        Some(index) => Verdict::pass(format!("index {} on {table_name}", describe(index))),
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
    format!("{} ({})", index.name, columns.join(", "))
}
