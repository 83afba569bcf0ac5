//! `constraint_exists` and `constraint_absent`: a table's constraints by type, name, columns,
//! referenced table, check expression (by meaning) and validation.

use super::{Facts, column_types};
use crate::check::Verdict;
use crate::check::expr_meaning::same_expression_on;
use crate::check::facts::{Constraint, Relation, RelationKind, Resolved};
use crate::plan::{ConstraintSpec, ConstraintType};

/// `(a, b)`.
pub(super) fn columns_list(columns: &[String]) -> String {
    format!("({})", columns.join(", "))
}

/// The constraints of the asked type on a table: NOT NULL ones from the columns, since before
/// PostgreSQL 18 (and on SQLite) they are a column property, not a catalog constraint.
fn of_type(relation: &Relation, wanted: ConstraintType) -> Vec<Constraint> {
    let listed = relation
        .constraints
        .iter()
        .filter(|c| c.constraint_type == wanted)
        .cloned();
    if wanted != ConstraintType::NotNull
        || relation
            .constraints
            .iter()
            .any(|c| c.constraint_type == wanted)
    {
        return listed.collect();
    }
    relation
        .columns
        .iter()
        .filter(|c| c.not_null)
        .map(|c| Constraint {
            name: String::new(),
            constraint_type: ConstraintType::NotNull,
            columns: vec![c.name.clone()],
            references: None,
            expression: None,
            validated: true,
            definition: "NOT NULL".into(),
        })
        .collect()
}

/// Why `found` is not the constraint `spec` describes (validation aside); empty when it is.
fn differences(
    facts: &Facts<'_>,
    spec: &ConstraintSpec,
    found: &Constraint,
    relation: &Relation,
) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    if let Some(name) = &spec.name
        && &found.name != name
    {
        problems.push(format!("named {}, expected {name}", shown_name(found)));
    }
    if let Some(columns) = &spec.columns {
        let same = if spec.constraint_type == ConstraintType::Check {
            // A check constraint's columns are those its expression mentions, in no order.
            let mut a = columns.clone();
            let mut b = found.columns.clone();
            a.sort();
            b.sort();
            a == b
        } else {
            columns == &found.columns
        };
        if !same {
            problems.push(format!(
                "on {}, expected {}",
                columns_list(&found.columns),
                columns_list(columns)
            ));
        }
    }
    if let Some(references) = &spec.references {
        match &found.references {
            None => problems.push("references no table".into()),
            Some(target) => {
                let expected = match facts.resolve(references.schema.as_deref(), &references.table)
                {
                    Resolved::Relation(relation) => {
                        Some((relation.schema.clone(), relation.name.clone()))
                    }
                    Resolved::Nothing => None,
                };
                let shown = facts.display(&target.schema, &target.table);
                if expected.as_ref() != Some(&(target.schema.clone(), target.table.clone())) {
                    problems.push(format!(
                        "references {shown}, expected {}{}",
                        references.table,
                        if expected.is_none() {
                            format!(
                                " (no such table {})",
                                facts.looked_in(references.schema.as_deref())
                            )
                        } else {
                            String::new()
                        }
                    ));
                }
                if let Some(columns) = &references.columns
                    && columns != &target.columns
                {
                    problems.push(format!(
                        "references {shown}{}, expected {}",
                        columns_list(&target.columns),
                        columns_list(columns)
                    ));
                }
                for (what, expected, actual) in [
                    ("ON DELETE", references.on_delete, target.on_delete),
                    ("ON UPDATE", references.on_update, target.on_update),
                ] {
                    if let Some(expected) = expected
                        && expected != actual
                    {
                        problems.push(format!(
                            "{what} {}, expected {what} {}",
                            actual.sql(),
                            expected.sql()
                        ));
                    }
                }
            }
        }
    }
    if let Some(expected) = &spec.expression {
        let actual = found.expression.as_deref().unwrap_or_default();
        match same_expression_on(expected, actual, facts.backend, &column_types(relation)) {
            Ok(true) => {}
            Ok(false) => problems.push(format!("checks {actual}, expected {expected}")),
            Err(why) => return Err(format!("cannot compare the expression: {why}")),
        }
    }
    Ok(problems)
}

fn shown_name(constraint: &Constraint) -> String {
    if constraint.name.is_empty() {
        "(no name)".into()
    } else {
        constraint.name.clone()
    }
}

fn describe(constraint: &Constraint) -> String {
    if constraint.name.is_empty() {
        format!(
            "{} {}",
            columns_list(&constraint.columns),
            constraint.definition
        )
    } else {
        format!("{} {}", constraint.name, constraint.definition)
    }
}

pub(super) fn constraint_exists(facts: &Facts<'_>, spec: &ConstraintSpec) -> Verdict {
    let noun = spec.constraint_type.noun();
    let relation = match facts.table(spec.schema.as_deref(), &spec.table) {
        Ok(relation) => relation,
        Err(evidence) => return Verdict::fail(format!("{noun} missing: {evidence}")),
    };
    let table = facts.shown(relation);
    if spec.constraint_type == ConstraintType::NotNull
        && let Some(column) = spec.columns.as_ref().and_then(|c| c.first())
        && !relation.columns.iter().any(|c| &c.name == column)
    {
        return Verdict::fail(format!("column {column} missing from {table}"));
    }
    if spec.constraint_type == ConstraintType::NotNull
        && spec.name.is_some()
        && !relation
            .constraints
            .iter()
            .any(|c| c.constraint_type == ConstraintType::NotNull)
    {
        return Verdict::error(format!(
            "NOT NULL constraints have no names on this {} (PostgreSQL names them from version 18): leave \"name\" out",
            facts.backend.display_name()
        ));
    }
    if let Some(why) = unknown_sql(relation, spec) {
        return Verdict::error(why);
    }
    let candidates = of_type(relation, spec.constraint_type);
    let mut near: Vec<(String, Vec<String>)> = Vec::new();
    let mut matching = Vec::new();
    // A candidate whose expression cannot be read says nothing; it matters only if no other
    // candidate matches.
    let mut unreadable = None;
    for found in &candidates {
        match differences(facts, spec, found, relation) {
            Ok(problems) if problems.is_empty() => matching.push(found),
            Ok(problems) => near.push((describe(found), problems)),
            Err(why) => unreadable = Some(why),
        }
    }
    if matching.is_empty()
        && let Some(why) = unreadable
    {
        return Verdict::error(why);
    }
    // A validated match answers before a NOT VALID one.
    matching.sort_by_key(|c| !c.validated);
    match (matching.first(), spec.validated) {
        (Some(found), Some(true) | None) if found.validated => {
            Verdict::pass(format!("{noun} {} on {table}", describe(found)))
        }
        (Some(found), Some(false)) if !found.validated => Verdict::pass(format!(
            "{noun} {} on {table} is NOT VALID, as expected",
            describe(found)
        )),
        (Some(found), None) => Verdict::pass(format!(
            "{noun} {} on {table} exists but is NOT VALID: rows older than it were never checked",
            describe(found)
        ))
        .with_warning(Some(format!(
            "{} on {table} is NOT VALID (ALTER TABLE … VALIDATE CONSTRAINT checks the old rows); add \"validated\": true to require it",
            shown_name(found)
        ))),
        (Some(found), Some(true)) => Verdict::fail(format!(
            "{noun} {} on {table} exists but is NOT VALID: it was never validated (ALTER TABLE … VALIDATE CONSTRAINT {})",
            describe(found),
            shown_name(found)
        )),
        (Some(found), Some(false)) => Verdict::fail(format!(
            "{noun} {} on {table} is validated, expected NOT VALID",
            describe(found)
        )),
        (None, _) if candidates.is_empty() => {
            Verdict::fail(format!("no {noun} on {table}{}", unique_index_hint(relation, spec)))
        }
        (None, _) => {
            let listed: Vec<String> = near
                .iter()
                .take(5)
                .map(|(found, problems)| format!("{found}: {}", problems.join(", ")))
                .collect();
            Verdict::fail(format!(
                "no matching {noun} on {table}; {}{}{}",
                listed.join("; "),
                if near.len() > 5 {
                    format!("; and {} more", near.len() - 5)
                } else {
                    String::new()
                },
                unique_index_hint(relation, spec)
            ))
        }
    }
}

/// A unique index made with `CREATE UNIQUE INDEX` enforces uniqueness but is no constraint in
/// the catalog; when one covers exactly the columns asked, say so and how to check it.
fn unique_index_hint(relation: &Relation, spec: &ConstraintSpec) -> String {
    let (ConstraintType::Unique, Some(columns)) = (spec.constraint_type, &spec.columns) else {
        return String::new();
    };
    let constrained: Vec<&str> = relation
        .constraints
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    relation
        .indexes
        .iter()
        .find(|index| {
            index.unique
                && !index.primary
                && index.predicate.is_none()
                && !constrained.contains(&index.name.as_str())
                && index.columns.len() == columns.len()
                && index
                    .columns
                    .iter()
                    .zip(columns)
                    .all(|(have, want)| have.as_deref() == Some(want.as_str()))
        })
        .map(|index| {
            format!(
                "; a unique index {} on ({}) exists, which is not a constraint (index_exists with \
                 \"unique\": true checks it; ALTER TABLE … ADD CONSTRAINT … UNIQUE USING INDEX {} \
                 makes it one)",
                index.name,
                columns.join(", "),
                index.name
            )
        })
        .unwrap_or_default()
}

pub(super) fn constraint_absent(facts: &Facts<'_>, spec: &ConstraintSpec) -> Verdict {
    let noun = spec.constraint_type.noun();
    let schema = spec.schema.as_deref();
    let relation = match facts.resolve(schema, &spec.table) {
        // Foreign tables carry NOT NULL and CHECK constraints too.
        Resolved::Relation(relation)
            if relation.kind.is_table() || relation.kind == RelationKind::ForeignTable =>
        {
            relation
        }
        Resolved::Relation(relation) => {
            return Verdict::pass(format!(
                "{} is the {} {}, which has no constraints",
                spec.table,
                relation.kind.noun(),
                facts.shown(relation)
            ));
        }
        Resolved::Nothing => {
            let (evidence, warning) = facts.absent(schema, &spec.table);
            return Verdict::pass(format!("{noun} is gone with its table: {evidence}"))
                .with_warning(warning);
        }
    };
    let table = facts.shown(relation);
    if let Some(why) = unknown_sql(relation, spec) {
        return Verdict::error(why);
    }
    let mut still = Vec::new();
    // Expressions are compared so as never to call two different ones the same, which leaves
    // some alike ones called different: for an absence that would be a false "gone". A
    // remaining check on the very columns the expression names, differing in nothing but how
    // its expression reads, cannot be told apart from the one asked about.
    let mut unsure = Vec::new();
    let without_expression = ConstraintSpec {
        expression: None,
        ..spec.clone()
    };
    let mentioned: Vec<&str> = spec
        .expression
        .as_deref()
        .map(|expression| {
            relation
                .columns
                .iter()
                .map(|c| c.name.as_str())
                .filter(|name| mentions(expression, name))
                .collect()
        })
        .unwrap_or_default();
    for found in of_type(relation, spec.constraint_type) {
        let validation_matches = spec
            .validated
            .is_none_or(|validated| validated == found.validated);
        match differences(facts, spec, &found, relation) {
            Ok(problems) if problems.is_empty() && validation_matches => {
                still.push(describe(&found))
            }
            Ok(_) | Err(_)
                if spec.expression.is_some()
                    && validation_matches
                    && differences(facts, &without_expression, &found, relation)
                        .is_ok_and(|problems| problems.is_empty())
                    && same_set(&mentioned, &found.columns) =>
            {
                unsure.push(describe(&found))
            }
            Ok(_) => {}
            Err(why) => return Verdict::error(why),
        }
    }
    if !still.is_empty() {
        Verdict::fail(format!("{noun} still on {table}: {}", still.join("; ")))
    } else if !unsure.is_empty() {
        Verdict::error(format!(
            "cannot tell: {} is still on {table}, on the columns the expression names, and its \
             expression reads differently from the one given; give \"name\" to check by name",
            unsure.join("; ")
        ))
    } else {
        Verdict::pass(format!("no such {noun} on {table}"))
    }
}

/// On SQLite, check constraints and key names live only in the table's SQL: when it could not
/// be read, nothing can be said of them.
fn unknown_sql(relation: &Relation, spec: &ConstraintSpec) -> Option<String> {
    let why = relation.unreadable_sql.as_ref()?;
    (spec.constraint_type == ConstraintType::Check || spec.name.is_some()).then(|| {
        format!(
            "cannot tell: the CREATE TABLE of {} could not be read ({why})",
            relation.name
        )
    })
}

/// Whether `expression` names `column` as a word (a conservative reading: a column named
/// inside a string literal counts too).
pub(crate) fn mentions(expression: &str, column: &str) -> bool {
    expression
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|word| word.eq_ignore_ascii_case(column))
}

fn same_set(a: &[&str], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.iter().any(|y| y == x))
}
