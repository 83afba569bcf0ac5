//! A plan file that changed on disk: the new plan replaces the old one when it validates (the
//! selection, the view and any note being typed kept), and the old one stays on screen with the
//! problems shown whole when it does not.

use std::sync::Arc;

use super::{App, Mode};
use crate::plan::Plan;
use crate::tui::action::Effect;

impl App {
    /// Applies what the plan file now says: a plan that validated, or why it did not.
    pub(super) fn plan_file_changed(&mut self, result: Result<Arc<Plan>, String>) -> Vec<Effect> {
        let plan = match result {
            Ok(plan) => plan,
            Err(problems) => {
                self.refuse_plan(problems);
                return vec![];
            }
        };
        if *plan == *self.plan {
            // Saved again unchanged, or a problem fixed back to what is shown.
            self.clear_plan_problem();
            return vec![];
        }
        let flag = self.search_path_override.as_deref();
        let (old_path, new_path) = (
            self.plan.search_path_with(flag),
            plan.search_path_with(flag),
        );
        if old_path != new_path {
            // The connection's search path was set from the plan when it opened: checking the
            // new plan under the old path could call a table done that the new path would not.
            self.refuse_plan(format!(
                "its search_path changed ({} → {}): quit and start remtrack again to check \
                 under the new one",
                describe_path(old_path),
                describe_path(new_path)
            ));
            return vec![];
        }

        if plan.code != self.plan.code {
            // The code source (its root, its excludes and its cache) was made for the old one.
            self.refuse_plan(
                "its \"code\" settings changed: quit and start remtrack again to read the code \
                 where it now says"
                    .into(),
            );
            return vec![];
        }

        let selected_id = self.selected_task().map(|task| task.id.clone());
        let before_panel_id = self
            .task_before_panel
            .map(|index| self.plan.tasks[index].id.clone());
        let summary = describe_change(&self.plan, &plan);
        self.plan = plan.clone();
        self.plan_generation += 1;
        // The verdicts shown are by position in the old plan: none of them may be read against
        // the new one (that could show a false "done"). The engine checks the new plan at once.
        self.last_refresh = None;
        self.verdicts_remembered = false;
        self.refreshing = true;
        self.day = self.day.min(self.plan.days.len().saturating_sub(1));
        self.phase = self.phase.min(self.plan.phases.len().saturating_sub(1));
        self.task_rows.clear();
        self.risk_cursor = 0;
        self.task_before_panel = before_panel_id.and_then(|id| self.plan.task_index(&id));
        self.remark();
        self.rederive();
        let selected = selected_id.and_then(|id| self.plan.task_index(&id));
        self.reveal(selected);
        self.keep_dialog_on_its_task();
        self.clear_plan_problem();
        self.log(format!("plan reloaded: {summary}; checking it now"), true);
        self.notice = Some(format!("plan reloaded: {summary}"));
        vec![Effect::UsePlan(plan)]
    }

    fn refuse_plan(&mut self, problems: String) {
        if self.plan_problem.as_deref() != Some(problems.as_str()) {
            self.log(
                format!(
                    "the plan file changed but cannot be used; the plan shown stays: {problems}"
                ),
                true,
            );
        }
        self.notice = Some("the plan file has problems: the plan shown stays (4 shows why)".into());
        self.plan_problem = Some(problems);
    }

    fn clear_plan_problem(&mut self) {
        if self.plan_problem.take().is_some() {
            self.log("the plan file is valid again", false);
        }
    }

    /// A dialog open on a task follows it to its new place, or closes (its note kept as a
    /// draft) when the task is gone.
    fn keep_dialog_on_its_task(&mut self) {
        let Mode::Dialog(dialog) = &mut self.mode else {
            return;
        };
        match self.plan.task_index(&dialog.task_id) {
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

fn describe_path(path: Option<&[String]>) -> String {
    match path {
        Some(schemas) => schemas.join(", "),
        None => "the database's default".into(),
    }
}

/// "16 tasks (1 added, 0 removed, 2 changed)".
fn describe_change(old: &Plan, new: &Plan) -> String {
    let added = new
        .tasks
        .iter()
        .filter(|task| old.task(&task.id).is_none())
        .count();
    let removed = old
        .tasks
        .iter()
        .filter(|task| new.task(&task.id).is_none())
        .count();
    let changed = new
        .tasks
        .iter()
        .filter(|task| old.task(&task.id).is_some_and(|before| before != *task))
        .count();
    format!(
        "{} tasks ({added} added, {removed} removed, {changed} changed)",
        new.tasks.len()
    )
}
