//! `table_exists` and `table_absent`, on the name as PostgreSQL resolves it.

use super::{Facts, rows};
use crate::check::Verdict;
use crate::check::facts::{Relation, Resolved};
use crate::plan::TableRef;

pub(super) fn table_exists(facts: &Facts<'_>, spec: &TableRef) -> Verdict {
    match facts.table(spec.schema.as_deref(), &spec.table) {
        Ok(relation) => {
            let mut evidence = format!(
                "{} {} exists ({} columns)",
                relation.kind.noun(),
                facts.shown(relation),
                relation.columns.len()
            );
            for hidden in facts.hidden_by(spec.schema.as_deref(), relation) {
                evidence.push_str(&format!(
                    "; it hides the {} {} later on the search path",
                    hidden.kind.noun(),
                    facts.shown(hidden)
                ));
            }
            Verdict::pass(evidence)
        }
        Err(evidence) => Verdict::fail(evidence),
    }
}

/// Passes only when the name means nothing where PostgreSQL looks: a view or a sequence that
/// took the dropped table's name still answers to it.
pub(super) fn table_absent(facts: &Facts<'_>, spec: &TableRef) -> Verdict {
    let schema = spec.schema.as_deref();
    match facts.resolve(schema, &spec.table) {
        Resolved::Relation(relation) if relation.kind.is_table() => Verdict::fail(format!(
            "table {} still exists{}",
            facts.shown(relation),
            row_note(facts, relation)
        )),
        Resolved::Relation(relation) => Verdict::fail(format!(
            "no table, but {} still names the {} {}",
            spec.table,
            relation.kind.noun(),
            facts.shown(relation)
        )),
        Resolved::Nothing => {
            let (evidence, warning) = facts.absent(schema, &spec.table);
            Verdict::pass(evidence).with_warning(warning)
        }
    }
}

/// ` with 3 rows`, when the count was read.
fn row_note(facts: &Facts<'_>, relation: &Relation) -> String {
    match facts
        .data
        .row_counts
        .get(&(relation.schema.clone(), relation.name.clone()))
    {
        Some(Ok(count)) => format!(" with {}", rows(*count)),
        _ => String::new(),
    }
}
