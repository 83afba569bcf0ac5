//! Interim: the four-eyes rule for applies, until rules.rs has its own (then this goes).

use super::{Event, EventKind};
use crate::identity::database_identity;

/// Why an apply needs more approvals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyRefusal(pub String);

impl std::fmt::Display for ApplyRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The approvers that count for this apply, or why there are too few.
pub fn may_apply(
    required: u32,
    events: &[Event],
    task_id: &str,
    applier: &str,
    fingerprint: &str,
    database: &str,
) -> Result<Vec<String>, ApplyRefusal> {
    let here = database_identity(database);
    let mut approvers: Vec<String> = Vec::new();
    for event in events.iter().filter(|e| e.task_id == task_id) {
        let same_db = event
            .evidence
            .get("database")
            .and_then(|d| d.as_str())
            .is_some_and(|d| database_identity(d) == here);
        match event.kind {
            EventKind::Applied if same_db && event.fingerprint == fingerprint => approvers.clear(),
            EventKind::Approved
                if same_db
                    && event.fingerprint == fingerprint
                    && event.actor.trim() != applier.trim()
                    && !approvers.contains(&event.actor) =>
            {
                approvers.push(event.actor.clone())
            }
            _ => {}
        }
    }
    if approvers.len() >= required as usize {
        Ok(approvers)
    } else {
        Err(ApplyRefusal(format!(
            "needs {required} approval{} from someone other than {applier}; {} given for this fix text",
            if required == 1 { "" } else { "s" },
            approvers.len()
        )))
    }
}
