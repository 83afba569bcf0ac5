//! `sql` checks: the single value the query returned against the value the plan expects.

use serde_json::Value;

use crate::check::Verdict;
use crate::check::facts::SqlOutcome;
use crate::plan::SqlCheck;

pub(super) fn sql_verdict(
    outcome: Option<&SqlOutcome>,
    spec: &SqlCheck,
    backend: crate::Backend,
) -> Verdict {
    let expect = spec.expect.as_ref().unwrap_or(&Value::Bool(true));
    let sqlite = backend == crate::Backend::Sqlite;
    match outcome {
        None | Some(SqlOutcome::Rows(_)) => Verdict::error("query was not run in this refresh"),
        Some(SqlOutcome::Error(reason)) => Verdict::error(reason.clone()),
        Some(SqlOutcome::Value(actual)) => {
            // SQLite has no booleans: show its 0/1 as the boolean the check expects.
            let actual = match (actual, expect) {
                (Value::Number(n), Value::Bool(_))
                    if sqlite && (n.as_u64() == Some(0) || n.as_u64() == Some(1)) =>
                {
                    Value::Bool(n.as_u64() == Some(1))
                }
                _ => actual.clone(),
            };
            let actual = &actual;
            let shown = show_value(actual);
            let verdict = if values_match(actual, expect, sqlite) {
                Verdict::pass(format!("returned {shown}"))
            } else {
                Verdict::fail(format!("returned {shown}, expected {}", show_value(expect)))
            };
            verdict.with_fact("value", actual.clone())
        }
    }
}

/// Equality by value: whole numbers exactly (an f64 cannot tell 2^53 + 1 from 2^53), other
/// numbers numerically, and 0/1 as booleans on SQLite only, which has no booleans (on
/// PostgreSQL a count of 1 is not `true`).
pub(super) fn values_match(actual: &Value, expect: &Value, sqlite: bool) -> bool {
    match (actual, expect) {
        (Value::Number(a), Value::Number(b)) => {
            match (a.as_i64(), b.as_i64(), a.as_u64(), b.as_u64()) {
                (Some(x), Some(y), _, _) => x == y,
                (_, _, Some(x), Some(y)) => x == y,
                _ if a.is_f64() || b.is_f64() => a.as_f64() == b.as_f64(),
                _ => false,
            }
        }
        (Value::Number(n), Value::Bool(b)) | (Value::Bool(b), Value::Number(n)) => {
            sqlite && n.as_u64() == Some(u64::from(*b))
        }
        (Value::String(s), Value::Number(n)) | (Value::Number(n), Value::String(s)) => {
            s.parse::<f64>().ok() == n.as_f64()
        }
        _ => actual == expect,
    }
}

pub(super) fn show_value(value: &Value) -> String {
    match value {
        Value::String(text) => format!("'{text}'"),
        other => other.to_string(),
    }
}
