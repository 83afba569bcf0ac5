//! The evidence a mark records: every verdict of the task at that moment.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::check::{CheckStatus, TaskVerdicts};
use crate::plan::Task;

/// A snapshot of `task`'s verdicts from the refresh at `checked_at` against `database`
/// (password already redacted). `None` verdicts record that the database did not answer.
pub fn evidence_snapshot(
    task: &Task,
    verdicts: Option<&TaskVerdicts>,
    database: &str,
    checked_at: Option<OffsetDateTime>,
) -> Value {
    let checks: Vec<Value> = task
        .checks
        .iter()
        .zip(verdicts.map(|v| v.checks.as_slice()).unwrap_or_default())
        .map(|(check, verdict)| {
            json!({
                "id": check.id,
                "kind": check.spec.kind(),
                "status": verdict.status,
                "evidence": verdict.evidence,
            })
        })
        .collect();
    let mut snapshot = json!({
        "database": database,
        "checked_at": checked_at.and_then(|at| at.format(&Rfc3339).ok()),
        "manual": task.is_manual(),
        "all_pass": verdicts.is_some_and(|v| v.checks.iter().all(|c| c.status == CheckStatus::Pass)),
        "checks": checks,
    });
    // A code task's verification holds for every database: it names the commit it saw.
    if task.is_code_work()
        && let Some(object) = snapshot.as_object_mut()
    {
        let commit = verdicts
            .and_then(|v| v.checks.iter().find_map(|c| c.facts.get("commit")))
            .cloned();
        object.insert("code_only".into(), true.into());
        object.insert("commit".into(), commit.unwrap_or(Value::Null));
    }
    snapshot
}
