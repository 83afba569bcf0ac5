//! `rows_match`: the rows a read-only query returns against the rows the plan expects.

use serde_json::Value;

use super::sql::{show_value, values_match};
use crate::check::Verdict;
use crate::check::facts::SqlOutcome;
use crate::plan::RowsMatch;

/// How many differing rows the evidence shows.
const SHOWN: usize = 5;

fn same_row(actual: &[Value], expected: &[Value], sqlite: bool) -> bool {
    actual.len() == expected.len()
        && actual
            .iter()
            .zip(expected)
            .all(|(a, e)| values_match(a, e, sqlite))
}

fn show_row(row: &[Value]) -> String {
    format!(
        "({})",
        row.iter().map(show_value).collect::<Vec<_>>().join(", ")
    )
}

fn show_rows(rows: &[&Vec<Value>]) -> String {
    let mut shown: Vec<String> = rows.iter().take(SHOWN).map(|r| show_row(r)).collect();
    if rows.len() > SHOWN {
        shown.push(format!("… {} more", rows.len() - SHOWN));
    }
    shown.join(", ")
}

fn count(n: usize) -> String {
    super::rows(n as u64)
}

pub(super) fn rows_match(
    outcome: Option<&SqlOutcome>,
    spec: &RowsMatch,
    backend: crate::Backend,
) -> Verdict {
    let rows = match outcome {
        Some(SqlOutcome::Rows(rows)) => rows,
        Some(SqlOutcome::Error(reason)) => return Verdict::error(reason.clone()),
        Some(SqlOutcome::Value(_)) | None => {
            return Verdict::error("query was not run in this refresh");
        }
    };
    let sqlite = backend == crate::Backend::Sqlite;
    let expected = spec.expected_rows();
    // Only `row_cap` rows were read: more than expected means "at least that many".
    let at_least = if rows.len() >= spec.row_cap() {
        "at least "
    } else {
        ""
    };
    if expected.is_empty() {
        return if rows.is_empty() {
            Verdict::pass("returned no rows, as expected")
        } else {
            Verdict::fail(format!(
                "returned {at_least}{}, expected none: {}",
                count(rows.len()),
                show_rows(&rows.iter().collect::<Vec<_>>())
            ))
        }
        .with_fact("rows", rows.len());
    }
    let (missing, unexpected) = if spec.ordered {
        let mut missing = Vec::new();
        let mut unexpected = Vec::new();
        for at in 0..rows.len().max(expected.len()) {
            match (rows.get(at), expected.get(at)) {
                (Some(a), Some(e)) if same_row(a, e, sqlite) => {}
                (a, e) => {
                    unexpected.extend(a);
                    missing.extend(e);
                }
            }
        }
        (missing, unexpected)
    } else {
        // As multisets: each returned row pairs off with one equal expected row.
        let mut unmatched: Vec<&Vec<Value>> = expected.iter().collect();
        let mut unexpected = Vec::new();
        for row in rows {
            match unmatched.iter().position(|e| same_row(row, e, sqlite)) {
                Some(at) => {
                    unmatched.remove(at);
                }
                None => unexpected.push(row),
            }
        }
        (unmatched, unexpected)
    };
    let verdict = if missing.is_empty() && unexpected.is_empty() {
        Verdict::pass(format!(
            "returned the {} expected{}",
            count(rows.len()),
            if spec.ordered { ", in order" } else { "" }
        ))
    } else {
        let mut problems = Vec::new();
        if !missing.is_empty() {
            problems.push(format!("missing {}", show_rows(&missing)));
        }
        if !unexpected.is_empty() {
            problems.push(format!("not expected {}", show_rows(&unexpected)));
        }
        Verdict::fail(format!(
            "returned {at_least}{}, expected {}{}: {}",
            count(rows.len()),
            count(expected.len()),
            if spec.ordered { " in order" } else { "" },
            problems.join("; ")
        ))
    };
    verdict.with_fact("rows", rows.len())
}
