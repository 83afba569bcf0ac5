//! Who may mark what, and who may apply or approve a fix (`apply.rs`): the same rules for the TUI
//! and the CLI. A mark is evidence, so a task whose checks do not all pass cannot be marked
//! verified, and every mark a person cannot back with checks needs a note.

use std::fmt;

use crate::check::{CheckStatus, TaskVerdicts};
use crate::plan::Task;

mod apply;

pub use apply::{
    ApplyRefusal, ApproveRefusal, Uncounted, approval_counts_for, may_apply, may_approve,
};

/// One check that stands in the way of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailingCheck {
    pub check_id: String,
    pub status: CheckStatus,
    pub evidence: String,
}

/// Why a mark is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Some checks fail or could not be evaluated.
    ChecksNotPassing(Vec<FailingCheck>),
    /// The database has not answered, so there is no evidence to record.
    NoEvidence,
    /// A manual task has no checks: the note is the evidence.
    ManualNeedsNote,
    /// Withdrawing a verification needs a reason.
    UnverifyNeedsNote,
    /// A note is its text.
    NoteNeedsText,
}

impl Refusal {
    /// Whether typing a note is all it takes.
    pub fn needs_note_only(&self) -> bool {
        matches!(
            self,
            Refusal::ManualNeedsNote | Refusal::UnverifyNeedsNote | Refusal::NoteNeedsText
        )
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::ChecksNotPassing(failing) => {
                let n = failing.len();
                write!(
                    f,
                    "cannot verify: {n} check{} not passing",
                    if n == 1 { " is" } else { "s are" }
                )?;
                for check in failing {
                    write!(
                        f,
                        "\n  {} {}: {}",
                        check.status.as_str(),
                        check.check_id,
                        check.evidence
                    )?;
                }
                Ok(())
            }
            Refusal::NoEvidence => write!(
                f,
                "cannot verify: the database has not answered yet, so there is no evidence to record"
            ),
            Refusal::ManualNeedsNote => write!(
                f,
                "a manual task has no checks: write a note saying what you verified and how"
            ),
            Refusal::UnverifyNeedsNote => {
                write!(f, "withdrawing a verification needs a note saying why")
            }
            Refusal::NoteNeedsText => write!(f, "a note needs some text"),
        }
    }
}

/// Whether `task` may be marked verified now, given its verdicts from the latest refresh.
pub fn may_verify(task: &Task, verdicts: Option<&TaskVerdicts>, note: &str) -> Result<(), Refusal> {
    if task.is_manual() {
        return if note.trim().is_empty() {
            Err(Refusal::ManualNeedsNote)
        } else {
            Ok(())
        };
    }
    let Some(verdicts) = verdicts else {
        return Err(Refusal::NoEvidence);
    };
    let failing: Vec<FailingCheck> = task
        .checks
        .iter()
        .zip(&verdicts.checks)
        .filter(|(_, verdict)| verdict.status != CheckStatus::Pass)
        .map(|(check, verdict)| FailingCheck {
            check_id: check.id.clone(),
            status: verdict.status,
            evidence: verdict.evidence.clone(),
        })
        .collect();
    if !failing.is_empty() {
        return Err(Refusal::ChecksNotPassing(failing));
    }
    if verdicts.checks.len() < task.checks.len() {
        return Err(Refusal::NoEvidence);
    }
    Ok(())
}

/// Whether a verification may be withdrawn with this note.
/// Whether a note may be added: any task, by anyone, as long as it says something.
pub fn may_note(note: &str) -> Result<(), Refusal> {
    if note.trim().is_empty() {
        Err(Refusal::NoteNeedsText)
    } else {
        Ok(())
    }
}

pub fn may_unverify(note: &str) -> Result<(), Refusal> {
    if note.trim().is_empty() {
        Err(Refusal::UnverifyNeedsNote)
    } else {
        Ok(())
    }
}
