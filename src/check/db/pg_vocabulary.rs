//! The vocabulary beyond relations and columns, read from the JSON the catalog statement builds
//! for it: constraints, triggers, view definitions, column details, index details, and the
//! types, extensions, schemas, functions and privileges the plan names.
//!
//! JSON here (and parallel arrays for columns) because these rows are few, only for what the
//! plan names; anything malformed is left out, and the check that needed it says it found none.

use serde_json::Value;

use crate::check::facts::{
    ColumnDetails, Constraint, Extension, ForeignKeyTarget, Function, Grant, Index, Relation,
    SchemaEntry, SchemaSnapshot, Trigger, TypeEntry,
};
use crate::plan::{ConstraintType, PrivilegeObject, ReferentialAction};

pub(super) fn text(value: &Value, at: usize) -> Option<String> {
    value.get(at).and_then(Value::as_str).map(str::to_string)
}

pub(super) fn oid(value: &Value, at: usize) -> Option<u32> {
    value
        .get(at)
        .and_then(Value::as_u64)
        .and_then(|oid| u32::try_from(oid).ok())
}

fn flag(value: &Value, at: usize) -> bool {
    value.get(at).and_then(Value::as_bool).unwrap_or(false)
}

fn texts(value: &Value, at: usize) -> Vec<String> {
    value
        .get(at)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

fn list<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// `[unique, primary, predicate, method, include]`.
pub(super) fn read_index_detail(detail: &Value, index: &mut Index) {
    index.unique = flag(detail, 0);
    index.primary = flag(detail, 1);
    index.predicate = text(detail, 2);
    index.method = text(detail, 3).unwrap_or_default();
    index.include = texts(detail, 4);
}

/// `{columns: [[collation, comment], …], definition}`.
pub(super) fn read_relation_detail(detail: &Value, relation: &mut Relation) {
    for (column, details) in relation.columns.iter_mut().zip(list(detail, "columns")) {
        column.details = Some(ColumnDetails {
            collation: text(details, 0),
            comment: text(details, 1),
        });
    }
    relation.definition = detail
        .get("definition")
        .and_then(Value::as_str)
        .map(str::to_string);
}

fn action(code: Option<String>) -> ReferentialAction {
    match code.as_deref() {
        Some("r") => ReferentialAction::Restrict,
        Some("c") => ReferentialAction::Cascade,
        Some("n") => ReferentialAction::SetNull,
        Some("d") => ReferentialAction::SetDefault,
        _ => ReferentialAction::NoAction,
    }
}

/// `[name, type, columns, ref schema, ref table, ref columns, on delete, on update,
/// validated, check expression, definition]`.
pub(super) fn read_constraint(detail: &Value) -> Option<Constraint> {
    let constraint_type = match text(detail, 1)?.as_str() {
        "p" => ConstraintType::PrimaryKey,
        "f" => ConstraintType::ForeignKey,
        "u" => ConstraintType::Unique,
        "c" => ConstraintType::Check,
        "x" => ConstraintType::Exclusion,
        "n" => ConstraintType::NotNull,
        // Constraint triggers (`t`) are triggers, not table constraints.
        _ => return None,
    };
    let references = match (text(detail, 3), text(detail, 4)) {
        (Some(schema), Some(table)) if constraint_type == ConstraintType::ForeignKey => {
            Some(ForeignKeyTarget {
                schema,
                table,
                columns: texts(detail, 5),
                on_delete: action(text(detail, 6)),
                on_update: action(text(detail, 7)),
            })
        }
        _ => None,
    };
    Some(Constraint {
        name: text(detail, 0)?,
        constraint_type,
        columns: texts(detail, 2),
        references,
        validated: flag(detail, 8),
        expression: text(detail, 9),
        definition: text(detail, 10).unwrap_or_default(),
    })
}

/// `[name, function schema, function name, tgenabled]`.
pub(super) fn read_trigger(detail: &Value) -> Option<Trigger> {
    let function = match (text(detail, 1), text(detail, 2)) {
        (Some(schema), Some(name)) => Some((schema, name)),
        _ => None,
    };
    Some(Trigger {
        name: text(detail, 0)?,
        function,
        // `D` is disabled; `O` (origin), `R` (replica) and `A` (always) fire.
        enabled: text(detail, 3).is_some_and(|state| state != "D"),
    })
}

/// The `p` row's object of types, extensions, schemas, functions, roles and grants.
pub(super) fn read_vocabulary(vocabulary: &Value, schema: &mut SchemaSnapshot) {
    schema.types = list(vocabulary, "types")
        .filter_map(|t| {
            Some(TypeEntry {
                schema: text(t, 0)?,
                name: text(t, 1)?,
                kind: match text(t, 2)?.as_str() {
                    "e" => "enum",
                    "d" => "domain",
                    "c" => "composite type",
                    "r" | "m" => "range type",
                    "p" => "pseudo-type",
                    _ => "base type",
                }
                .to_string(),
                labels: texts(t, 3),
            })
        })
        .collect();
    schema.extensions = list(vocabulary, "extensions")
        .filter_map(|x| {
            Some(Extension {
                name: text(x, 0)?,
                installed: text(x, 1),
                schema: text(x, 2),
                available: text(x, 3),
            })
        })
        .collect();
    schema.schemas = list(vocabulary, "schemas")
        .filter_map(|s| {
            Some(SchemaEntry {
                name: text(s, 0)?,
                owner: text(s, 1).unwrap_or_default(),
            })
        })
        .collect();
    schema.functions = list(vocabulary, "functions")
        .filter_map(|f| {
            Some(Function {
                schema: text(f, 0)?,
                name: text(f, 1)?,
                kind: match text(f, 2).as_deref() {
                    Some("p") => "procedure",
                    Some("a") => "aggregate",
                    Some("w") => "window function",
                    _ => "function",
                }
                .to_string(),
                args: texts(f, 3),
                result: text(f, 4).unwrap_or_default(),
                language: text(f, 5).unwrap_or_default(),
                security_definer: flag(f, 6),
            })
        })
        .collect();
    schema.roles = list(vocabulary, "roles")
        .filter_map(|r| r.as_str().map(str::to_string))
        .collect();
    schema.grants = list(vocabulary, "grants")
        .filter_map(|g| {
            Some(Grant {
                role: text(g, 0)?,
                object: match text(g, 1)?.as_str() {
                    "table" => PrivilegeObject::Table,
                    "sequence" => PrivilegeObject::Sequence,
                    "function" => PrivilegeObject::Function,
                    _ => PrivilegeObject::Schema,
                },
                schema: text(g, 2)?,
                name: text(g, 3)?,
                signature: text(g, 4),
                held: texts(g, 5),
                owner: text(g, 6).unwrap_or_default(),
                on_some_column: texts(g, 7),
            })
        })
        .collect();
}
