//! Status derivation: a pure function of (plan, verdicts, marks) to task statuses, progress and
//! risk levels. No I/O, no clock: the most tested code in the repository.

mod progress;
mod risk;
mod task;

pub use progress::{Progress, ProgressReport};
pub use risk::{RiskLevel, RiskState, WatchedItem};
pub use task::{Mark, Marks, TaskState, TaskStatus, Verification};

use crate::check::Verdicts;
use crate::plan::Plan;

/// Everything derived from one set of verdicts.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanStatus {
    /// Aligned with `plan.tasks`.
    pub tasks: Vec<TaskState>,
    pub progress: ProgressReport,
    /// Aligned with `plan.risks`.
    pub risks: Vec<RiskState>,
}

impl PlanStatus {
    pub fn overclaimed(&self) -> impl Iterator<Item = (usize, &TaskState)> {
        self.tasks.iter().enumerate().filter(|(_, t)| t.overclaimed)
    }

    pub fn regressed(&self) -> impl Iterator<Item = (usize, &TaskState)> {
        self.tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.verification == Some(Verification::Regressed))
    }

    pub fn all_done(&self) -> bool {
        self.tasks.iter().all(|t| t.status == TaskStatus::Done)
    }
}

/// Derives every status from the plan, the verdicts of a refresh (`None` when the database has
/// not answered) and people's marks.
pub fn derive(plan: &Plan, verdicts: Option<&Verdicts>, marks: &Marks) -> PlanStatus {
    let tasks = task::derive_tasks(plan, verdicts, marks);
    let progress = progress::derive_progress(plan, &tasks);
    let risks = plan
        .risks
        .iter()
        .map(|r| risk::derive_risk(plan, r, &tasks, verdicts))
        .collect();
    PlanStatus {
        tasks,
        progress,
        risks,
    }
}

#[cfg(test)]
mod tests;
