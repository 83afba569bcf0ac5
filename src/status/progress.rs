//! Progress of days, phases and the whole plan: the live share beside the claimed share.

use serde::Serialize;

use super::{TaskState, TaskStatus};
use crate::plan::{Claimed, Plan, Task};

/// How many tasks of a group are done live and claimed done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub total: usize,
    pub done: usize,
    pub claimed_done: usize,
}

impl Progress {
    fn add(&mut self, task: &Task, state: &TaskState) {
        self.total += 1;
        self.done += usize::from(state.status == TaskStatus::Done);
        self.claimed_done += usize::from(task.claimed == Some(Claimed::Done));
    }

    /// Share done live, 0.0..=1.0 (1.0 for an empty group: nothing is left to do).
    pub fn live_ratio(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.done as f64 / self.total as f64
        }
    }

    pub fn claimed_ratio(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.claimed_done as f64 / self.total as f64
        }
    }

    pub fn live_percent(&self) -> u32 {
        (self.live_ratio() * 100.0).round() as u32
    }

    pub fn claimed_percent(&self) -> u32 {
        (self.claimed_ratio() * 100.0).round() as u32
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgressReport {
    pub overall: Progress,
    /// Tasks the database can prove (they have checks).
    pub database: Progress,
    /// Manual tasks: code and process work only a person can verify.
    pub code: Progress,
    /// Aligned with `plan.days`.
    pub days: Vec<Progress>,
    /// Aligned with `plan.phases`.
    pub phases: Vec<Progress>,
}

pub(crate) fn derive_progress(plan: &Plan, tasks: &[TaskState]) -> ProgressReport {
    let mut report = ProgressReport {
        days: vec![Progress::default(); plan.days.len()],
        phases: vec![Progress::default(); plan.phases.len()],
        ..Default::default()
    };
    for (task, state) in plan.tasks.iter().zip(tasks) {
        report.overall.add(task, state);
        // Code work: done by people in the code, checked there (or by a person when manual).
        if task.is_manual() || task.is_code_work() {
            report.code.add(task, state);
        } else {
            report.database.add(task, state);
        }
        if let Some(day) = plan.days.iter().position(|d| d.day == task.day) {
            report.days[day].add(task, state);
        }
        if let Some(phase) = plan.phases.iter().position(|p| p.id == task.phase) {
            report.phases[phase].add(task, state);
        }
    }
    report
}
