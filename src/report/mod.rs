//! Headless reports of one refresh: a stable JSON model, and text, JUnit and Markdown renderings
//! of that same model.

mod junit;
mod last_apply;
mod markdown;
mod text;

pub use last_apply::LastApplyReport;

pub use junit::render_junit;
pub use markdown::render_markdown;
pub use text::render_text;

use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use crate::check::{CheckStatus, Refresh, Verdict};
use crate::plan::{Claimed, Plan, Priority};
use crate::status::{
    Marks, PlanStatus, Progress, RiskLevel, TaskStatus, Verification, WatchedItem,
};

/// The JSON report (`remtrack check --format json`). Field names are a documented contract.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub plan: PlanInfo,
    pub database: DatabaseInfo,
    pub backend: &'static str,
    pub checked_at: String,
    pub duration_ms: u64,
    pub summary: Summary,
    pub tasks: Vec<TaskReport>,
    pub days: Vec<GroupReport>,
    pub phases: Vec<GroupReport>,
    pub risks: Vec<RiskReport>,
    /// What a person should know although no verdict depends on it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<WarningReport>,
}

/// Which database, and how names were resolved in it.
#[derive(Debug, Clone, Serialize)]
pub struct DatabaseInfo {
    /// The database URL with any password replaced by `***`.
    pub url: String,
    /// The schemas a check without `schema` was looked up in, in order.
    pub search_path: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WarningReport {
    pub task: String,
    pub check: String,
    pub warning: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanInfo {
    pub title: String,
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<crate::plan::Timeline>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub tasks: usize,
    pub done: usize,
    pub failing: usize,
    pub blocked: usize,
    pub manual: usize,
    pub unknown: usize,
    pub overclaimed: usize,
    /// Verified by a person, but the checks fail now.
    pub regressed: usize,
    /// Verified against check definitions that have since changed.
    pub stale: usize,
    pub checks: CheckCounts,
    pub progress: SummaryProgress,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckCounts {
    pub pass: usize,
    pub fail: usize,
    pub error: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct SummaryProgress {
    pub overall: ProgressReport,
    pub database: ProgressReport,
    pub code: ProgressReport,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProgressReport {
    pub total: usize,
    pub done: usize,
    pub claimed_done: usize,
    pub live_percent: u32,
    pub claimed_percent: u32,
}

impl From<Progress> for ProgressReport {
    fn from(p: Progress) -> Self {
        ProgressReport {
            total: p.total,
            done: p.done,
            claimed_done: p.claimed_done,
            live_percent: p.live_percent(),
            claimed_percent: p.claimed_percent(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskReport {
    pub id: String,
    pub title: String,
    pub day: u32,
    pub phase: String,
    pub priority: Priority,
    pub status: TaskStatus,
    pub claimed: Option<Claimed>,
    pub overclaimed: bool,
    pub manual: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocked_by: Vec<String>,
    /// A person's standing verification, if any: what it means now, who made it and when.
    pub verification: Option<VerificationReport>,
    /// The last apply of the task's fix on this database (`remtrack fix`), if any.
    pub last_apply: Option<LastApplyReport>,
    pub checks: Vec<CheckReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub guards: Vec<CheckReport>,
}

impl Report {
    /// Tasks a person verified whose checks fail now.
    pub fn regressed_tasks(&self) -> Vec<&TaskReport> {
        self.tasks
            .iter()
            .filter(|t| {
                t.verification
                    .as_ref()
                    .is_some_and(|v| v.state == Verification::Regressed)
            })
            .collect()
    }

    /// When the database was checked, to the second, for people (JSON keeps the full time).
    pub fn checked_at_seconds(&self) -> String {
        match self.checked_at.split_once('.') {
            Some((seconds, fraction)) if fraction.ends_with('Z') => format!("{seconds}Z"),
            _ => self.checked_at.clone(),
        }
    }
}

impl TaskReport {
    /// "verified by ana at …", with what the verification means now when that is not simply
    /// verified; empty without one.
    pub fn verification_text(&self) -> String {
        let Some(v) = &self.verification else {
            return String::new();
        };
        let who = format!(
            "verified by {}{}",
            crate::printable::one_line(&v.by),
            v.at.as_deref()
                .map(|at| format!(" at {at}"))
                .unwrap_or_default()
        );
        match v.state {
            Verification::Verified => who,
            Verification::Stale => format!("stale: {who}, checks changed since"),
            Verification::Regressed => format!("REGRESSED: {who}, checks fail now"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct VerificationReport {
    pub state: Verification,
    pub by: String,
    pub at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub id: String,
    pub kind: &'static str,
    pub status: CheckStatus,
    pub evidence: String,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub facts: serde_json::Map<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub title: String,
    #[serde(flatten)]
    pub progress: ProgressReport,
}

#[derive(Debug, Clone, Serialize)]
pub struct RiskReport {
    pub id: String,
    pub title: String,
    pub severity: crate::plan::Severity,
    pub level: RiskLevel,
    pub open_items: Vec<WatchedItem>,
}

impl Report {
    pub fn build(
        plan: &Plan,
        plan_file: &str,
        database: &str,
        refresh: &Refresh,
        status: &PlanStatus,
        marks: &Marks,
    ) -> Report {
        let mut counts = CheckCounts::default();
        let tasks: Vec<TaskReport> = plan
            .tasks
            .iter()
            .enumerate()
            .map(|(index, task)| {
                let state = &status.tasks[index];
                let verdicts = refresh.verdicts.task(index);
                let checks: Vec<CheckReport> = task
                    .checks
                    .iter()
                    .zip(verdicts.map(|v| v.checks.as_slice()).unwrap_or_default())
                    .map(|(check, verdict)| check_report(&check.id, check.spec.kind(), verdict))
                    .collect();
                for check in &checks {
                    match check.status {
                        CheckStatus::Pass => counts.pass += 1,
                        CheckStatus::Fail => counts.fail += 1,
                        CheckStatus::Error => counts.error += 1,
                    }
                }
                // Guards guard the fix: for a task that is done there is no fix to run, and a
                // guard that can no longer be evaluated (its table is gone) is not an error.
                let guards = if state.status == TaskStatus::Done {
                    Vec::new()
                } else {
                    task.fix
                        .iter()
                        .flat_map(|fix| fix.guards.iter())
                        .zip(verdicts.map(|v| v.guards.as_slice()).unwrap_or_default())
                        .map(|(check, verdict)| check_report(&check.id, check.spec.kind(), verdict))
                        .collect()
                };
                TaskReport {
                    id: task.id.clone(),
                    title: task.title.clone(),
                    day: task.day,
                    phase: task.phase.clone(),
                    priority: task.priority,
                    status: state.status,
                    claimed: task.claimed,
                    overclaimed: state.overclaimed,
                    manual: task.is_manual(),
                    blocked_by: state.blocked_by.clone(),
                    verification: state.verification.map(|verification| {
                        let mark = marks.get(&task.id);
                        VerificationReport {
                            state: verification,
                            by: mark.map(|m| m.by.clone()).unwrap_or_default(),
                            at: mark.and_then(|m| m.at).map(crate::store::utc_text),
                        }
                    }),
                    last_apply: None,
                    checks,
                    guards,
                }
            })
            .collect();
        let count = |s: TaskStatus| status.tasks.iter().filter(|t| t.status == s).count();
        let verification_count = |v: Verification| {
            status
                .tasks
                .iter()
                .filter(|t| t.verification == Some(v))
                .count()
        };
        Report {
            plan: PlanInfo {
                title: plan.title.clone(),
                file: plan_file.to_string(),
                timeline: plan.timeline.clone(),
            },
            database: DatabaseInfo {
                url: database.to_string(),
                search_path: refresh.search_path.shown.clone(),
            },
            backend: Default::default(),
            checked_at: refresh.checked_at.format(&Rfc3339).unwrap_or_default(),
            duration_ms: u64::try_from(refresh.duration.as_millis()).unwrap_or(u64::MAX),
            summary: Summary {
                tasks: plan.tasks.len(),
                done: count(TaskStatus::Done),
                failing: count(TaskStatus::Failing),
                blocked: count(TaskStatus::Blocked),
                manual: count(TaskStatus::Manual),
                unknown: count(TaskStatus::Unknown),
                overclaimed: status.tasks.iter().filter(|t| t.overclaimed).count(),
                regressed: verification_count(Verification::Regressed),
                stale: verification_count(Verification::Stale),
                checks: counts,
                progress: SummaryProgress {
                    overall: status.progress.overall.into(),
                    database: status.progress.database.into(),
                    code: status.progress.code.into(),
                },
            },
            tasks,
            days: plan
                .days
                .iter()
                .zip(&status.progress.days)
                .map(|(day, p)| GroupReport {
                    day: Some(day.day),
                    id: None,
                    title: day.title.clone(),
                    progress: (*p).into(),
                })
                .collect(),
            phases: plan
                .phases
                .iter()
                .zip(&status.progress.phases)
                .map(|(phase, p)| GroupReport {
                    day: None,
                    id: Some(phase.id.clone()),
                    title: phase.title.clone(),
                    progress: (*p).into(),
                })
                .collect(),
            risks: plan
                .risks
                .iter()
                .zip(&status.risks)
                .map(|(risk, state)| RiskReport {
                    id: risk.id.clone(),
                    title: risk.title.clone(),
                    severity: risk.severity,
                    level: state.level,
                    open_items: state.open_items.clone(),
                })
                .collect(),
            warnings: Vec::new(),
        }
        .with_warnings()
    }

    /// Every check's and guard's warning, in plan order.
    fn with_warnings(mut self) -> Self {
        self.warnings = self
            .tasks
            .iter()
            .flat_map(|task| {
                task.checks.iter().chain(&task.guards).filter_map(|check| {
                    Some(WarningReport {
                        task: task.id.clone(),
                        check: check.id.clone(),
                        warning: check.warning.clone()?,
                    })
                })
            })
            .collect();
        self
    }

    /// `migration, public`, for people.
    pub fn search_path_text(&self) -> String {
        if self.database.search_path.is_empty() {
            "empty".into()
        } else {
            self.database.search_path.join(", ")
        }
    }

    pub fn with_backend(mut self, backend: crate::Backend) -> Self {
        self.backend = backend.name();
        self
    }
}

fn check_report(id: &str, kind: &'static str, verdict: &Verdict) -> CheckReport {
    CheckReport {
        id: id.to_string(),
        kind,
        status: verdict.status,
        evidence: verdict.evidence.clone(),
        facts: verdict.facts.clone(),
        warning: verdict.warning.clone(),
    }
}
