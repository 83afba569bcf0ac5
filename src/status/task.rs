//! The live status of each task.

use std::collections::HashMap;

use serde::Serialize;

use crate::check::{CheckStatus, Verdicts};
use crate::plan::{Claimed, Plan};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Every check passes (or, for a manual task, a person verified it).
    Done,
    /// Some check fails.
    Failing,
    /// Not done, and some task it depends on is not done either.
    Blocked,
    /// No checks and nobody has verified it: only a person can.
    Manual,
    /// Not done, nothing failing, but some check could not be evaluated.
    Unknown,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Done => "done",
            TaskStatus::Failing => "failing",
            TaskStatus::Blocked => "blocked",
            TaskStatus::Manual => "manual",
            TaskStatus::Unknown => "unknown",
        }
    }
}

/// A person's standing mark on a task, as the verification store derives it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mark {
    pub verified: bool,
    pub by: String,
    /// When the mark was made (UTC).
    pub at: Option<time::OffsetDateTime>,
    /// The task's check definitions changed in the plan since the mark was made.
    pub stale: bool,
}

/// What a person's verification means now that the database has been checked again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verification {
    /// Verified, and nothing has changed to cast doubt on it.
    Verified,
    /// Verified against check definitions that have since changed.
    Stale,
    /// Verified, but its checks fail now.
    Regressed,
}

impl Verification {
    pub fn as_str(self) -> &'static str {
        match self {
            Verification::Verified => "verified",
            Verification::Stale => "stale",
            Verification::Regressed => "regressed",
        }
    }
}

/// Marks by task id.
pub type Marks = HashMap<String, Mark>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskState {
    pub status: TaskStatus,
    /// The old tracker says done; the database does not.
    pub overclaimed: bool,
    /// Ids of the dependencies that are not done.
    pub blocked_by: Vec<String>,
    /// A person's verification, if the task has a standing one.
    pub verification: Option<Verification>,
    pub passing: usize,
    pub failing: usize,
    pub errors: usize,
}

pub(crate) fn derive_tasks(
    plan: &Plan,
    verdicts: Option<&Verdicts>,
    marks: &Marks,
) -> Vec<TaskState> {
    // Own status first (checks only), then dependencies, which need every task's own status.
    let own: Vec<(TaskStatus, usize, usize, usize)> = plan
        .tasks
        .iter()
        .enumerate()
        .map(|(index, task)| {
            if task.is_manual() {
                let verified = marks.get(&task.id).is_some_and(|m| m.verified && !m.stale);
                return (
                    if verified {
                        TaskStatus::Done
                    } else {
                        TaskStatus::Manual
                    },
                    0,
                    0,
                    0,
                );
            }
            let Some(task_verdicts) = verdicts.and_then(|v| v.task(index)) else {
                return (TaskStatus::Unknown, 0, 0, task.checks.len());
            };
            let count = |status| {
                task_verdicts
                    .checks
                    .iter()
                    .filter(|v| v.status == status)
                    .count()
            };
            let (passing, failing, errors) = (
                count(CheckStatus::Pass),
                count(CheckStatus::Fail),
                count(CheckStatus::Error),
            );
            let status = if failing > 0 {
                TaskStatus::Failing
            } else if errors > 0 || passing < task.checks.len() {
                TaskStatus::Unknown
            } else {
                TaskStatus::Done
            };
            (status, passing, failing, errors)
        })
        .collect();
    let own_status: HashMap<&str, TaskStatus> = plan
        .tasks
        .iter()
        .zip(&own)
        .map(|(task, (status, ..))| (task.id.as_str(), *status))
        .collect();

    plan.tasks
        .iter()
        .zip(own)
        .map(|(task, (own, passing, failing, errors))| {
            let blocked_by: Vec<String> = task
                .depends_on
                .iter()
                .filter(|dep| own_status.get(dep.as_str()) != Some(&TaskStatus::Done))
                .cloned()
                .collect();
            let status = if own != TaskStatus::Done && !blocked_by.is_empty() {
                TaskStatus::Blocked
            } else {
                own
            };
            let verification = marks
                .get(&task.id)
                .filter(|mark| mark.verified)
                .map(|mark| {
                    if mark.stale {
                        Verification::Stale
                    } else if failing > 0 {
                        Verification::Regressed
                    } else {
                        Verification::Verified
                    }
                });
            // Overclaimed only where the database (or the missing verification) says "not
            // done": a check that could not be evaluated proves nothing either way.
            let says_not_done = matches!(own, TaskStatus::Failing | TaskStatus::Manual);
            TaskState {
                verification,
                status,
                overclaimed: task.claimed == Some(Claimed::Done) && says_not_done,
                blocked_by,
                passing,
                failing,
                errors,
            }
        })
        .collect()
}
