//! Reading the write path's events: the last apply of a task on a database, and each fix event
//! in plain words for the log view, `remtrack log` and the news.
//!
//! The evidence is read leniently (a field missing or of another type is left out of the words)
//! because it is written by another module and kept for ever: an old event must always print.

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use super::{Event, EventKind};
use crate::identity::database_identity;

/// How an apply ended, as its event records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplyOutcome {
    /// Committed.
    Applied,
    /// Ran and was rolled back: nothing changed.
    RolledBack,
    /// Never ran (guards failing, approvals missing, someone else applying).
    Refused,
    /// The connection was lost at the commit: whether it committed is not known.
    Unknown,
}

impl ApplyOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplyOutcome::Applied => "applied",
            ApplyOutcome::RolledBack => "rolled_back",
            ApplyOutcome::Refused => "refused",
            ApplyOutcome::Unknown => "unknown",
        }
    }

    /// An `applied` event is committed whatever its evidence says; an `apply_failed` one names
    /// its outcome, and without one it is the ordinary failure: rolled back.
    fn of(event: &Event) -> Option<ApplyOutcome> {
        match event.kind {
            EventKind::Applied => Some(ApplyOutcome::Applied),
            EventKind::ApplyFailed => Some(
                match event.evidence.get("outcome").and_then(Value::as_str) {
                    Some("refused") => ApplyOutcome::Refused,
                    Some("unknown") => ApplyOutcome::Unknown,
                    _ => ApplyOutcome::RolledBack,
                },
            ),
            _ => None,
        }
    }
}

/// The latest apply (or failed apply) of a task's fix on one database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastApply {
    pub actor: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub outcome: ApplyOutcome,
    /// The database's identity (`postgres://host:port/db`, `sqlite:/path`), never a password.
    pub database: String,
    /// Why it did not commit, as recorded; `None` for an apply that did (or a failure that
    /// recorded no reason).
    pub reason: Option<String>,
}

/// The last apply of `task_id` on `database` (a URL, password redacted or not), from events
/// oldest first.
pub fn last_apply(events: &[Event], task_id: &str, database: &str) -> Option<LastApply> {
    let here = database_identity(database);
    events.iter().rev().find_map(|event| {
        if event.task_id != task_id {
            return None;
        }
        let outcome = ApplyOutcome::of(event)?;
        let there = database_identity(event.evidence.get("database")?.as_str()?);
        (there == here).then(|| LastApply {
            actor: event.actor.clone(),
            at: event.at,
            outcome,
            database: there,
            reason: (outcome != ApplyOutcome::Applied)
                .then(|| failure_reason(event))
                .flatten(),
        })
    })
}

/// The evidence's reason, else the note (the writer puts it there too).
fn failure_reason(event: &Event) -> Option<String> {
    let reason = event.evidence.get("reason").and_then(Value::as_str);
    let note = Some(event.note.as_str());
    [reason, note]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|text| !text.is_empty())
        .map(str::to_string)
}

/// A fix event as a sentence: "ana applied the fix to master-flow-columns (7 of 7 checks pass
/// after, 1.2 s)". `own` speaks to the person who made it ("you", "your"). `None` for a mark.
/// Only a note's first line is used; the caller shows the rest if it wants.
pub fn fix_event_words(event: &Event, own: bool) -> Option<String> {
    let who = if own { "you" } else { event.actor.as_str() };
    let whose = if own {
        "your".to_string()
    } else {
        format!("{}'s", event.actor)
    };
    let task = &event.task_id;
    let note = first_line(&event.note)
        .map(|line| format!(": {line}"))
        .unwrap_or_default();
    let words = match event.kind {
        EventKind::Verified | EventKind::Unverified | EventKind::Note => return None,
        EventKind::Applied => {
            let details: Vec<String> = [checks_after(&event.evidence), duration(&event.evidence)]
                .into_iter()
                .flatten()
                .chain(approvers(&event.evidence))
                .collect();
            let details = if details.is_empty() {
                String::new()
            } else {
                format!(" ({})", details.join(", "))
            };
            format!("{who} applied the fix to {task}{details}")
        }
        EventKind::ApplyFailed => {
            let reason = failure_reason(event).unwrap_or_else(|| "no reason recorded".into());
            let reason = first_line(&reason).unwrap_or_default();
            match ApplyOutcome::of(event) {
                Some(ApplyOutcome::Refused) => {
                    format!("{whose} apply of {task} was refused: {reason}")
                }
                Some(ApplyOutcome::Unknown) => format!(
                    "{whose} apply of {task} may or may not have committed: {reason}; recheck to see"
                ),
                _ => format!("{whose} apply of {task} failed: {reason}"),
            }
        }
        EventKind::Approved => format!("{who} approved the fix of {task}{note}"),
        EventKind::ApprovalRequested => {
            let asks = if own { "ask" } else { "asks" };
            format!("{who} {asks} for approval of {task}'s fix{note}")
        }
    };
    Some(words)
}

fn first_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).find(|line| !line.is_empty())
}

/// "7 of 7 checks pass after", from the recheck's snapshot (as `evidence_snapshot` makes it).
fn checks_after(evidence: &Value) -> Option<String> {
    let checks = evidence.get("after")?.get("checks")?.as_array()?;
    if checks.is_empty() {
        return None;
    }
    let passing = checks
        .iter()
        .filter(|check| check.get("status").and_then(Value::as_str) == Some("pass"))
        .count();
    let total = checks.len();
    let verb = if passing == 1 { "passes" } else { "pass" };
    Some(format!(
        "{passing} of {total} check{} {verb} after",
        if total == 1 { "" } else { "s" }
    ))
}

fn duration(evidence: &Value) -> Option<String> {
    let millis = evidence.get("duration_ms")?.as_u64()?;
    Some(if millis < 1000 {
        format!("{millis} ms")
    } else {
        format!("{:.1} s", millis as f64 / 1000.0)
    })
}

fn approvers(evidence: &Value) -> Option<String> {
    let names: Vec<&str> = evidence
        .get("approvers")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    (!names.is_empty()).then(|| format!("approved by {}", names.join(", ")))
}

#[cfg(test)]
mod tests;
