//! The verify and unverify dialogs: the rules, the note, and never losing what was typed.

use std::sync::Arc;

use ratatui_textarea::TextArea;

use super::{App, Mode};
use crate::store::{
    EventKind, NewEvent, Refusal, evidence_snapshot, may_note, may_unverify, may_verify,
    task_fingerprint,
};
use crate::tui::action::{Action, Effect};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    Verify,
    Unverify,
    Note,
}

/// Where the dialog stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialogState {
    /// Typing a note.
    Editing,
    /// The rules refuse the mark; the reason and the failing evidence are shown.
    Refused(Refusal),
    /// The checks on screen are not fresh live evidence: the database is asked again, and the
    /// mark is recorded only if that refresh says the checks still pass.
    AwaitingRefresh,
    /// Sent to the store; waiting for it to confirm.
    Saving,
    /// The store did not record it; the note is still here.
    Failed(String),
}

/// How recent the checks must be to back a verification: a refresh that finished at most this
/// long ago against the live database (twice the default refresh interval).
pub const FRESH_FOR: time::Duration = time::Duration::seconds(10);

/// Whether the checks on screen can back a verification now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    Fresh,
    /// The database does not answer; the checks shown are old.
    Offline(String),
    /// The checks shown were kept by the store from an earlier session.
    Remembered,
    /// The last refresh finished this long ago.
    Old(time::Duration),
    /// No refresh yet.
    None,
}

impl Evidence {
    /// Why the checks on screen cannot back a verification, for the dialog.
    pub fn why_not(&self) -> Option<String> {
        match self {
            Evidence::Fresh => None,
            Evidence::Offline(reason) => Some(format!(
                "the database is offline ({reason}): the checks shown are old"
            )),
            Evidence::Remembered => {
                Some("the checks shown are from an earlier session, not from the database".into())
            }
            Evidence::Old(age) => Some(format!(
                "the checks shown are {} s old",
                age.whole_seconds()
            )),
            Evidence::None => Some("the database has not answered yet".into()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct VerifyDialog {
    pub task_id: String,
    pub task_index: usize,
    pub kind: MarkKind,
    pub note: TextArea<'static>,
    pub state: DialogState,
}

impl VerifyDialog {
    pub fn note_text(&self) -> String {
        self.note.lines().join("\n")
    }

    pub(super) fn fail(&mut self, error: String) {
        self.state = DialogState::Failed(error);
    }
}

impl App {
    /// Whether the verdicts on screen are fresh live evidence (see [`FRESH_FOR`]).
    pub fn evidence(&self) -> Evidence {
        if let super::Connection::Offline { reason } = &self.board.connection {
            return Evidence::Offline(reason.clone());
        }
        if self.board.verdicts_remembered {
            return Evidence::Remembered;
        }
        let Some(refresh) = &self.board.last_refresh else {
            return Evidence::None;
        };
        let finished = refresh.checked_at
            + time::Duration::try_from(refresh.duration).unwrap_or(time::Duration::ZERO);
        let age = self.now - finished;
        if age > FRESH_FOR {
            Evidence::Old(age)
        } else {
            Evidence::Fresh
        }
    }

    pub(super) fn open_dialog(&mut self, kind: MarkKind) {
        let Some(task_index) = self.selected_task_index() else {
            self.notice = Some("select a task first".into());
            return;
        };
        let task = &self.board.plan.tasks[task_index];
        if kind == MarkKind::Unverify && self.board.marks.get(&task.id).is_none_or(|m| !m.verified)
        {
            self.notice = Some(format!("{} is not verified", task.id));
            return;
        }
        let draft = self.drafts.get(&task.id).cloned().unwrap_or_default();
        let mut note = TextArea::from(draft.lines().map(str::to_string).collect::<Vec<_>>());
        note.move_cursor(ratatui_textarea::CursorMove::Bottom);
        note.move_cursor(ratatui_textarea::CursorMove::End);
        // Refuse up front when the checks say no: no note can change that.
        let state = match kind {
            MarkKind::Verify => {
                match may_verify(task, self.verdicts_of(task_index), "placeholder note") {
                    Err(refusal) => DialogState::Refused(refusal),
                    Ok(()) => DialogState::Editing,
                }
            }
            MarkKind::Unverify | MarkKind::Note => DialogState::Editing,
        };
        self.overlay_scroll = 0;
        self.mode = Mode::Dialog(Box::new(VerifyDialog {
            task_id: task.id.clone(),
            task_index,
            kind,
            note,
            state,
        }));
    }

    pub(super) fn act_in_dialog(&mut self, action: Action) -> Vec<Effect> {
        let Mode::Dialog(dialog) = &mut self.mode else {
            return vec![];
        };
        match action {
            Action::Cancel => {
                let note = dialog.note_text();
                let task_id = dialog.task_id.clone();
                if note.trim().is_empty() {
                    self.drafts.remove(&task_id);
                } else {
                    self.drafts.insert(task_id.clone(), note);
                    self.notice = Some(format!("note for {task_id} kept as a draft"));
                }
                self.mode = Mode::Normal;
                vec![]
            }
            Action::Submit => self.submit_dialog(),
            Action::ScrollDetail(lines) => {
                self.scroll_overlay(lines);
                vec![]
            }
            Action::Edit(_) | Action::Paste(_) => {
                if matches!(dialog.state, DialogState::Editing | DialogState::Failed(_))
                    || is_refused_by_note(&dialog.state)
                {
                    match action {
                        Action::Edit(key) => {
                            dialog.note.input(key);
                        }
                        Action::Paste(text) => {
                            dialog.note.insert_str(clean_paste(&text));
                        }
                        _ => {}
                    }
                    let note = dialog.note_text();
                    let task_id = dialog.task_id.clone();
                    self.drafts.insert(task_id, note);
                }
                vec![]
            }
            _ => vec![],
        }
    }

    fn submit_dialog(&mut self) -> Vec<Effect> {
        let Mode::Dialog(dialog) = &self.mode else {
            return vec![];
        };
        if matches!(
            dialog.state,
            DialogState::Refused(_) | DialogState::Saving | DialogState::AwaitingRefresh
        ) && !is_refused_by_note(&dialog.state)
        {
            return vec![];
        }
        if let Some(problem) = &self.board.store_problem {
            let problem = format!("the verification store is unavailable: {problem}");
            if let Mode::Dialog(dialog) = &mut self.mode {
                dialog.state = DialogState::Failed(problem);
            }
            return vec![];
        }
        let (task_index, kind, note) = (dialog.task_index, dialog.kind, dialog.note_text());
        let task = &self.board.plan.tasks[task_index];
        let verdicts = self.verdicts_of(task_index);
        let allowed = match kind {
            MarkKind::Verify => may_verify(task, verdicts, &note),
            MarkKind::Unverify => may_unverify(&note),
            MarkKind::Note => may_note(&note),
        };
        if let Err(refusal) = allowed {
            if let Mode::Dialog(dialog) = &mut self.mode {
                dialog.state = DialogState::Refused(refusal);
            }
            return vec![];
        }
        // A verification records live evidence: checks that are old, remembered or from before
        // an outage are checked again first, and the mark waits for that answer.
        let fresh = if task.is_code_work() {
            self.code_is_fresh()
        } else {
            self.evidence() == Evidence::Fresh
        };
        if kind == MarkKind::Verify && !task.is_manual() && !fresh {
            if let Mode::Dialog(dialog) = &mut self.mode {
                dialog.state = DialogState::AwaitingRefresh;
            }
            return vec![Effect::Refresh];
        }
        let evidence = evidence_snapshot(
            task,
            verdicts,
            &self.database,
            self.board
                .last_refresh
                .as_ref()
                .map(|refresh| refresh.checked_at),
        );
        let event = NewEvent {
            task_id: task.id.clone(),
            kind: match kind {
                MarkKind::Verify => EventKind::Verified,
                MarkKind::Unverify => EventKind::Unverified,
                MarkKind::Note => EventKind::Note,
            },
            actor: self.user.clone(),
            at: self.now,
            note: note.trim().to_string(),
            evidence,
            fingerprint: task_fingerprint(task),
        };
        if let Mode::Dialog(dialog) = &mut self.mode {
            dialog.state = DialogState::Saving;
        }
        vec![Effect::Record(Arc::new(event))]
    }
}

impl App {
    /// A refresh answered while a verification waited for it: record the mark if the checks
    /// still pass on these fresh verdicts, or say why not.
    pub(super) fn resume_awaiting_dialog(&mut self, failure: Option<String>) -> Vec<Effect> {
        let Mode::Dialog(dialog) = &mut self.mode else {
            return vec![];
        };
        if dialog.state != DialogState::AwaitingRefresh {
            return vec![];
        }
        // The code was read even though the database was not: enough for a code task.
        let code_task = self.board.plan.tasks[dialog.task_index].is_code_work();
        if let Some(reason) = failure.filter(|_| !(code_task && self.code_is_fresh())) {
            let Mode::Dialog(dialog) = &mut self.mode else {
                return vec![];
            };
            dialog.fail(format!(
                "the database did not answer ({reason}); a verification needs checks from the \
                 live database"
            ));
            return vec![];
        }
        if let Mode::Dialog(dialog) = &mut self.mode {
            dialog.state = DialogState::Editing;
        }
        self.submit_dialog()
    }

    /// Whether the code checks were judged within the freshness window.
    pub(super) fn code_is_fresh(&self) -> bool {
        self.board
            .code_checked_at
            .is_some_and(|at| self.now - at <= FRESH_FOR)
    }
}

/// Pasted text for a note: escape sequences and bidi overrides never reach the screen.
pub(super) fn clean_paste(text: &str) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .filter(|&c| c == '\n' || c == '\t' || !crate::printable::is_unsafe(c))
        .collect()
}

/// A refusal that only asked for a note can be retried once one is typed.
fn is_refused_by_note(state: &DialogState) -> bool {
    matches!(state, DialogState::Refused(refusal) if refusal.needs_note_only())
}
