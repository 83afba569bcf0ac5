//! The app: owns every piece of UI state and changes it only in [`App::act`] and [`App::receive`],
//! which return the effects to carry out. No I/O happens here, so every path is testable without
//! a terminal or a database.

mod fix;
mod fix_confirm;
mod fix_history;
mod messages;
mod navigation;
mod pairing;
mod plan_reload;
mod verify;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use time::OffsetDateTime;

pub use fix::{ApplyTarget, FixDialog, FixInFlight, FixStage, action_words, role_refusal};
pub use fix_history::FixHistory;
pub(crate) use messages::quoted_note;
pub use pairing::{Pairing, PeerPicker};
pub use verify::{DialogState, MarkKind, VerifyDialog};

use super::action::{Action, Effect, View};
use super::theme::Theme;
use crate::Backend;
use crate::check::TaskVerdicts;
use crate::engine::board::Board;
use crate::plan::{Plan, Task};
use crate::store::Event;

pub use crate::engine::board::Connection;

/// What the app is doing with the keyboard.
#[derive(Debug, Clone)]
pub enum Mode {
    Normal,
    /// Typing a filter.
    Filter,
    Help,
    Dialog(Box<VerifyDialog>),
    /// A task's fix: its dry run's report, the confirmation to apply it, a note to approve it.
    Fix(Box<FixDialog>),
    /// Choosing whom to follow (a shared tracker only).
    PickPeer(PeerPicker),
}

/// One line of the activity log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub at: OffsetDateTime,
    pub text: String,
    pub important: bool,
    /// The verification event the line tells of, if any (each is told once).
    pub event: Option<i64>,
}

/// Startup settings that do not change.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub plan: Arc<Plan>,
    /// The database URL, password redacted.
    pub database: String,
    pub backend: Backend,
    pub user: String,
    pub theme: Theme,
    pub now: OffsetDateTime,
    /// `--search-path`, which wins over the plan's own (a reloaded plan may change its own).
    pub search_path_override: Option<Vec<String>>,
    /// Where code locations are relative to, and the editor to open them in (`$VISUAL`, else
    /// `$EDITOR`), when there are.
    pub code_root: Option<std::path::PathBuf>,
    pub editor: Option<String>,
    /// In a shared tracker (`remtrack serve`): this session, its role, who else is here.
    pub pairing: Option<Pairing>,
    /// Where fixes are written (`--apply-url`); none: fixes are only shown and copied.
    pub apply_to: Option<ApplyTarget>,
}

/// The most activity lines kept.
const ACTIVITY_LIMIT: usize = 500;

#[derive(Debug)]
pub struct App {
    pub database: String,
    pub backend: Backend,
    pub user: String,
    pub theme: Theme,
    pub now: OffsetDateTime,
    pub size: (u16, u16),

    /// What every view of this tracker shows alike: the plan, verdicts, history, statuses.
    pub board: Arc<Board>,
    /// Ids of the events this view recorded itself (its log says "you …" for them).
    pub own_marks: std::collections::HashSet<i64>,
    pub code_root: Option<std::path::PathBuf>,
    pub editor: Option<String>,
    /// In a shared tracker: this session, its role, who else is here and whom it follows.
    pub pairing: Option<Pairing>,
    /// Where fixes are written, when the tracker may write them.
    pub apply_to: Option<ApplyTarget>,
    /// The fix run this view sent and has not heard back from: one at a time.
    pub fix_running: Option<FixInFlight>,
    /// Quitting during an apply was asked once and held: the next quit goes.
    pub quit_held: bool,

    pub view: View,
    pub day: usize,
    pub phase: usize,
    /// Index into [`App::visible_tasks`].
    pub selected: usize,
    pub filter: String,
    pub only_open: bool,
    pub detail_scroll: u16,
    /// How far the panel can scroll, as the last frame measured it.
    pub scroll_limit: u16,
    /// The risks view's rows that lead to a task, as the last frame measured them.
    pub task_rows: Vec<crate::tui::draw::TaskRow>,
    /// Which of those rows j/k have selected (Enter opens its task).
    pub risk_cursor: usize,
    /// How far the help or the dialog's text is scrolled, and how far it can be, as the last
    /// frame measured it.
    pub overlay_scroll: u16,
    pub overlay_scroll_limit: u16,
    /// The task selected before the risks or log view was shown, to select again after it.
    pub task_before_panel: Option<usize>,
    pub mode: Mode,
    /// Notes typed but not yet recorded, by task id: closing a dialog never loses them.
    pub drafts: HashMap<String, String>,
    pub activity: VecDeque<Activity>,
    /// A one-line message in the footer.
    pub notice: Option<String>,
}

impl App {
    pub fn new(config: AppConfig) -> App {
        let board = Board::new(
            config.plan,
            config.database.clone(),
            config.search_path_override,
        );
        App {
            database: config.database,
            backend: config.backend,
            user: config.user,
            theme: config.theme,
            now: config.now,
            size: (80, 24),
            board: Arc::new(board),
            own_marks: std::collections::HashSet::new(),
            code_root: config.code_root,
            editor: config.editor,
            pairing: config.pairing,
            apply_to: config.apply_to,
            fix_running: None,
            quit_held: false,
            view: View::Days,
            day: 0,
            phase: 0,
            selected: 0,
            filter: String::new(),
            only_open: false,
            detail_scroll: 0,
            scroll_limit: 0,
            task_rows: Vec::new(),
            risk_cursor: 0,
            overlay_scroll: 0,
            overlay_scroll_limit: 0,
            task_before_panel: None,
            mode: Mode::Normal,
            drafts: HashMap::new(),
            activity: VecDeque::new(),
            notice: None,
        }
    }

    /// Applies a person's action.
    pub fn act(&mut self, action: Action) -> Vec<Effect> {
        if action == Action::Quit
            && let Some(why) = self.hold_quit()
        {
            self.notice = Some(why);
            return vec![];
        }
        if matches!(self.mode, Mode::Dialog(_)) {
            return self.act_in_dialog(action);
        }
        if matches!(self.mode, Mode::Fix(_)) {
            return self.act_in_fix(action);
        }
        if matches!(self.mode, Mode::Filter) {
            return self.act_in_filter(action);
        }
        if matches!(self.mode, Mode::PickPeer(_)) {
            return self.act_in_picker(action);
        }
        if matches!(self.mode, Mode::Help) {
            if let Action::ScrollDetail(lines) = action {
                self.scroll_overlay(lines);
                return vec![];
            }
            self.mode = Mode::Normal;
            return if action == Action::Quit {
                vec![Effect::Quit]
            } else {
                vec![]
            };
        }
        self.notice = None;
        if pairing::moves(&action) {
            self.stop_following();
        }
        match action {
            Action::Quit => return vec![Effect::Quit],
            Action::Up | Action::Down | Action::Home | Action::End if self.view == View::Risks => {
                self.move_risk_cursor(&action)
            }
            Action::Up => self.move_selection(-1),
            Action::Down => self.move_selection(1),
            Action::PageUp => self.move_selection(-(self.page_size() as isize)),
            Action::PageDown => self.move_selection(self.page_size() as isize),
            Action::Home => self.select_visible(0),
            Action::End => self.select_visible(usize::MAX),
            Action::Open => self.open_risk_row(),
            Action::NextGroup => self.change_group(1),
            Action::PrevGroup => self.change_group(-1),
            Action::Show(view) => self.show(view),
            Action::NextView => {
                let next = View::ALL
                    .iter()
                    .position(|v| *v == self.view)
                    .map_or(0, |i| (i + 1) % View::ALL.len());
                self.show(View::ALL[next]);
            }
            Action::NextTodo => self.jump_to_next(
                |_, state| state.status != crate::status::TaskStatus::Done,
                "open",
            ),
            Action::NextProblem => self.jump_to_next(
                |_, state| {
                    state.overclaimed
                        || state.verification == Some(crate::status::Verification::Regressed)
                },
                "overclaimed or regressed",
            ),
            Action::Recheck => {
                self.notice = Some("rechecking…".into());
                return vec![Effect::Refresh];
            }
            Action::Verify | Action::Unverify | Action::Note => {
                let (kind, what) = match action {
                    Action::Verify => (MarkKind::Verify, "verifying"),
                    Action::Unverify => (MarkKind::Unverify, "withdrawing a verification"),
                    _ => (MarkKind::Note, "adding a note"),
                };
                match self.refuse_mark(what) {
                    Some(why) => self.notice = Some(why),
                    None => self.open_dialog(kind),
                }
            }
            Action::FollowPicker => self.open_peer_picker(),
            Action::StartFilter => {
                self.mode = Mode::Filter;
            }
            Action::ToggleOpenOnly => {
                let current = self.selected_task_index();
                self.only_open = !self.only_open;
                self.keep_selection(current);
            }
            Action::Help => {
                self.overlay_scroll = 0;
                self.mode = Mode::Help;
            }
            Action::CopyFix => return self.copy_fix(),
            Action::ProveFix => return self.prove_fix(),
            Action::OpenInEditor => return self.open_in_editor(),
            Action::ScrollDetail(lines) => {
                self.detail_scroll = self
                    .detail_scroll
                    .saturating_add_signed(lines)
                    .min(self.scroll_limit);
            }
            Action::Click { column, row } => self.click(column, row),
            Action::Cancel => {
                if !self.filter.is_empty() {
                    let current = self.selected_task_index();
                    self.filter.clear();
                    self.reveal(current);
                }
            }
            Action::Submit
            | Action::Edit(_)
            | Action::Paste(_)
            | Action::EndSession
            | Action::ReloadTeam
            | Action::ApplyFix
            | Action::ApproveFix
            | Action::RequestApproval => {}
        }
        vec![]
    }

    /// Tasks shown in the list, as indexes into `plan.tasks`, in plan order.
    pub fn visible_tasks(&self) -> Vec<usize> {
        self.visible_tasks_on(&self.board)
    }

    /// [`App::visible_tasks`] as they were on another board (the one before a plan reload).
    fn visible_tasks_on(&self, board: &Board) -> Vec<usize> {
        let filter = self.filter.to_lowercase();
        board
            .plan
            .tasks
            .iter()
            .enumerate()
            .filter(|(index, task)| {
                let in_group = if !filter.is_empty() {
                    matches_filter(task, &filter)
                } else {
                    match self.view {
                        View::Days => board
                            .plan
                            .days
                            .get(self.day)
                            .is_some_and(|d| d.day == task.day),
                        View::Phases => board
                            .plan
                            .phases
                            .get(self.phase)
                            .is_some_and(|p| p.id == task.phase),
                        View::Risks | View::Log => false,
                    }
                };
                in_group
                    && !(self.only_open
                        && board.status.tasks[*index].status == crate::status::TaskStatus::Done)
            })
            .map(|(index, _)| index)
            .collect()
    }

    /// The selected task's index into `plan.tasks`.
    pub fn selected_task_index(&self) -> Option<usize> {
        self.visible_tasks().get(self.selected).copied()
    }

    pub fn selected_task(&self) -> Option<&Task> {
        self.selected_task_index()
            .map(|index| &self.board.plan.tasks[index])
    }

    /// The verdicts of a task from the last successful refresh.
    pub fn verdicts_of(&self, index: usize) -> Option<&TaskVerdicts> {
        self.board
            .last_refresh
            .as_ref()
            .and_then(|refresh| refresh.verdicts.task(index))
    }

    /// Verification events of one task, oldest first.
    pub fn history_of<'a>(
        &'a self,
        task_id: &'a str,
    ) -> impl DoubleEndedIterator<Item = &'a Event> + 'a {
        self.board
            .history
            .iter()
            .filter(move |event| event.task_id == task_id)
    }

    /// Scrolls the help or the dialog's text, within what the last frame measured.
    fn scroll_overlay(&mut self, lines: i16) {
        self.overlay_scroll = self
            .overlay_scroll
            .saturating_add_signed(lines)
            .min(self.overlay_scroll_limit);
    }

    fn log(&mut self, text: impl Into<String>, important: bool) {
        self.log_at(self.now, text, important);
    }

    fn log_at(&mut self, at: OffsetDateTime, text: impl Into<String>, important: bool) {
        self.push_activity(Activity {
            at,
            text: text.into(),
            important,
            event: None,
        });
    }

    fn log_event_line(&mut self, at: OffsetDateTime, text: String, important: bool, event: i64) {
        self.push_activity(Activity {
            at,
            text,
            important,
            event: Some(event),
        });
    }

    fn push_activity(&mut self, activity: Activity) {
        self.activity.push_back(activity);
        while self.activity.len() > ACTIVITY_LIMIT {
            self.activity.pop_front();
        }
    }

    fn copy_fix(&mut self) -> Vec<Effect> {
        let Some(task) = self.selected_task() else {
            self.notice = Some("no task selected".into());
            return vec![];
        };
        match task
            .fix
            .as_ref()
            .and_then(|fix| fix.sql.for_backend(self.backend))
        {
            Some(sql) => {
                let sql = sql.to_string();
                let runs = if self.apply_to.is_some() {
                    "p dry runs it here"
                } else {
                    "remtrack runs it only when given --apply-url"
                };
                self.notice = Some(format!(
                    "fix SQL of {} copied to the clipboard (OSC 52); {runs}",
                    task.id
                ));
                vec![Effect::Copy(sql)]
            }
            None => {
                self.notice = Some(format!(
                    "{} has no fix SQL for {}",
                    task.id,
                    self.backend.name()
                ));
                vec![]
            }
        }
    }

    /// The first place the selected task's checks found in the code, as `file` (relative to the
    /// code root) and line.
    pub fn selected_code_location(&self) -> Option<(String, u64)> {
        let verdicts = self.verdicts_of(self.selected_task_index()?)?;
        verdicts
            .checks
            .iter()
            .chain(&verdicts.guards)
            .filter_map(|v| v.facts.get("locations")?.as_array()?.first().cloned())
            .find_map(|location| {
                crate::check::code::location_of(&location)
                    .map(|(file, line)| (file.to_string(), line))
            })
    }

    /// `e`: the selected task's first code location, in the person's editor; or why not.
    fn open_in_editor(&mut self) -> Vec<Effect> {
        let Some((file, line)) = self.selected_code_location() else {
            self.notice = Some("no code location in this task's checks".into());
            return vec![];
        };
        // Locations come from verdicts, which may come from a shared store: only a path under
        // the code root is handed to an editor.
        if let Some(problem) = crate::check::code::path_problem(&file) {
            self.notice = Some(format!("not opened: {problem}"));
            return vec![];
        }
        if self.pairing.is_some() {
            // An editor would run on the server, as the server's user: never for a client.
            self.notice = Some(format!(
                "editors do not open over SSH; the location is {file}:{line}"
            ));
            return vec![];
        }
        match (&self.editor, &self.code_root) {
            (None, _) => {
                self.notice = Some(format!(
                    "no editor: set $VISUAL or $EDITOR to open {file}:{line} from here"
                ));
                vec![]
            }
            (_, None) => {
                self.notice = Some(format!("{file}:{line}: the code root is not known"));
                vec![]
            }
            (Some(_), Some(root)) => vec![Effect::Edit {
                file: root.join(&file),
                line,
            }],
        }
    }

    fn act_in_filter(&mut self, action: Action) -> Vec<Effect> {
        let current = self.selected_task_index();
        match action {
            Action::Quit => return vec![Effect::Quit],
            Action::Submit => self.mode = Mode::Normal,
            Action::Cancel => {
                self.filter.clear();
                self.mode = Mode::Normal;
            }
            Action::Edit(key) => {
                use crossterm::event::{KeyCode, KeyModifiers};
                let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
                match key.code {
                    KeyCode::Char('u') if ctrl => self.filter.clear(),
                    KeyCode::Char('w') if ctrl => {
                        let kept = self.filter.trim_end().rfind(' ').map_or(0, |at| at + 1);
                        self.filter.truncate(kept);
                    }
                    KeyCode::Char(_) if ctrl => {}
                    KeyCode::Char(c) => self.filter.push(c),
                    KeyCode::Backspace => {
                        self.filter.pop();
                    }
                    _ => {}
                }
            }
            Action::Paste(text) => self.filter.extend(text.chars().filter(|c| !c.is_control())),
            Action::Up => self.move_selection(-1),
            Action::Down => self.move_selection(1),
            _ => {}
        }
        if self.filter.is_empty() {
            // Back to the day or phase view: the one holding the task the filter found.
            self.reveal(current);
        } else {
            self.keep_selection(current);
        }
        vec![]
    }
}

/// Whether the task's id, title, description, or the id or table of one of its checks or
/// guards contains the (lower-cased) filter text.
fn matches_filter(task: &Task, filter: &str) -> bool {
    let has = |text: &str| text.to_lowercase().contains(filter);
    has(&task.id)
        || has(&task.title)
        || task.description.as_deref().is_some_and(has)
        || task
            .checks
            .iter()
            .chain(task.fix.iter().flat_map(|fix| fix.guards.iter()))
            .any(|check| has(&check.id) || check.spec.table().is_some_and(has))
}

#[cfg(test)]
pub(crate) mod fix_tests;
#[cfg(test)]
mod pairing_tests;
#[cfg(test)]
pub(crate) mod tests;
