//! `sql` checks: the single value the query returned against the value the plan expects.

use serde_json::Value;

use crate::check::Verdict;
use crate::check::facts::SqlOutcome;
use crate::plan::SqlCheck;

pub(super) fn sql_verdict(outcome: Option<&SqlOutcome>, spec: &SqlCheck) -> Verdict {
    let expect = spec.expect.as_ref().unwrap_or(&Value::Bool(true));
    match outcome {
        None => Verdict::error("query was not run in this refresh"),
        Some(SqlOutcome::Error(reason)) => Verdict::error(reason.clone()),
        Some(SqlOutcome::Value(actual)) => {
            // SQLite has no booleans: show its 0/1 as the boolean the check expects.
            let actual = match (actual, expect) {
                (Value::Number(n), Value::Bool(_))
                    if n.as_f64() == Some(0.0) || n.as_f64() == Some(1.0) =>
                {
                    Value::Bool(n.as_f64() == Some(1.0))
                }
                _ => actual.clone(),
            };
            let actual = &actual;
            let shown = show_value(actual);
            let verdict = if values_match(actual, expect) {
                Verdict::pass(format!("returned {shown}"))
            } else {
                Verdict::fail(format!("returned {shown}, expected {}", show_value(expect)))
            };
            verdict.with_fact("value", actual.clone())
        }
    }
}

/// Equality by value: numbers numerically, and SQLite's 0/1 as booleans.
fn values_match(actual: &Value, expect: &Value) -> bool {
    match (actual, expect) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Number(n), Value::Bool(b)) | (Value::Bool(b), Value::Number(n)) => {
            n.as_f64() == Some(if *b { 1.0 } else { 0.0 })
        }
        (Value::String(s), Value::Number(n)) | (Value::Number(n), Value::String(s)) => {
            s.parse::<f64>().ok() == n.as_f64()
        }
        _ => actual == expect,
    }
}

fn show_value(value: &Value) -> String {
    match value {
        Value::String(text) => format!("'{text}'"),
        other => other.to_string(),
    }
}
