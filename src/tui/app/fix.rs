//! The fix dialog: a dry run of the selected task's fix and its report; then, only after a dry
//! run here proved that fix text against this database, a typed confirmation to apply it, or an
//! approval or a request for one with a note. Every step is a typed action behind the dialog
//! (gitui's queue of actions behind a confirm popup): the runtime carries it out and the answer
//! comes back as a message. Nothing here touches a database.

use std::sync::Arc;

use ratatui_textarea::TextArea;

use super::fix_confirm::edit_line;
use super::{App, Mode};
use crate::Backend;
use crate::apply::{Conclusion, FixAction, pass_count};
use crate::engine::fixer::{FixJob, FixReport};
use crate::serve::team::Role;
use crate::store::fix_fingerprint;
use crate::tui::action::{Action, Effect};

/// Where fixes are written, as the view may know it (the URL without its password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyTarget {
    pub shown: String,
    pub backend: Backend,
}

/// A fix run this view sent and has not heard back from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixInFlight {
    pub task_id: String,
    pub action: FixAction,
}

#[derive(Debug, Clone)]
pub struct FixDialog {
    pub task_id: String,
    pub task_index: usize,
    pub stage: FixStage,
    /// The last answer's report, line by line (empty until one came).
    pub report: Vec<String>,
    /// Whether that answer proved (or applied) the fix: how its verdict is drawn.
    pub report_proven: bool,
    /// What else the last answer said (what the store recorded, or why nothing ran).
    pub said: Vec<String>,
    /// The fix text (its fingerprint) a dry run in this dialog proved against this database:
    /// the only text `a` and `A` act on.
    pub proven: Option<String>,
    /// Why the last key was refused.
    pub refusal: Option<String>,
}

/// Where the dialog stands.
#[derive(Debug, Clone)]
pub enum FixStage {
    /// Sent; waiting for the answer.
    Running(FixAction),
    /// The last answer, with the keys it allows.
    Report,
    /// `a`: the task's id, typed to confirm the apply.
    Confirm { typed: String },
    /// `A` or `R`: the note that goes with the approval or the request.
    Note {
        action: FixAction,
        note: Box<TextArea<'static>>,
    },
}

impl FixDialog {
    /// Whether keys are text being typed (the confirmation or a note).
    pub fn typing(&self) -> bool {
        matches!(self.stage, FixStage::Confirm { .. } | FixStage::Note { .. })
    }
}

/// Why `name`, with `role` in a shared tracker, may not take `action` on a fix, if so: viewers
/// only watch; engineers dry run, apply and ask for approval; leads and admins also approve.
/// The app refuses up front, the SSH host again before the run.
pub fn role_refusal(name: &str, role: Role, action: FixAction) -> Option<String> {
    let (allowed, what) = match action {
        FixAction::Approve => (role.may_approve(), "approving a fix needs the lead role"),
        FixAction::DryRun | FixAction::Apply | FixAction::RequestApproval => {
            (role.may_fix(), "fixes need the engineer role")
        }
    };
    (!allowed).then(|| format!("{name} is {}: {what}", role.with_article()))
}

/// How a person names a fix action in a sentence.
pub fn action_words(action: FixAction) -> &'static str {
    match action {
        FixAction::DryRun => "dry run",
        FixAction::Apply => "apply",
        FixAction::Approve => "approval",
        FixAction::RequestApproval => "request for approval",
    }
}

impl App {
    /// The backend fixes are judged for: the write target's, else the checks'.
    pub fn fix_backend(&self) -> Backend {
        self.apply_to.as_ref().map_or(self.backend, |to| to.backend)
    }

    /// The fingerprint of a task's fix text as the plan shown has it now.
    pub fn fix_fingerprint_of(&self, task_index: usize) -> Option<String> {
        fix_fingerprint(&self.board.plan.tasks[task_index], self.fix_backend())
    }

    /// Why this person may not take `action` on fixes (their role in a shared tracker), if so.
    pub fn refuse_fix(&self, action: FixAction) -> Option<String> {
        let pairing = self.pairing.as_ref()?;
        role_refusal(&self.user, pairing.role, action)
    }

    /// `p`: the selected task's fix (the dialog's, when it is open), dry run; or why not.
    pub(super) fn prove_fix(&mut self) -> Vec<Effect> {
        let index = match &self.mode {
            Mode::Fix(dialog) => Some(dialog.task_index),
            _ => self.selected_task_index(),
        };
        let refused = self.refuse_to_prove(index);
        let Some(index) = index.filter(|_| refused.is_none()) else {
            let why = refused.unwrap_or_else(|| "select a task first".into());
            match &mut self.mode {
                Mode::Fix(dialog) => dialog.refusal = Some(why),
                _ => self.notice = Some(why),
            }
            return vec![];
        };
        let task_id = self.board.plan.tasks[index].id.clone();
        match &mut self.mode {
            Mode::Fix(dialog) => {
                dialog.stage = FixStage::Running(FixAction::DryRun);
                dialog.proven = None;
                dialog.refusal = None;
            }
            _ => {
                self.overlay_scroll = 0;
                self.mode = Mode::Fix(Box::new(FixDialog {
                    task_id: task_id.clone(),
                    task_index: index,
                    stage: FixStage::Running(FixAction::DryRun),
                    report: Vec::new(),
                    report_proven: false,
                    said: Vec::new(),
                    proven: None,
                    refusal: None,
                }));
            }
        }
        self.send_fix(task_id, FixAction::DryRun, String::new(), None)
    }

    /// Why quitting should wait, once: an apply of the local tracker runs in this process, and
    /// quitting while it commits would leave the commit unrecorded (it could not say it was
    /// applied). Over SSH the run is the server's and goes on without the view.
    pub(super) fn hold_quit(&mut self) -> Option<String> {
        let running = self.fix_running.as_ref()?;
        if running.action != FixAction::Apply || self.pairing.is_some() || self.quit_held {
            return None;
        }
        self.quit_held = true;
        // Short enough for an 80-column footer.
        Some("an apply is running: quit again to quit anyway (its commit may go unrecorded)".into())
    }

    /// Why the fix of task `index` cannot be dry run now, if so.
    fn refuse_to_prove(&self, index: Option<usize>) -> Option<String> {
        if let Some(why) = self.refuse_fix(FixAction::DryRun) {
            return Some(why);
        }
        let task = &self.board.plan.tasks[index?];
        let Some(fix) = &task.fix else {
            return Some("this task has no fix in the plan".into());
        };
        let Some(to) = &self.apply_to else {
            return Some(crate::apply::NO_APPLY_URL.into());
        };
        if fix.sql.for_backend(to.backend).is_none() {
            return Some(format!(
                "{}'s fix has no SQL for {}",
                task.id,
                to.backend.name()
            ));
        }
        self.refuse_while_running()
    }

    pub(super) fn refuse_while_running(&self) -> Option<String> {
        self.fix_running.as_ref().map(|running| {
            format!(
                "the {} of {}'s fix is still running: wait for its answer",
                action_words(running.action),
                running.task_id
            )
        })
    }

    /// Keys while the fix dialog is open.
    pub(super) fn act_in_fix(&mut self, action: Action) -> Vec<Effect> {
        let Mode::Fix(dialog) = &mut self.mode else {
            return vec![];
        };
        if let Action::ScrollDetail(lines) = action {
            self.scroll_overlay(lines);
            return vec![];
        }
        if action == Action::Quit {
            return vec![Effect::Quit];
        }
        match &mut dialog.stage {
            FixStage::Confirm { typed } => match action {
                Action::Cancel => dialog.stage = FixStage::Report,
                Action::Submit => return self.confirm_apply(),
                Action::Edit(key) => edit_line(typed, key),
                Action::Paste(text) => typed.extend(text.chars().filter(|c| !c.is_control())),
                _ => {}
            },
            FixStage::Note { note, .. } => match action {
                Action::Cancel => dialog.stage = FixStage::Report,
                Action::Submit => return self.send_note(),
                Action::Edit(key) => {
                    note.input(key);
                }
                Action::Paste(text) => {
                    note.insert_str(super::verify::clean_paste(&text));
                }
                _ => {}
            },
            FixStage::Running(_) | FixStage::Report => match action {
                Action::Cancel => {
                    if let Some(running) = &self.fix_running {
                        self.notice = Some(format!(
                            "the {} of {}'s fix goes on; its answer will show here",
                            action_words(running.action),
                            running.task_id
                        ));
                    }
                    self.mode = Mode::Normal;
                }
                Action::ProveFix => return self.prove_fix(),
                Action::ApplyFix => self.ask_to_confirm(),
                Action::ApproveFix => self.ask_for_note(FixAction::Approve),
                Action::RequestApproval => self.ask_for_note(FixAction::RequestApproval),
                _ => {}
            },
        }
        vec![]
    }

    pub(super) fn send_fix(
        &mut self,
        task_id: String,
        action: FixAction,
        note: String,
        proven: Option<String>,
    ) -> Vec<Effect> {
        self.fix_running = Some(FixInFlight {
            task_id: task_id.clone(),
            action,
        });
        vec![Effect::Fix(FixJob {
            task_id,
            action,
            actor: self.user.clone(),
            role: self
                .pairing
                .as_ref()
                .map(|pairing| pairing.role.as_str().to_string()),
            note,
            proven,
        })]
    }

    /// A fix run answered: the report in the dialog when it is still open on that task, and a
    /// notice and a log line either way.
    pub(super) fn fix_finished(
        &mut self,
        task_id: &str,
        action: FixAction,
        outcome: Result<Arc<FixReport>, String>,
    ) {
        self.fix_running = None;
        self.quit_held = false;
        let (summary, important) = match &outcome {
            Err(reason) => (
                format!("{} of {task_id}'s fix: {reason}", action_words(action)),
                true,
            ),
            Ok(report) => summary_of(task_id, action, report),
        };
        self.log(summary.clone(), important);
        self.notice = Some(summary);
        let Mode::Fix(dialog) = &mut self.mode else {
            return;
        };
        if dialog.task_id != task_id {
            return;
        }
        self.overlay_scroll = 0;
        dialog.stage = FixStage::Report;
        match outcome {
            Err(reason) => {
                dialog.report.clear();
                dialog.report_proven = false;
                dialog.said = vec![reason];
                if action == FixAction::Apply {
                    dialog.proven = None;
                }
            }
            Ok(report) => {
                let run = &report.performed.run;
                dialog.report = report.lines.clone();
                dialog.report_proven = run.proven();
                dialog.said = report.performed.said.clone();
                // An apply spends the proof: applying again needs a new dry run.
                dialog.proven = (action != FixAction::Apply
                    && run.conclusion == Conclusion::Proven)
                    .then(|| report.fingerprint.clone())
                    .flatten();
            }
        }
    }

    /// The fix dialog follows its task to its place in a reloaded plan, or closes when the task
    /// is gone.
    pub(super) fn keep_fix_dialog_on_its_task(&mut self) {
        let Mode::Fix(dialog) = &mut self.mode else {
            return;
        };
        match self.board.plan.task_index(&dialog.task_id) {
            Some(index) => dialog.task_index = index,
            None => {
                let task_id = dialog.task_id.clone();
                self.mode = Mode::Normal;
                self.log(
                    format!("{task_id} is no longer in the plan: its fix dialog closed"),
                    true,
                );
            }
        }
    }
}

/// The footer's and the log's one line about an answer, and whether it matters to everyone.
fn summary_of(task_id: &str, action: FixAction, report: &FixReport) -> (String, bool) {
    let run = &report.performed.run;
    let text = match (action, &run.conclusion) {
        (FixAction::Apply, Conclusion::Applied) => {
            let checks = run.after.as_ref().or(run.inside.as_ref());
            let count = checks.map_or_else(String::new, |v| pass_count(&v.checks));
            format!("applied {task_id}: {count} after the commit")
        }
        (FixAction::Approve | FixAction::RequestApproval, _)
            if !report.performed.said.is_empty() =>
        {
            report.performed.said.join("; ")
        }
        _ => format!(
            "{} of {task_id}: {}",
            action_words(action),
            run.verdict_line()
        ),
    };
    (text, action != FixAction::DryRun)
}
