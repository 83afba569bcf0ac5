//! What the board's history says about a task's fix on this database: the last apply, and the
//! approvals and requests for approval given for the fix text the plan has now. And the word a
//! person who may approve gets when someone else asks (in the store's words for fix events).

use super::App;
use crate::apply::FixAction;
use crate::store::{Event, EventKind};

/// A task's fix, as the history tells it.
#[derive(Debug, Default)]
pub struct FixHistory<'a> {
    /// The last apply tried on this database, committed or not.
    pub last_apply: Option<&'a Event>,
    /// Approvals of the current fix text since it was last applied here, oldest first.
    pub approvals: Vec<&'a Event>,
    /// Requests for approval of the current fix text that no approval has answered yet.
    pub requests: Vec<&'a Event>,
    /// How many approvals the plan asks for before an apply.
    pub required: u32,
}

impl App {
    /// The history of task `index`'s fix on this database.
    pub fn fix_history(&self, index: usize) -> FixHistory<'_> {
        let task = &self.board.plan.tasks[index];
        let mut history = FixHistory {
            required: self.board.plan.fix_policy_of(task).approvals,
            ..FixHistory::default()
        };
        let Some(fingerprint) = self.fix_fingerprint_of(index) else {
            return history;
        };
        let here = self
            .history_of(&task.id)
            .filter(|event| !self.board.made_elsewhere.contains_key(&event.id));
        for event in here {
            let current = event.fingerprint == fingerprint;
            match event.kind {
                EventKind::Applied | EventKind::ApplyFailed => {
                    history.last_apply = Some(event);
                    // An apply of this text spends the approvals it was given.
                    if current && event.kind == EventKind::Applied {
                        history.approvals.clear();
                        history.requests.clear();
                    }
                }
                EventKind::Approved if current => {
                    history.approvals.push(event);
                    // It answers everyone's request but the approver's own.
                    history
                        .requests
                        .retain(|request| request.actor.trim() == event.actor.trim());
                }
                EventKind::ApprovalRequested if current => history.requests.push(event),
                _ => {}
            }
        }
        history
    }

    /// Someone else asks for an approval: a person who may give it is told at once.
    pub(super) fn tell_of_fix_event(&mut self, event: &Event) {
        if event.kind == EventKind::ApprovalRequested
            && event.actor != self.user
            && self.refuse_fix(FixAction::Approve).is_none()
        {
            self.notice = crate::store::fix_event_words(event, false);
        }
    }
}
