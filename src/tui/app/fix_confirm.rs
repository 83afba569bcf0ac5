//! What a proof in the fix dialog allows: the task id typed to confirm an apply, and the note
//! of an approval or a request for one. Each is refused when the proof does not hold any more
//! (the fix text changed in the plan, another run is on its way, the role does not allow it).

use super::fix::FixStage;
use super::{App, Mode};
use crate::apply::FixAction;
use crate::tui::action::Effect;

impl App {
    /// Why `action` may not follow now on the fix the dialog proved, if so; forgets a proof
    /// whose fix text has changed in the plan since.
    fn refuse_on_proof(&mut self, action: FixAction) -> Option<String> {
        if let Some(why) = self
            .refuse_fix(action)
            .or_else(|| self.refuse_while_running())
        {
            return Some(why);
        }
        let Mode::Fix(dialog) = &self.mode else {
            return Some("no fix dialog is open".into());
        };
        let what = match action {
            FixAction::Apply => "an apply",
            FixAction::Approve => "an approval",
            _ => "a request for approval",
        };
        let Some(proven) = dialog.proven.clone() else {
            return Some(if dialog.report.is_empty() || dialog.report_proven {
                format!("{what} is offered only after a dry run here proves the fix: p runs it")
            } else {
                format!("the dry run did not prove the fix, so {what} is not offered")
            });
        };
        let now = self.fix_fingerprint_of(dialog.task_index);
        if now.as_deref() != Some(proven.as_str()) {
            if let Mode::Fix(dialog) = &mut self.mode {
                dialog.proven = None;
            }
            return Some(
                "the fix text changed in the plan since the dry run proved it: p proves it again"
                    .into(),
            );
        }
        if action == FixAction::Apply {
            return self.missing_approvals(dialog.task_index);
        }
        None
    }

    /// Why an apply would be refused for want of approvals, said before the id is typed (the
    /// store's rule decides again when it runs). Under `serve` only a lead's or an admin's
    /// approval counts.
    fn missing_approvals(&self, task_index: usize) -> Option<String> {
        let history = self.fix_history(task_index);
        let mut approvers: Vec<&str> = history
            .approvals
            .iter()
            .filter(|event| event.actor.trim() != self.user.trim())
            .filter(|event| crate::store::approval_counts_for(self.pairing.is_some(), event))
            .map(|event| event.actor.as_str())
            .collect();
        approvers.sort_unstable();
        approvers.dedup();
        let required = history.required as usize;
        (approvers.len() < required).then(|| {
            format!(
                "the plan asks for {required} approval{} from someone other than you before an \
                 apply; {} given for this fix text: R asks for one",
                if required == 1 { "" } else { "s" },
                if approvers.is_empty() {
                    "none".to_string()
                } else {
                    format!("only {}", approvers.len())
                }
            )
        })
    }

    /// `a`: the typed confirmation, after a dry run here proved this fix text.
    pub(super) fn ask_to_confirm(&mut self) {
        let refused = self.refuse_on_proof(FixAction::Apply);
        if let Mode::Fix(dialog) = &mut self.mode {
            match refused {
                Some(why) => dialog.refusal = Some(why),
                None => {
                    dialog.refusal = None;
                    dialog.stage = FixStage::Confirm {
                        typed: String::new(),
                    };
                }
            }
        }
    }

    /// Enter on the confirmation: the exact task id sends the apply; anything else is refused.
    pub(super) fn confirm_apply(&mut self) -> Vec<Effect> {
        let refused = self.refuse_on_proof(FixAction::Apply);
        let Mode::Fix(dialog) = &mut self.mode else {
            return vec![];
        };
        let FixStage::Confirm { typed } = &mut dialog.stage else {
            return vec![];
        };
        if let Some(why) = refused {
            dialog.stage = FixStage::Report;
            dialog.refusal = Some(why);
            return vec![];
        }
        if *typed != dialog.task_id {
            dialog.refusal = Some(format!(
                "not applied: {:?} is not this task's id; type {} exactly (Esc goes back)",
                crate::printable::one_line(typed),
                dialog.task_id
            ));
            typed.clear();
            return vec![];
        }
        dialog.stage = FixStage::Running(FixAction::Apply);
        dialog.refusal = None;
        let (task_id, proven) = (dialog.task_id.clone(), dialog.proven.clone());
        self.send_fix(task_id, FixAction::Apply, String::new(), proven)
    }

    /// `A` or `R`: the note for an approval or a request, after a dry run here proved the fix.
    pub(super) fn ask_for_note(&mut self, action: FixAction) {
        let refused = self.refuse_on_proof(action);
        if let Mode::Fix(dialog) = &mut self.mode {
            match refused {
                Some(why) => dialog.refusal = Some(why),
                None => {
                    dialog.refusal = None;
                    dialog.stage = FixStage::Note {
                        action,
                        note: Box::default(),
                    };
                }
            }
        }
    }

    /// Ctrl-S on the note: the approval or the request goes (after a dry run again, which the
    /// record keeps as its evidence).
    pub(super) fn send_note(&mut self) -> Vec<Effect> {
        let Mode::Fix(dialog) = &self.mode else {
            return vec![];
        };
        let FixStage::Note { action, note } = &dialog.stage else {
            return vec![];
        };
        let (action, note) = (*action, note.lines().join("\n"));
        let refused = self.refuse_on_proof(action);
        let Mode::Fix(dialog) = &mut self.mode else {
            return vec![];
        };
        if let Some(why) = refused {
            dialog.stage = FixStage::Report;
            dialog.refusal = Some(why);
            return vec![];
        }
        dialog.stage = FixStage::Running(action);
        let (task_id, proven) = (dialog.task_id.clone(), dialog.proven.clone());
        self.send_fix(task_id, action, note.trim().to_string(), proven)
    }
}

/// A key for a one-line input: characters, Backspace, Ctrl-U clears.
pub(super) fn edit_line(text: &mut String, key: crossterm::event::KeyEvent) {
    use crossterm::event::{KeyCode, KeyModifiers};
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('u') if ctrl => text.clear(),
        KeyCode::Char(_) if ctrl => {}
        KeyCode::Char(c) => text.push(c),
        KeyCode::Backspace => {
            text.pop();
        }
        _ => {}
    }
}
