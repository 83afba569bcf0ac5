//! Whether a column's type and default are the ones the plan names, by meaning.

use super::Facts;
use crate::Backend;
use crate::check::default_expr::{parse_default, same_default};
use crate::check::facts::{Column, Resolved};
use crate::check::sqltype::{SqlType, loose_text, parse_type, same_shape};

/// The expected type in canonical form, and `None` when the column has it or `Some(why not)`;
/// `Err(why)` when the plan's spelling cannot be understood.
pub(super) fn type_mismatch(
    facts: &Facts<'_>,
    expected_text: &str,
    column: &Column,
) -> Result<(Option<String>, String), String> {
    let expected = parse_type(expected_text);
    let canonical = expected
        .as_ref()
        .map_or_else(|_| loose_text(expected_text), SqlType::to_string);
    Ok((
        type_differs(facts, expected_text, expected, column)?,
        canonical,
    ))
}

fn type_differs(
    facts: &Facts<'_>,
    expected_text: &str,
    expected: Result<SqlType, crate::check::sqltype::TypeError>,
    column: &Column,
) -> Result<Option<String>, String> {
    let differs = || format!("type is {}, expected {expected_text}", column.data_type);
    // SQLite takes any words as a declared type (`UNSIGNED BIG INT`): compare them as written.
    let as_written = || (loose_text(&column.data_type) != loose_text(expected_text)).then(differs);
    let expected = match expected {
        Ok(expected) => expected,
        Err(_) if facts.backend == Backend::Sqlite => return Ok(as_written()),
        Err(why) => {
            return Err(format!(
                "cannot understand the type {expected_text:?}: {why}"
            ));
        }
    };
    let Ok(actual) = parse_type(&column.data_type) else {
        return Ok(as_written());
    };
    let same = match &expected.schema {
        // Unqualified, a name means the type visible on the search path, which is exactly
        // when `format_type` prints it unqualified.
        None => actual.schema.is_none() && same_shape(&expected, &actual),
        Some(schema) => {
            same_shape(&expected, &actual)
                && column.type_oid.is_some()
                && named_type_oid(facts, schema, &expected) == column.type_oid
        }
    };
    if !same {
        return Ok(Some(differs()));
    }
    if expected.serial && !filled_from_a_sequence(column) {
        return Ok(Some(format!(
            "type is {}, but no sequence fills it: {expected_text} means {} with a nextval() \
             default or an identity",
            column.data_type, actual.name
        )));
    }
    Ok(None)
}

fn named_type_oid(facts: &Facts<'_>, schema: &str, expected: &SqlType) -> Option<u32> {
    let named = facts
        .schema
        .named_types
        .iter()
        .find(|t| t.schema == schema && t.name == expected.name)?;
    Some(if expected.array {
        named.array_oid
    } else {
        named.oid
    })
}

fn filled_from_a_sequence(column: &Column) -> bool {
    column.identity
        || column
            .default
            .as_deref()
            .is_some_and(|d| d.trim_start().to_ascii_lowercase().starts_with("nextval("))
}

/// Whether the column's default differs from the expected one, and the expected one in
/// canonical form; `Err(why)` when the plan's default cannot be understood.
pub(super) fn default_mismatch(
    facts: &Facts<'_>,
    expected_text: &str,
    actual_text: &str,
    column: &Column,
) -> Result<(bool, String), String> {
    let resolve = |schema: Option<&str>, name: &str| match facts.schema.resolve(schema, name) {
        Resolved::Relation(relation) => Some(relation.schema.clone()),
        Resolved::Nothing => None,
    };
    let expected = parse_default(expected_text, &resolve)
        .map_err(|why| format!("cannot understand the default {expected_text:?}: {why}"))?;
    let canonical = expected.to_string();
    let Ok(actual) = parse_default(actual_text, &resolve) else {
        return Ok((
            loose_text(actual_text) != loose_text(expected_text),
            canonical,
        ));
    };
    Ok((
        !same_default(&expected, &actual, &column.data_type),
        canonical,
    ))
}
