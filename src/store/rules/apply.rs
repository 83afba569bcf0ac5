//! The four-eyes rule for applying a fix: which approvals count, and why an apply or an approval
//! is refused, in words the person refused can act on.
//!
//! An approval is for one fix on one database: it counts for the fix text and guards it was given
//! for (the fix fingerprint), against the database its evidence names, by someone other than the
//! applier, and only until that fix is applied there (an approval is spent by the apply it
//! allowed).

use std::fmt;

use super::super::{Event, EventKind};
use crate::identity::database_identity;

/// Why approvals of this task's fix do not count for this apply, the most telling first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uncounted {
    /// The applier approved this fix text themself.
    OwnApproval,
    /// These people approved another fix text or guard set: the fix changed since.
    OtherFixText { approvers: Vec<String> },
    /// These people approved this fix text, but an apply of it since used their approvals up.
    Spent { approvers: Vec<String> },
    /// These people approved this fix text for another database.
    OtherDatabase {
        approvers: Vec<String>,
        databases: Vec<String>,
    },
}

/// An apply that lacks approvals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyRefusal {
    pub required: u32,
    /// Who tried to apply, trimmed.
    pub applier: String,
    /// The approvals that count (fewer than required), oldest first.
    pub approvers: Vec<String>,
    /// Approvals given that do not count, and why; empty when nobody else approved anything.
    pub uncounted: Vec<Uncounted>,
}

impl fmt::Display for ApplyRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.required;
        write!(
            f,
            "needs {n} approval{} from {} other than {}; ",
            plural(n as usize),
            if n == 1 { "someone" } else { "people" },
            self.applier
        )?;
        let own = self.uncounted.contains(&Uncounted::OwnApproval);
        let why_others = self.uncounted.iter().find_map(|why| match why {
            Uncounted::OwnApproval => None,
            Uncounted::OtherFixText { .. } => {
                Some("an approval given for the earlier text no longer counts".to_string())
            }
            Uncounted::Spent { approvers } => Some(format!(
                "{} {} spent by the apply of this text since; each apply needs its own",
                possessive(approvers),
                if approvers.len() == 1 {
                    "approval was"
                } else {
                    "approvals were"
                }
            )),
            Uncounted::OtherDatabase {
                approvers,
                databases,
            } => Some(format!(
                "{} approved it for {}, not this database",
                names(approvers),
                databases.join(", ")
            )),
        });
        match (self.approvers.as_slice(), own, why_others) {
            ([], true, None) => write!(
                f,
                "only your own was given (you cannot approve your own fix)"
            ),
            ([], true, Some(why)) => write!(
                f,
                "only your own was given for this fix text (you cannot approve your own fix; {why})"
            ),
            ([], false, Some(why)) => write!(f, "none given for this fix text ({why})"),
            ([], false, None) => write!(f, "none given yet"),
            (counted, own, why) => {
                write!(f, "only {} given, by {}", counted.len(), names(counted))?;
                let mut notes = Vec::new();
                if own {
                    notes.push("yours does not count: you cannot approve your own fix".to_string());
                }
                notes.extend(why);
                if notes.is_empty() {
                    Ok(())
                } else {
                    write!(f, " ({})", notes.join("; "))
                }
            }
        }
    }
}

impl std::error::Error for ApplyRefusal {}

/// Whether `applier` may apply the fix of `task_id` with this `fingerprint` to `database` (a URL,
/// password redacted or not), given every event of the store (any order of tasks, oldest first).
/// Returns the approvers counted, oldest approval first; every valid one is returned, even when
/// none is required, so the apply can record them.
/// Whether an approval may count for an apply made under `serve` (`serve` = the applier has a
/// role from the team file): only one a lead or an admin gave there, never one typed in a
/// shell under any name. Outside `serve` every approval may.
pub fn approval_counts_for(serve: bool, approval: &Event) -> bool {
    !serve
        || matches!(
            approval.evidence.get("role").and_then(|r| r.as_str()),
            Some("lead" | "admin")
        )
}

pub fn may_apply(
    required_approvals: u32,
    events: &[Event],
    task_id: &str,
    applier: &str,
    fingerprint: &str,
    database: &str,
) -> Result<Vec<String>, ApplyRefusal> {
    let applier = applier.trim();
    let here = database_identity(database);
    let on = |event: &Event| {
        event
            .evidence
            .get("database")
            .and_then(serde_json::Value::as_str)
            .map(database_identity)
    };
    let ours: Vec<(&Event, Option<String>)> = events
        .iter()
        .filter(|event| event.task_id == task_id)
        .map(|event| (event, on(event)))
        .collect();
    // Ids grow in commit order: "after the last apply" is a larger id, whatever the clocks say.
    let last_apply = ours
        .iter()
        .filter(|(event, there)| {
            event.kind == EventKind::Applied
                && event.fingerprint == fingerprint
                && there.as_deref() == Some(here.as_str())
        })
        .map(|(event, _)| event.id)
        .max();
    let mut counted = Vec::new();
    let mut own = false;
    let mut other_text = Vec::new();
    let mut spent = Vec::new();
    let mut elsewhere = Vec::new();
    let mut other_databases = Vec::new();
    for (event, there) in &ours {
        if event.kind != EventKind::Approved {
            continue;
        }
        let approver = event.actor.trim().to_string();
        let same_text = event.fingerprint == fingerprint;
        let same_database = there.as_deref() == Some(here.as_str());
        let fresh = last_apply.is_none_or(|applied| event.id > applied);
        if approver.is_empty() {
            continue;
        }
        if approver == applier {
            // Whatever text or database it was for, it never counts; say so only when it
            // would otherwise have counted.
            own |= same_text && same_database && fresh;
            continue;
        }
        let list = match (same_text, same_database, fresh) {
            (true, true, true) => &mut counted,
            (false, true, _) => &mut other_text,
            (true, true, false) => &mut spent,
            (_, false, _) => {
                if let Some(there) = there
                    && !other_databases.contains(there)
                {
                    other_databases.push(there.clone());
                }
                &mut elsewhere
            }
        };
        if !list.contains(&approver) {
            list.push(approver);
        }
    }
    if counted.len() >= required_approvals as usize {
        return Ok(counted);
    }
    // Someone whose approval counts is not also listed as having an uncounted one.
    let not_counted = |people: Vec<String>| -> Vec<String> {
        people
            .into_iter()
            .filter(|p| !counted.contains(p))
            .collect()
    };
    let mut uncounted = Vec::new();
    if own {
        uncounted.push(Uncounted::OwnApproval);
    }
    let other_text = not_counted(other_text);
    if !other_text.is_empty() {
        uncounted.push(Uncounted::OtherFixText {
            approvers: other_text,
        });
    }
    let spent = not_counted(spent);
    if !spent.is_empty() {
        uncounted.push(Uncounted::Spent { approvers: spent });
    }
    let elsewhere = not_counted(elsewhere);
    if !elsewhere.is_empty() {
        uncounted.push(Uncounted::OtherDatabase {
            approvers: elsewhere,
            databases: other_databases,
        });
    }
    Err(ApplyRefusal {
        required: required_approvals,
        applier: applier.to_string(),
        approvers: counted,
        uncounted,
    })
}

/// Why an approval is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApproveRefusal {
    /// Approvals are counted per person: one with no name could never be told apart.
    NoApprover,
    /// An approval vouches for a dry run that showed the fix proven on this database.
    NotProven,
}

impl fmt::Display for ApproveRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApproveRefusal::NoApprover => write!(
                f,
                "an approval needs the approver's name (give it with --as NAME or REMTRACK_USER)"
            ),
            ApproveRefusal::NotProven => write!(
                f,
                "cannot approve: approve a fix only after a dry run on this database shows it \
                 proven (the guards and every check of the task pass inside the transaction)"
            ),
        }
    }
}

impl std::error::Error for ApproveRefusal {}

/// Whether `approver` may approve a fix now: they have a name, and the dry run they saw proved
/// the fix on this database.
pub fn may_approve(approver: &str, dry_run_proven: bool) -> Result<(), ApproveRefusal> {
    if approver.trim().is_empty() {
        Err(ApproveRefusal::NoApprover)
    } else if !dry_run_proven {
        Err(ApproveRefusal::NotProven)
    } else {
        Ok(())
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `bob`, `bob and cy`, `bob, cy and dee`.
fn names(people: &[String]) -> String {
    match people {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn possessive(people: &[String]) -> String {
    format!("{}'s", names(people))
}

#[cfg(test)]
mod tests;
