//! A person's fix action carried out whole, the same from the CLI and the tracker: the
//! approvals the plan asks for, the run, and what the store keeps of it.

use std::sync::Arc;

use super::audit::{apply_event, approval_event, refused_apply_event};
use super::outcome::{Conclusion, FixRun, Mode};
use super::run::{FixRequest, run_fix};
use super::write_target::WriteTarget;
use crate::check::CodeSource;
use crate::plan::Plan;
use crate::store::{EventKind, NewEvent, Store, approval_counts_for, fix_fingerprint, may_apply};

/// What a person asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixAction {
    DryRun,
    Apply,
    Approve,
    RequestApproval,
}

impl FixAction {
    fn mode(self) -> Mode {
        match self {
            FixAction::Apply => Mode::Apply,
            _ => Mode::DryRun,
        }
    }
}

/// One action on one task's fix.
pub struct FixOrder<'a> {
    pub plan: &'a Plan,
    pub task_id: &'a str,
    pub actor: &'a str,
    /// The actor's role under `serve` (kept with an approval), `None` elsewhere.
    pub role: Option<&'a str>,
    pub action: FixAction,
    pub note: &'a str,
    pub code: &'a Arc<CodeSource>,
    /// See [`FixRequest::checks_search_path`].
    pub checks_search_path: Option<Vec<String>>,
}

/// What came of it: the run (a refusal before anything ran is a run that concluded so) and
/// what else a person should be told.
#[derive(Debug, Clone)]
pub struct Performed {
    pub run: FixRun,
    pub said: Vec<String>,
}

/// Carries out `order` on `target`, recording in `store` what it must (applies, refused
/// applies, approvals, requests). A dry run records nothing.
pub async fn perform(
    target: &WriteTarget,
    store: Option<&Store>,
    order: FixOrder<'_>,
) -> Performed {
    let mut said = Vec::new();
    if order.action == FixAction::Apply && store.is_none() {
        // An apply nobody can audit, nor count approvals for, does not run.
        return Performed {
            run: FixRun::refused(
                order.task_id,
                Mode::Apply,
                target,
                "",
                "an apply is recorded in the store, which is not available here".into(),
            ),
            said,
        };
    }
    let task = order.plan.tasks.iter().find(|t| t.id == order.task_id);
    let fingerprint = task.and_then(|task| fix_fingerprint(task, target.backend()));
    let mut approvers = Vec::new();
    if order.action == FixAction::Apply
        && let (Some(task), Some(fingerprint), Some(store)) = (task, &fingerprint, store)
    {
        let required = order.plan.fix_policy_of(task).approvals;
        if required > 0 {
            let refusal = match store.events(Some(&task.id)).await {
                Ok(events) => may_apply(
                    required,
                    &countable(order.role, events),
                    &task.id,
                    order.actor,
                    fingerprint,
                    &target.identity(),
                )
                .map_err(|refusal| refusal.to_string()),
                Err(error) => Err(format!("the approvals cannot be read: {error}")),
            };
            match refusal {
                Ok(counted) => approvers = counted,
                Err(reason) => {
                    let sql = task
                        .fix
                        .as_ref()
                        .and_then(|fix| fix.sql.for_backend(target.backend()))
                        .unwrap_or_default();
                    let event = refused_apply_event(
                        task,
                        order.actor,
                        &target.identity(),
                        sql,
                        &reason,
                        fingerprint,
                    );
                    record(store, event, &mut said).await;
                    return Performed {
                        run: FixRun::refused(order.task_id, Mode::Apply, target, sql, reason),
                        said,
                    };
                }
            }
        }
    }
    let run = run_fix(
        target,
        FixRequest {
            plan: order.plan,
            task_id: order.task_id,
            actor: order.actor,
            code: order.code,
            mode: order.action.mode(),
            checks_search_path: order.checks_search_path.clone(),
        },
    )
    .await;
    let (Some(task), Some(fingerprint), Some(store)) = (task, fingerprint, store) else {
        return Performed { run, said };
    };
    match order.action {
        FixAction::Apply => {
            let event = apply_event(&run, task, order.actor, &approvers, &fingerprint);
            record(store, event, &mut said).await;
        }
        FixAction::Approve | FixAction::RequestApproval if run.conclusion == Conclusion::Proven => {
            let (kind, what) = if order.action == FixAction::Approve {
                (EventKind::Approved, "approval")
            } else {
                (EventKind::ApprovalRequested, "request for approval")
            };
            let event = approval_event(
                kind,
                &run,
                task,
                order.actor,
                order.role,
                order.note,
                &fingerprint,
            );
            if record(store, event, &mut said).await {
                said.push(format!(
                    "{}'s {what} recorded for this fix text ({})",
                    order.actor,
                    short(&fingerprint)
                ));
            }
        }
        FixAction::Approve | FixAction::RequestApproval => {
            said.push("nothing recorded: only a fix the dry run proves can be approved".into());
        }
        FixAction::DryRun => {}
    }
    Performed { run, said }
}

/// The events the approvals rule reads, with the approvals that may not count here left out.
fn countable(role: Option<&str>, events: Vec<crate::store::Event>) -> Vec<crate::store::Event> {
    events
        .into_iter()
        .filter(|event| {
            event.kind != EventKind::Approved || approval_counts_for(role.is_some(), event)
        })
        .collect()
}

fn short(fingerprint: &str) -> &str {
    let hex = fingerprint.trim_start_matches("sha256:");
    &hex[..hex.len().min(12)]
}

/// Appends `event`; says so when it could not.
async fn record(store: &Store, event: NewEvent, said: &mut Vec<String>) -> bool {
    match store.append(event).await {
        Ok(_) => true,
        Err(error) => {
            said.push(format!("not recorded: {error}"));
            false
        }
    }
}
