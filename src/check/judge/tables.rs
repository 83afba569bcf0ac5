//! `table_exists` and `table_absent`.

use super::{Facts, rows};
use crate::check::Verdict;
use crate::plan::TableRef;

pub(super) fn table_exists(facts: &Facts<'_>, spec: &TableRef) -> Verdict {
    match facts.table(spec.schema.as_deref(), &spec.table) {
        Ok(relation) => Verdict::pass(format!(
            "{} {} exists ({} columns)",
            relation.kind.noun(),
            facts.display(&relation.schema, &spec.table),
            relation.columns.len()
        )),
        Err(evidence) => Verdict::fail(evidence),
    }
}

pub(super) fn table_absent(facts: &Facts<'_>, spec: &TableRef) -> Verdict {
    let schema_name = facts.schema_name(spec.schema.as_deref());
    match facts.table(spec.schema.as_deref(), &spec.table) {
        Ok(relation) => {
            let rows = match facts
                .data
                .row_counts
                .get(&(relation.schema.clone(), spec.table.clone()))
            {
                Some(Ok(count)) => format!(" with {}", rows(*count)),
                _ => String::new(),
            };
            Verdict::fail(format!(
                "table {} still exists{rows}",
                facts.display(schema_name, &spec.table)
            ))
        }
        Err(evidence) => Verdict::pass(evidence),
    }
}
