//! A plan file that changed on disk: the new plan replaces the old one when it validates (the
//! selection, the view and any note being typed kept), and the old one stays on screen with the
//! problems shown whole when it does not.

use super::{App, Mode};
use crate::engine::board::Board;

impl App {
    /// The board took a reloaded plan: this view keeps its selection, its view and any note
    /// being typed, by task id, in the new plan.
    pub(super) fn plan_reloaded(&mut self, old: &Board, summary: &str) {
        let id_in_old = |index: usize| old.plan.tasks.get(index).map(|task| task.id.clone());
        let selected_id = self
            .visible_tasks_on(old)
            .get(self.selected)
            .copied()
            .and_then(id_in_old);
        let before_panel_id = self.task_before_panel.and_then(id_in_old);
        let plan = self.board.plan.clone();
        self.day = self.day.min(plan.days.len().saturating_sub(1));
        self.phase = self.phase.min(plan.phases.len().saturating_sub(1));
        self.task_rows.clear();
        self.risk_cursor = 0;
        self.task_before_panel = before_panel_id.and_then(|id| plan.task_index(&id));
        let selected = selected_id.and_then(|id| plan.task_index(&id));
        self.reveal(selected);
        self.log(format!("plan reloaded: {summary}; checking it now"), true);
        self.notice = Some(format!("plan reloaded: {summary}"));
    }

    /// The plan file cannot be used: the plan shown stays, and the log view says why.
    pub(super) fn plan_refused(&mut self, problems: &str, first: bool) {
        if first {
            self.log(
                format!(
                    "the plan file changed but cannot be used; the plan shown stays: {problems}"
                ),
                true,
            );
        }
        self.notice = Some("the plan file has problems: the plan shown stays (4 shows why)".into());
    }

    /// A dialog open on a task follows it to its new place, or closes (its note kept as a
    /// draft) when the task is gone.
    pub(super) fn keep_dialog_on_its_task(&mut self) {
        let Mode::Dialog(dialog) = &mut self.mode else {
            return;
        };
        match self.board.plan.task_index(&dialog.task_id) {
            Some(index) => dialog.task_index = index,
            None => {
                let (task_id, note) = (dialog.task_id.clone(), dialog.note_text());
                if !note.trim().is_empty() {
                    self.drafts.insert(task_id.clone(), note);
                }
                self.mode = Mode::Normal;
                self.log(
                    format!("{task_id} is no longer in the plan: its dialog closed, the note kept"),
                    true,
                );
            }
        }
    }
}
