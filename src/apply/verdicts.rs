//! What the verdicts inside a fix's transaction say of it: which of the task's checks still
//! fail, which done work it undoes, which dependencies are not done.

use crate::check::{CheckStatus, TaskVerdicts, Verdicts};
use crate::plan::{Plan, Task};

use super::outcome::pass_count;

/// Why the checks inside the transaction do not prove the fix, if they do not.
pub(super) fn why_not_proven(task: &Task, inside: &TaskVerdicts) -> Option<String> {
    let guards = task.fix.as_ref().map_or(0, |fix| fix.guards.len());
    if inside.checks.len() != task.checks.len() || inside.guards.len() != guards {
        return Some(format!(
            "{} of {} checks and {} of {guards} guards were judged",
            inside.checks.len(),
            task.checks.len(),
            inside.guards.len()
        ));
    }
    let failing: Vec<String> = task
        .checks
        .iter()
        .zip(&inside.checks)
        .filter(|(_, verdict)| verdict.status != CheckStatus::Pass)
        .map(|(check, verdict)| {
            format!(
                "{} {}s: {}",
                check.id,
                verdict.status.as_str(),
                crate::printable::one_line(&verdict.evidence)
            )
        })
        .collect();
    let broken_guards: Vec<String> = task
        .fix
        .iter()
        .flat_map(|fix| fix.guards.iter())
        .zip(&inside.guards)
        .filter(|(_, verdict)| verdict.status == CheckStatus::Fail)
        .map(|(guard, verdict)| {
            format!(
                "guard {} fails after the fix: {}",
                guard.id,
                crate::printable::one_line(&verdict.evidence)
            )
        })
        .collect();
    if failing.is_empty() && broken_guards.is_empty() {
        return None;
    }
    let mut why = Vec::new();
    if !failing.is_empty() {
        why.push(format!(
            "after this fix, {}; {}",
            pass_count(&inside.checks),
            failing.join("; ")
        ));
    }
    why.extend(broken_guards);
    Some(why.join("; "))
}

/// Checks of other tasks that passed before the fix and do not inside the transaction: work
/// that was done and the fix would undo.
pub(super) fn regressions(
    plan: &Plan,
    task_index: usize,
    before: &Verdicts,
    inside: &Verdicts,
) -> Option<String> {
    let broken: Vec<String> = plan
        .tasks
        .iter()
        .enumerate()
        .filter(|(at, _)| *at != task_index)
        .filter_map(|(at, task)| Some((task, before.tasks.get(at)?, inside.tasks.get(at)?)))
        .flat_map(|(task, before, inside)| {
            task.checks
                .iter()
                .zip(before.checks.iter().zip(&inside.checks))
                .filter(|(_, (was, now))| {
                    was.status == CheckStatus::Pass && now.status != CheckStatus::Pass
                })
                .map(move |(check, (_, now))| {
                    format!(
                        "{}/{} passed before and {}s after: {}",
                        task.id,
                        check.id,
                        now.status.as_str(),
                        crate::printable::one_line(&now.evidence)
                    )
                })
        })
        .collect();
    (!broken.is_empty()).then(|| format!("it undoes work that is done: {}", broken.join("; ")))
}

/// The task's dependencies whose checks do not all pass now (manual ones cannot be judged here
/// and are left to the people who mark them).
pub(super) fn unmet_dependencies(plan: &Plan, task: &Task, verdicts: &Verdicts) -> Vec<String> {
    task.depends_on
        .iter()
        .filter_map(|id| {
            let at = plan.task_index(id)?;
            let dependency = &plan.tasks[at];
            let checks = &verdicts.tasks.get(at)?.checks;
            let passing = checks
                .iter()
                .filter(|v| v.status == CheckStatus::Pass)
                .count();
            (!dependency.checks.is_empty() && passing < checks.len())
                .then(|| format!("{id}: {}", pass_count(checks)))
        })
        .collect()
}
