//! Named objects other than tables: enum labels, views, sequences, extensions and schemas.

use super::Facts;
use crate::check::Verdict;
use crate::check::facts::{RelationKind, Resolved, TypeEntry};
use crate::plan::{EnumMatch, EnumValues, ExtensionSpec, SchemaRef, SequenceRef, ViewSpec};

/// The first line of a view's definition that says something.
fn first_line(definition: &str) -> &str {
    definition
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or_default()
}

/// The type a name means: in the schema given, else the first schema on the search path that
/// has a type of that name (types resolve as relations do).
fn resolve_type<'a>(facts: &Facts<'a>, schema: Option<&str>, name: &str) -> Option<&'a TypeEntry> {
    let named = || facts.schema.types.iter().filter(move |t| t.name == name);
    let schema = match schema {
        Some(schema) => schema,
        None => facts.first_on_path(named().map(|t| t.schema.as_str()))?,
    };
    named().find(|t| t.schema == schema)
}

fn quoted_list(labels: &[String]) -> String {
    labels
        .iter()
        .map(|l| format!("'{l}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn enum_values(facts: &Facts<'_>, spec: &EnumValues) -> Verdict {
    let schema = spec.schema.as_deref();
    if schema.is_none()
        && let Some(why) = facts.hidden_in_unusable(
            "type",
            &spec.type_name,
            facts
                .schema
                .types
                .iter()
                .filter(|t| t.name == spec.type_name)
                .map(|t| t.schema.as_str()),
        )
    {
        return Verdict::error(why);
    }
    let Some(found) = resolve_type(facts, schema, &spec.type_name) else {
        let elsewhere: Vec<String> = facts
            .schema
            .types
            .iter()
            .filter(|t| t.name.eq_ignore_ascii_case(&spec.type_name))
            .map(|t| format!("a {} {}.{} exists", t.kind, t.schema, t.name))
            .collect();
        let mut evidence = format!("no type {} {}", spec.type_name, facts.looked_in(schema));
        if !elsewhere.is_empty() {
            evidence.push_str(&format!("; {}", elsewhere.join("; ")));
        }
        return Verdict::fail(evidence);
    };
    let shown = facts.display(&found.schema, &found.name);
    if found.kind != "enum" {
        return Verdict::fail(format!("{shown} is a {}, not an enum", found.kind));
    }
    let labels = &found.labels;
    let missing: Vec<String> = spec
        .values
        .iter()
        .filter(|v| !labels.contains(v))
        .cloned()
        .collect();
    let extra: Vec<String> = labels
        .iter()
        .filter(|l| !spec.values.contains(l))
        .cloned()
        .collect();
    let verdict = match spec.match_ {
        EnumMatch::Exactly if labels == &spec.values => {
            Verdict::pass(format!("enum {shown} is ({})", quoted_list(labels)))
        }
        EnumMatch::Contains if missing.is_empty() => Verdict::pass(format!(
            "enum {shown} has {} ({})",
            quoted_list(&spec.values),
            quoted_list(labels)
        )),
        _ => {
            let mut problems = Vec::new();
            if !missing.is_empty() {
                problems.push(format!("missing {}", quoted_list(&missing)));
            }
            if spec.match_ == EnumMatch::Exactly && !extra.is_empty() {
                problems.push(format!("not expected {}", quoted_list(&extra)));
            }
            if problems.is_empty() {
                problems.push(format!(
                    "expected the order ({})",
                    quoted_list(&spec.values)
                ));
            }
            Verdict::fail(format!(
                "enum {shown} is ({}): {}",
                quoted_list(labels),
                problems.join("; ")
            ))
        }
    };
    verdict.with_fact("labels", labels.clone())
}

fn view_kind(materialized: bool) -> RelationKind {
    if materialized {
        RelationKind::MaterializedView
    } else {
        RelationKind::View
    }
}

pub(super) fn view_exists(facts: &Facts<'_>, spec: &ViewSpec) -> Verdict {
    let schema = spec.schema.as_deref();
    let wanted = view_kind(spec.materialized);
    let relation = match facts.resolve(schema, &spec.view) {
        Resolved::Relation(relation) => relation,
        Resolved::Nothing => {
            return Verdict::fail(facts.missing(wanted.noun(), schema, &spec.view));
        }
    };
    let shown = facts.shown(relation);
    if relation.kind != wanted {
        let hint = match relation.kind {
            RelationKind::MaterializedView => " (add \"materialized\": true)",
            RelationKind::View if spec.materialized => " (not materialized)",
            _ => "",
        };
        return Verdict::fail(format!(
            "{} is the {} {shown}, not a {}{hint}",
            spec.view,
            relation.kind.noun(),
            wanted.noun()
        ));
    }
    if let Some(columns) = &spec.columns {
        let missing: Vec<&str> = columns
            .iter()
            .filter(|c| !relation.columns.iter().any(|have| &have.name == *c))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            let have: Vec<&str> = relation.columns.iter().map(|c| c.name.as_str()).collect();
            return Verdict::fail(format!(
                "{} {shown} lacks {} (it shows {})",
                wanted.noun(),
                missing.join(", "),
                have.join(", ")
            ));
        }
    }
    let definition = relation
        .definition
        .as_deref()
        .map(first_line)
        .unwrap_or_default();
    Verdict::pass(format!(
        "{} {shown} ({} columns): {definition}",
        wanted.noun(),
        relation.columns.len()
    ))
    .with_fact("definition", relation.definition.clone())
}

pub(super) fn view_absent(facts: &Facts<'_>, spec: &ViewSpec) -> Verdict {
    let schema = spec.schema.as_deref();
    let wanted = view_kind(spec.materialized);
    match facts.resolve(schema, &spec.view) {
        Resolved::Relation(relation) if relation.kind == wanted => Verdict::fail(format!(
            "{} {} still exists: {}",
            wanted.noun(),
            facts.shown(relation),
            relation
                .definition
                .as_deref()
                .map(first_line)
                .unwrap_or_default()
        )),
        Resolved::Relation(relation) => Verdict::pass(format!(
            "no {}: {} is the {} {}",
            wanted.noun(),
            spec.view,
            relation.kind.noun(),
            facts.shown(relation)
        )),
        Resolved::Nothing => {
            let (evidence, warning) = facts.absent(schema, &spec.view);
            Verdict::pass(evidence).with_warning(warning)
        }
    }
}

pub(super) fn sequence_exists(facts: &Facts<'_>, spec: &SequenceRef) -> Verdict {
    let schema = spec.schema.as_deref();
    match facts.resolve(schema, &spec.sequence) {
        Resolved::Relation(relation) if relation.kind == RelationKind::Sequence => {
            Verdict::pass(format!("sequence {} exists", facts.shown(relation)))
        }
        Resolved::Relation(relation) => Verdict::fail(format!(
            "{} is the {} {}, not a sequence",
            spec.sequence,
            relation.kind.noun(),
            facts.shown(relation)
        )),
        Resolved::Nothing => Verdict::fail(facts.missing("sequence", schema, &spec.sequence)),
    }
}

/// Versions compare part by part, numbers as numbers (`1.10` is later than `1.6`).
pub(super) fn version_at_least(installed: &str, minimum: &str) -> bool {
    let parts = |v: &str| -> Vec<(u64, String)> {
        v.split(['.', '-'])
            .map(|p| {
                let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
                (digits.parse().unwrap_or(0), p[digits.len()..].to_string())
            })
            .collect()
    };
    let (a, b) = (parts(installed), parts(minimum));
    for at in 0..a.len().max(b.len()) {
        let x = a.get(at).cloned().unwrap_or_default();
        let y = b.get(at).cloned().unwrap_or_default();
        if x != y {
            return x > y;
        }
    }
    true
}

pub(super) fn extension_exists(facts: &Facts<'_>, spec: &ExtensionSpec) -> Verdict {
    let name = &spec.extension;
    let found = facts.schema.extensions.iter().find(|x| &x.name == name);
    match found.and_then(|x| x.installed.as_deref().map(|v| (x, v))) {
        Some((extension, installed)) => {
            let place = extension
                .schema
                .as_deref()
                .map(|s| format!(" in schema {s}"))
                .unwrap_or_default();
            match &spec.version {
                Some(minimum) if !version_at_least(installed, minimum) => Verdict::fail(format!(
                    "extension {name} {installed} is installed{place}, expected {minimum} or later{}",
                    extension
                        .available
                        .as_deref()
                        .map(|v| format!(" (the server has {v}: ALTER EXTENSION {name} UPDATE)"))
                        .unwrap_or_default()
                )),
                _ => Verdict::pass(format!("extension {name} {installed} is installed{place}")),
            }
            .with_fact("version", installed.to_string())
        }
        None => match found.and_then(|x| x.available.as_deref()) {
            Some(available) => Verdict::fail(format!(
                "extension {name} is not installed in this database (the server has version {available}: CREATE EXTENSION {name})"
            )),
            None => Verdict::fail(format!(
                "extension {name} is not installed, and the server does not have it"
            )),
        },
    }
}

pub(super) fn schema_exists(facts: &Facts<'_>, spec: &SchemaRef) -> Verdict {
    match facts.schema.schemas.iter().find(|s| s.name == spec.schema) {
        Some(found) => Verdict::pass(format!(
            "schema {} exists (owner {})",
            found.name, found.owner
        )),
        None => Verdict::fail(format!("no schema {}", spec.schema)),
    }
}

pub(super) fn schema_absent(facts: &Facts<'_>, spec: &SchemaRef) -> Verdict {
    match facts.schema.schemas.iter().find(|s| s.name == spec.schema) {
        Some(found) => Verdict::fail(format!(
            "schema {} still exists (owner {})",
            found.name, found.owner
        )),
        None => Verdict::pass(format!("no schema {}", spec.schema)),
    }
}
