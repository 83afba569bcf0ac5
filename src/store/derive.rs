//! From events to standing marks: the last verify/unverify of each task wins, and a mark made
//! against check definitions that have since changed is stale.

use std::collections::HashMap;

use sha2::{Digest as _, Sha256};

use super::{Event, EventKind};
use crate::identity::database_identity;
use crate::plan::{Plan, Task};
use crate::status::{Mark, Marks};

/// A fingerprint of what a task's checks assert (ids, kinds and fields; not their notes).
/// Editing a check in plan.json changes it, so a verification made before the edit goes stale.
pub fn task_fingerprint(task: &Task) -> String {
    let definitions: Vec<(&str, &crate::plan::CheckSpec)> = task
        .checks
        .iter()
        .map(|check| (check.id.as_str(), &check.spec))
        .collect();
    sha256_of(&definitions)
}

/// A fingerprint of what a fix would do on `backend`: its SQL text there and its guards (ids and
/// definitions). An approval is given for one fingerprint, so editing the fix or a guard after
/// it was approved needs a new approval. `None` when the task has no fix for that backend.
pub fn fix_fingerprint(task: &Task, backend: crate::Backend) -> Option<String> {
    let fix = task.fix.as_ref()?;
    let sql = fix.sql.for_backend(backend)?;
    let guards: Vec<(&str, &crate::plan::CheckSpec)> = fix
        .guards
        .iter()
        .map(|check| (check.id.as_str(), &check.spec))
        .collect();
    Some(sha256_of(&(sql, guards)))
}

fn sha256_of(value: &impl serde::Serialize) -> String {
    let canonical = serde_json::to_string(value).unwrap_or_default();
    let digest = Sha256::digest(canonical.as_bytes());
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha256:{hex}")
}

/// A fingerprint of everything verdicts are aligned with: the tasks in order, with their checks
/// and guards. Remembered verdicts are used only for a plan with the same fingerprint.
pub fn plan_fingerprint(plan: &Plan) -> String {
    type Guards<'p> = Vec<(&'p str, &'p crate::plan::CheckSpec)>;
    let shape: Vec<(&str, String, Guards)> = plan
        .tasks
        .iter()
        .map(|task| {
            let guards = task
                .fix
                .iter()
                .flat_map(|fix| fix.guards.iter())
                .map(|check| (check.id.as_str(), &check.spec))
                .collect();
            (task.id.as_str(), task_fingerprint(task), guards)
        })
        .collect();
    sha256_of(&shape)
}

/// The standing mark of every task in the plan for the database at `database` (a URL, password
/// redacted or not), from events oldest first. A mark on a task with checks counts only for the
/// database it was made against (its evidence names it); a manual task's mark, or one on a task
/// that reads only the code, counts everywhere.
/// Events about tasks no longer in the plan stay in the history but mark nothing.
pub fn to_status_marks(plan: &Plan, events: &[Event], database: &str) -> Marks {
    let here = database_identity(database);
    let made_on = event_databases(events);
    let mut marks = Marks::new();
    for task in &plan.tasks {
        let last = events
            .iter()
            .zip(&made_on)
            .rev()
            .find(|(event, there)| {
                event.task_id == task.id
                    && matches!(event.kind, EventKind::Verified | EventKind::Unverified)
                    && (task.marks_count_everywhere()
                        || there.as_ref().is_none_or(|there| *there == here))
            })
            .map(|(event, _)| event);
        if let Some(event) = last {
            marks.insert(
                task.id.clone(),
                Mark {
                    verified: event.kind == EventKind::Verified,
                    by: event.actor.clone(),
                    at: Some(event.at),
                    stale: event.kind == EventKind::Verified
                        && event.fingerprint != task_fingerprint(task),
                },
            );
        }
    }
    marks
}

/// The identity of the database each event's evidence was taken from, where it names one. Each
/// distinct URL is resolved once: a SQLite path is looked up on disk.
pub fn event_databases(events: &[Event]) -> Vec<Option<String>> {
    let mut resolved: HashMap<&str, String> = HashMap::new();
    events
        .iter()
        .map(|event| {
            let url = event.evidence.get("database")?.as_str()?;
            Some(
                resolved
                    .entry(url)
                    .or_insert_with(|| database_identity(url))
                    .clone(),
            )
        })
        .collect()
}
