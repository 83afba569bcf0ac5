//! What can happen to the app: actions (from keys and the mouse), messages (from background
//! tasks, carrying their data) and effects (what `update` asks the runtime to do).

use std::sync::Arc;

use time::OffsetDateTime;

use crate::check::Verdicts;
use crate::engine::EngineUpdate;
use crate::store::{Event, NewEvent};

/// The top-level views, one per tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    Days,
    Phases,
    Risks,
    Log,
}

impl View {
    pub const ALL: [View; 4] = [View::Days, View::Phases, View::Risks, View::Log];

    pub fn title(self) -> &'static str {
        match self {
            View::Days => "Days",
            View::Phases => "Phases",
            View::Risks => "Risks",
            View::Log => "Log",
        }
    }
}

/// Something a person asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Leave the app.
    Quit,
    /// Move the selection up one task.
    Up,
    /// Move the selection down one task.
    Down,
    /// Move the selection up a page.
    PageUp,
    /// Move the selection down a page.
    PageDown,
    /// Select the first task.
    Home,
    /// Select the last task.
    End,
    /// Show the next day (or phase).
    NextGroup,
    /// Show the previous day (or phase).
    PrevGroup,
    /// Switch to a view.
    Show(View),
    /// Cycle to the next view.
    NextView,
    /// Open what is selected: in the risks view, the task of the selected row.
    Open,
    /// Jump to the next task that is not done, in plan order.
    NextTodo,
    /// Jump to the next overclaimed or regressed task.
    NextProblem,
    /// Check the database again now.
    Recheck,
    /// Open the dialog to mark the selected task verified.
    Verify,
    /// Open the dialog to withdraw the selected task's verification.
    Unverify,
    /// Open the dialog to add a note to the selected task's history.
    Note,
    /// Start typing a filter.
    StartFilter,
    /// Show only tasks that are not done, or everything.
    ToggleOpenOnly,
    /// Show or hide the key list.
    Help,
    /// Copy the selected task's fix SQL to the clipboard (OSC 52).
    CopyFix,
    /// Dry run the selected task's fix (in the fix dialog: again): prove it in a transaction
    /// that is rolled back, and open the dialog that shows the report.
    ProveFix,
    /// In the fix dialog: apply the fix a dry run there proved (the task id is typed first).
    ApplyFix,
    /// In the fix dialog: approve the fix a dry run there proved, with a note.
    ApproveFix,
    /// In the fix dialog: ask for an approval of the fix a dry run there proved, with a note.
    RequestApproval,
    /// Open the first code location of the selected task in the person's editor.
    OpenInEditor,
    /// Scroll the detail pane.
    ScrollDetail(i16),
    /// A mouse click at a terminal cell.
    Click { column: u16, row: u16 },
    /// Close a dialog, leave the filter, or clear it.
    Cancel,
    /// Save the dialog (Ctrl-S) or accept the filter (Enter).
    Submit,
    /// A key for the text being edited (filter or note).
    Edit(crossterm::event::KeyEvent),
    /// Text pasted into the terminal (bracketed paste), for the filter or note being edited.
    Paste(String),
    /// Open the list of the others here, to follow one (a shared tracker only).
    FollowPicker,
    /// In the follow list: end the chosen person's session (admin only).
    EndSession,
    /// In the follow list: read the team file again (admin only).
    ReloadTeam,
}

/// A result from the world outside the app.
#[derive(Debug, Clone)]
pub enum Msg {
    /// The shared board changed (the hub's, for every view), with what the change meant.
    Board(crate::engine::board::Update),
    /// The check engine started or finished a refresh.
    Engine(EngineUpdate),
    /// Every verification event in the store, oldest first (at start, and after a lost connection).
    StoreLoaded(Vec<Event>),
    /// New events, from this session or another one.
    StoreAppended(Vec<Event>),
    /// The store cannot be read or written; the app keeps working read-only.
    StoreFailed(String),
    /// A mark this session asked for is recorded.
    MarkRecorded(Event),
    /// A mark this session asked for was not recorded; the note must not be lost.
    MarkFailed { task_id: String, error: String },
    /// Verdicts the store kept from an earlier session, shown (marked old) until the database answers.
    Remembered {
        checked_at: OffsetDateTime,
        verdicts: Verdicts,
    },
    /// A second passed (ages on screen are computed from this, so drawing needs no clock).
    Tick(OffsetDateTime),
    /// The terminal changed size.
    Resized { width: u16, height: u16 },
    /// The editor opened on a code location exited (with why, when it failed).
    EditorClosed(Result<(), String>),
    /// The plan file changed on disk: the plan it now holds, or why it cannot be used.
    PlanFile(Result<Arc<crate::plan::Plan>, String>),
    /// A frame was drawn; what it measured bounds the keys that follow.
    Drawn(crate::tui::draw::Drawn),
    /// Who is here in a shared tracker, and where each is.
    Roster(Arc<crate::serve::presence::Roster>),
    /// The host did what it was asked (end a session, reload the team) and says how it went.
    HostSaid(String),
    /// A fix run this view asked for answered: its report, or why nothing ran.
    FixFinished {
        task_id: String,
        action: crate::apply::FixAction,
        outcome: Result<Arc<crate::engine::fixer::FixReport>, String>,
    },
}

/// Work `update` hands to the runtime; `update` itself does no I/O.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Refresh,
    Record(Arc<NewEvent>),
    Copy(String),
    /// Hand the terminal to the editor on `file` at `line`, and take it back when it exits.
    Edit {
        file: std::path::PathBuf,
        line: u64,
    },
    /// End another person's session (an admin's choice, in a shared tracker).
    EndSession(crate::serve::presence::SessionId),
    /// Read the team file again (an admin's choice, in a shared tracker).
    ReloadTeam,
    /// Run a person's fix order (a dry run, a confirmed apply, an approval or a request) on the
    /// hub's write connection, and send back what came of it.
    Fix(crate::engine::fixer::FixJob),
    Quit,
}
