//! Moving around: selection, days and phases, views, walking to the next thing to do.

use super::{App, Mode};
use crate::status::TaskState;
use crate::tui::action::{Action, View};
use crate::tui::layout::{Areas, list_offset};

impl App {
    pub(super) fn move_selection(&mut self, delta: isize) {
        let count = self.visible_tasks().len();
        if count == 0 {
            self.selected = 0;
            return;
        }
        let target = (self.selected as isize + delta).clamp(0, count as isize - 1);
        self.select_visible(target as usize);
    }

    pub(super) fn select_visible(&mut self, position: usize) {
        let count = self.visible_tasks().len();
        self.selected = position.min(count.saturating_sub(1));
        self.detail_scroll = 0;
    }

    /// Keeps `task` (an index into `plan.tasks`) selected after the visible list changed, or the
    /// nearest position when it is no longer shown.
    pub(super) fn keep_selection(&mut self, task: Option<usize>) {
        let visible = self.visible_tasks();
        self.selected = match task.and_then(|t| visible.iter().position(|v| *v == t)) {
            Some(position) => position,
            None => self.selected.min(visible.len().saturating_sub(1)),
        };
    }

    pub(super) fn change_group(&mut self, delta: isize) {
        let (current, count) = match self.view {
            View::Days => (&mut self.day, self.board.plan.days.len()),
            View::Phases => (&mut self.phase, self.board.plan.phases.len()),
            View::Risks | View::Log => return,
        };
        if count == 0 {
            return;
        }
        *current = (*current as isize + delta).rem_euclid(count as isize) as usize;
        self.select_visible(0);
    }

    pub(super) fn show(&mut self, view: View) {
        if self.view == view {
            return;
        }
        // The risks and log views select no task; coming back selects the one left behind.
        let current = self.selected_task_index().or(self.task_before_panel);
        self.task_before_panel = current;
        self.view = view;
        self.detail_scroll = 0;
        self.reveal(current);
    }

    /// Shows the day or phase holding `task` (an index into `plan.tasks`) and selects it there.
    pub(super) fn reveal(&mut self, task: Option<usize>) {
        if let Some(task) = task.map(|index| &self.board.plan.tasks[index]) {
            match self.view {
                View::Days => {
                    self.day = self
                        .board
                        .plan
                        .days
                        .iter()
                        .position(|d| d.day == task.day)
                        .unwrap_or(self.day)
                }
                View::Phases => {
                    self.phase = self
                        .board
                        .plan
                        .phases
                        .iter()
                        .position(|p| p.id == task.phase)
                        .unwrap_or(self.phase)
                }
                View::Risks | View::Log => {}
            }
        }
        self.keep_selection(task);
    }

    /// Selects the first task after the selected one (in plan order, wrapping) that satisfies
    /// `wanted`, switching day or phase as needed.
    pub(super) fn jump_to_next(&mut self, wanted: impl Fn(usize, &TaskState) -> bool, what: &str) {
        let count = self.board.plan.tasks.len();
        let start = self.selected_task_index().map_or(0, |index| index + 1);
        let found = (0..count)
            .map(|step| (start + step) % count)
            .find(|&index| wanted(index, &self.board.status.tasks[index]));
        let Some(index) = found else {
            self.notice = Some(format!("no {what} tasks"));
            return;
        };
        self.go_to_task(index);
    }

    /// Shows the task (an index into `plan.tasks`) in the day view (or the phase view, when that
    /// is on screen) and selects it, clearing whatever would hide it.
    pub(super) fn go_to_task(&mut self, index: usize) {
        let task = &self.board.plan.tasks[index];
        if !matches!(self.view, View::Days | View::Phases) {
            self.view = View::Days;
        }
        self.filter.clear();
        if self.only_open
            && self.board.status.tasks[index].status == crate::status::TaskStatus::Done
        {
            self.only_open = false;
        }
        self.day = self
            .board
            .plan
            .days
            .iter()
            .position(|d| d.day == task.day)
            .unwrap_or(self.day);
        self.phase = self
            .board
            .plan
            .phases
            .iter()
            .position(|p| p.id == task.phase)
            .unwrap_or(self.phase);
        self.keep_selection(Some(index));
        self.detail_scroll = 0;
        self.mode = Mode::Normal;
    }

    /// j/k, g/G in the risks view: move between the rows that name a task, scrolling just
    /// enough to keep the selected one on screen.
    pub(super) fn move_risk_cursor(&mut self, action: &Action) {
        let count = self.task_rows.len();
        if count == 0 {
            self.notice = Some("nothing here leads to a task".into());
            return;
        }
        self.risk_cursor = match action {
            Action::Up => self.risk_cursor.saturating_sub(1),
            Action::Down => (self.risk_cursor + 1).min(count - 1),
            Action::Home => 0,
            _ => count - 1,
        };
        let row = self.task_rows[self.risk_cursor].row;
        let areas = Areas::compute(self.size.0, self.size.1, self.view);
        let height = areas.body.height.saturating_sub(2).max(1);
        if row < self.detail_scroll {
            self.detail_scroll = row;
        } else if row >= self.detail_scroll + height {
            self.detail_scroll = row + 1 - height;
        }
        self.detail_scroll = self.detail_scroll.min(self.scroll_limit);
    }

    /// Enter in the risks view: the selected row's task, in its day.
    pub(super) fn open_risk_row(&mut self) {
        if self.view != View::Risks {
            return;
        }
        match self.task_rows.get(self.risk_cursor) {
            Some(row) => {
                let index = row.task;
                self.go_to_task(index);
                self.notice = Some(format!(
                    "{} (Tab or 3 goes back to the risks)",
                    crate::printable::one_line(&self.board.plan.tasks[index].id)
                ));
            }
            None => self.notice = Some("nothing here leads to a task".into()),
        }
    }

    pub(super) fn page_size(&self) -> usize {
        let areas = Areas::compute(self.size.0, self.size.1, self.view);
        usize::from(areas.list.height.saturating_sub(2)).max(1)
    }

    pub(super) fn click(&mut self, column: u16, row: u16) {
        let areas = Areas::compute(self.size.0, self.size.1, self.view);
        let list = areas.list;
        let inside = column >= list.x
            && column < list.x + list.width
            && row > list.y
            && row + 1 < list.y + list.height;
        if inside {
            let visible_rows = usize::from(list.height.saturating_sub(2));
            let offset = list_offset(self.selected, visible_rows);
            self.select_visible(offset + usize::from(row - list.y - 1));
            return;
        }
        if self.view == View::Risks
            && row > areas.body.y
            && row + 1 < areas.body.y + areas.body.height
        {
            let clicked = row - areas.body.y - 1 + self.detail_scroll;
            if let Some(position) = self.task_rows.iter().position(|r| r.row == clicked) {
                self.risk_cursor = position;
            }
            return;
        }
        if row == areas.tabs.y {
            // The tab labels are laid out as " Days │ Phases │ Risks │ Log ".
            let mut x = areas.tabs.x;
            for view in View::ALL {
                let width = view.title().len() as u16 + 3;
                if column >= x && column < x + width {
                    self.show(view);
                    return;
                }
                x += width;
            }
        }
    }
}
