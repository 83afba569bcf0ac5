//! Risk levels: a risk is clear when everything it watches passes, else active, naming why.

use serde::Serialize;

use super::{TaskState, TaskStatus};
use crate::check::{CheckStatus, Verdicts};
use crate::plan::{Plan, Risk};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    Clear,
    Active,
    /// Nothing it watches fails, but something could not be checked.
    Unknown,
}

impl RiskLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Clear => "clear",
            RiskLevel::Active => "active",
            RiskLevel::Unknown => "unknown",
        }
    }
}

/// One watched item that is not passing, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WatchedItem {
    /// `task-id` or `task-id/check-id`.
    pub item: String,
    pub status: String,
    pub evidence: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskState {
    pub level: RiskLevel,
    /// The watched items that keep the risk from being clear.
    pub open_items: Vec<WatchedItem>,
}

pub(crate) fn derive_risk(
    plan: &Plan,
    risk: &Risk,
    tasks: &[TaskState],
    verdicts: Option<&Verdicts>,
) -> RiskState {
    let mut open_items = Vec::new();
    let mut unknown = false;
    for watched in &risk.watch {
        let (task_id, check_id) = match watched.split_once('/') {
            Some((task, check)) => (task, Some(check)),
            None => (watched.as_str(), None),
        };
        let Some(index) = plan.tasks.iter().position(|t| t.id == task_id) else {
            continue;
        };
        let task = &plan.tasks[index];
        let state = &tasks[index];
        match check_id {
            None => {
                if state.status != TaskStatus::Done {
                    unknown |= state.status == TaskStatus::Unknown;
                    let evidence = match state.status {
                        TaskStatus::Blocked => {
                            format!("blocked by {}", state.blocked_by.join(", "))
                        }
                        TaskStatus::Manual => "not yet verified by a person".into(),
                        _ => format!("{} of {} checks failing", state.failing, task.checks.len()),
                    };
                    open_items.push(WatchedItem {
                        item: watched.clone(),
                        status: state.status.as_str().into(),
                        evidence,
                    });
                }
            }
            Some(check_id) => {
                let verdict = task
                    .checks
                    .iter()
                    .position(|c| c.id == check_id)
                    .map(|ci| (ci, false))
                    .or_else(|| {
                        let guards = task
                            .fix
                            .as_ref()
                            .map(|f| f.guards.as_slice())
                            .unwrap_or_default();
                        guards
                            .iter()
                            .position(|c| c.id == check_id)
                            .map(|gi| (gi, true))
                    })
                    .and_then(|(ci, guard)| {
                        let tv = verdicts?.task(index)?;
                        if guard {
                            tv.guards.get(ci)
                        } else {
                            tv.checks.get(ci)
                        }
                    });
                match verdict {
                    Some(v) if v.status == CheckStatus::Pass => {}
                    Some(v) => {
                        unknown |= v.status == CheckStatus::Error;
                        open_items.push(WatchedItem {
                            item: watched.clone(),
                            status: v.status.as_str().into(),
                            evidence: v.evidence.clone(),
                        });
                    }
                    None => {
                        unknown = true;
                        open_items.push(WatchedItem {
                            item: watched.clone(),
                            status: "unknown".into(),
                            evidence: "not checked yet".into(),
                        });
                    }
                }
            }
        }
    }
    let level = if open_items.is_empty() {
        RiskLevel::Clear
    } else if unknown
        && open_items
            .iter()
            .all(|i| i.status == "unknown" || i.status == "error")
    {
        RiskLevel::Unknown
    } else {
        RiskLevel::Active
    };
    RiskState { level, open_items }
}
