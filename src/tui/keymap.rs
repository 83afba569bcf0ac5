//! Keys to actions, by mode; and the list `?` shows, kept beside the mapping it describes.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};

use super::action::{Action, View};
use super::app::{FixStage, Mode};

/// Every key of the normal mode, as the help screen lists them.
pub const HELP: &[(&str, &str)] = &[
    ("j k ↓ ↑", "move through the tasks"),
    (
        "PgDn PgUp g G Home End",
        "page down / up, first / last task",
    ),
    ("h l ← →", "previous / next day (or phase)"),
    ("Tab 1 2 3 4", "views: days, phases, risks, log"),
    ("Enter", "in the risks view: open the selected item's task"),
    ("n", "next task that is not done (what do I do next)"),
    ("o", "next overclaimed or regressed task"),
    ("v", "verify the selected task, with a note"),
    ("u", "withdraw a verification, with a note"),
    ("c", "add a note (a comment) to the task's history"),
    ("r", "recheck the database now"),
    ("y", "copy the fix SQL to the clipboard (OSC 52)"),
    (
        "p",
        "dry run the fix (with --apply-url): proves it in a transaction that is rolled back",
    ),
    (
        "in the fix dialog",
        "after a proven dry run: a apply (type the task id to confirm) · A approve · \
         R ask for approval · p dry run again · j/k scroll · Esc close",
    ),
    (
        "e",
        "open the task's first code location in $VISUAL / $EDITOR",
    ),
    ("f", "follow someone (remtrack serve): move with them"),
    (
        "in the f list",
        "Enter follow · Esc close · admins: x end that session, R reload the team file",
    ),
    ("/", "filter tasks by text"),
    ("Esc", "clear the filter"),
    ("a", "show only what is not done, or everything"),
    ("J K", "scroll the detail pane"),
    ("mouse", "click selects, wheel scrolls"),
    ("?", "this help"),
    ("q Ctrl-C", "quit (in help, q only closes it)"),
    (
        "in a dialog",
        "type the note · Ctrl-S save · Esc close (the note is kept) · PgDn PgUp scroll",
    ),
];

/// The action for a key press in a mode, if any.
pub fn key_action(mode: &Mode, key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    match mode {
        Mode::Dialog(_) => Some(match key.code {
            KeyCode::Esc => Action::Cancel,
            KeyCode::Char('s') if ctrl => Action::Submit,
            // What the dialog says may not fit a small terminal: it scrolls, the note does not.
            KeyCode::PageDown => Action::ScrollDetail(3),
            KeyCode::PageUp => Action::ScrollDetail(-3),
            _ => Action::Edit(key),
        }),
        // Typing the task id to confirm an apply: Enter sends it.
        Mode::Fix(dialog) if matches!(dialog.stage, FixStage::Confirm { .. }) => {
            Some(match key.code {
                KeyCode::Esc => Action::Cancel,
                KeyCode::Enter => Action::Submit,
                KeyCode::PageDown => Action::ScrollDetail(3),
                KeyCode::PageUp => Action::ScrollDetail(-3),
                _ => Action::Edit(key),
            })
        }
        // A note for an approval: as in the verify dialog, Enter is a new line, Ctrl-S sends.
        Mode::Fix(dialog) if dialog.typing() => Some(match key.code {
            KeyCode::Esc => Action::Cancel,
            KeyCode::Char('s') if ctrl => Action::Submit,
            KeyCode::PageDown => Action::ScrollDetail(3),
            KeyCode::PageUp => Action::ScrollDetail(-3),
            _ => Action::Edit(key),
        }),
        Mode::Fix(_) => Some(match key.code {
            KeyCode::Char('a') => Action::ApplyFix,
            KeyCode::Char('A') => Action::ApproveFix,
            KeyCode::Char('R') => Action::RequestApproval,
            KeyCode::Char('p') => Action::ProveFix,
            KeyCode::Char('j') | KeyCode::Down => Action::ScrollDetail(1),
            KeyCode::Char('k') | KeyCode::Up => Action::ScrollDetail(-1),
            KeyCode::Char('J') | KeyCode::PageDown => Action::ScrollDetail(5),
            KeyCode::Char('K') | KeyCode::PageUp => Action::ScrollDetail(-5),
            KeyCode::Esc | KeyCode::Char('q') => Action::Cancel,
            _ => return None,
        }),
        Mode::Filter => Some(match key.code {
            KeyCode::Esc => Action::Cancel,
            KeyCode::Enter => Action::Submit,
            KeyCode::Down => Action::Down,
            KeyCode::Up => Action::Up,
            _ => Action::Edit(key),
        }),
        // The list scrolls when it does not fit; any other key closes it, q included:
        // quitting from help would surprise.
        Mode::Help => Some(match key.code {
            KeyCode::Char('j') | KeyCode::Down => Action::ScrollDetail(1),
            KeyCode::Char('k') | KeyCode::Up => Action::ScrollDetail(-1),
            KeyCode::Char('J') | KeyCode::PageDown => Action::ScrollDetail(5),
            KeyCode::Char('K') | KeyCode::PageUp => Action::ScrollDetail(-5),
            _ => Action::Cancel,
        }),
        // Whom to follow: move, choose, or (an admin) end that person's session.
        Mode::PickPeer(_) => Some(match key.code {
            KeyCode::Char('j') | KeyCode::Down => Action::Down,
            KeyCode::Char('k') | KeyCode::Up => Action::Up,
            KeyCode::Enter => Action::Submit,
            KeyCode::Char('x') => Action::EndSession,
            KeyCode::Char('R') => Action::ReloadTeam,
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('f') => Action::Cancel,
            _ => return None,
        }),
        Mode::Normal => normal_key(key),
    }
}

fn normal_key(key: KeyEvent) -> Option<Action> {
    Some(match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char('j') | KeyCode::Down => Action::Down,
        KeyCode::Char('k') | KeyCode::Up => Action::Up,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::Char('g') | KeyCode::Home => Action::Home,
        KeyCode::Char('G') | KeyCode::End => Action::End,
        KeyCode::Char('l') | KeyCode::Right => Action::NextGroup,
        KeyCode::Char('h') | KeyCode::Left => Action::PrevGroup,
        KeyCode::Tab => Action::NextView,
        KeyCode::Char('1') => Action::Show(View::Days),
        KeyCode::Char('2') => Action::Show(View::Phases),
        KeyCode::Char('3') => Action::Show(View::Risks),
        KeyCode::Char('4') => Action::Show(View::Log),
        KeyCode::Enter => Action::Open,
        KeyCode::Char('n') => Action::NextTodo,
        KeyCode::Char('o') => Action::NextProblem,
        KeyCode::Char('v') => Action::Verify,
        KeyCode::Char('u') => Action::Unverify,
        KeyCode::Char('c') => Action::Note,
        KeyCode::Char('r') => Action::Recheck,
        KeyCode::Char('y') => Action::CopyFix,
        KeyCode::Char('p') => Action::ProveFix,
        KeyCode::Char('e') => Action::OpenInEditor,
        KeyCode::Char('/') => Action::StartFilter,
        KeyCode::Char('f') => Action::FollowPicker,
        KeyCode::Char('a') => Action::ToggleOpenOnly,
        KeyCode::Char('J') => Action::ScrollDetail(3),
        KeyCode::Char('K') => Action::ScrollDetail(-3),
        KeyCode::Char('?') => Action::Help,
        KeyCode::Esc => Action::Cancel,
        _ => return None,
    })
}

/// The action for a mouse event, if any.
pub fn mouse_action(mode: &Mode, mouse: MouseEvent) -> Option<Action> {
    if !matches!(mode, Mode::Normal) {
        return None;
    }
    match mouse.kind {
        MouseEventKind::Down(_) => Some(Action::Click {
            column: mouse.column,
            row: mouse.row,
        }),
        MouseEventKind::ScrollDown => Some(Action::Down),
        MouseEventKind::ScrollUp => Some(Action::Up),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::key_action;
    use crate::tui::action::Action;
    use crate::tui::app::Mode;

    fn press(mode: &Mode, code: KeyCode, modifiers: KeyModifiers) -> Option<Action> {
        key_action(mode, KeyEvent::new(code, modifiers))
    }

    #[test]
    fn q_closes_help_and_quits_elsewhere_and_ctrl_c_always_quits() {
        let none = KeyModifiers::NONE;
        assert_eq!(
            press(&Mode::Help, KeyCode::Char('q'), none),
            Some(Action::Cancel)
        );
        assert_eq!(
            press(&Mode::Normal, KeyCode::Char('q'), none),
            Some(Action::Quit)
        );
        for mode in [Mode::Help, Mode::Normal, Mode::Filter] {
            assert_eq!(
                press(&mode, KeyCode::Char('c'), KeyModifiers::CONTROL),
                Some(Action::Quit)
            );
        }
    }

    /// The keys a help entry names, as key events; `None` for entries that are not keys.
    fn keys_named(keys: &str) -> Option<Vec<KeyEvent>> {
        if keys == "mouse" || keys.starts_with("in ") {
            return None;
        }
        Some(
            keys.split(' ')
                .map(|name| {
                    let (code, modifiers) = match name {
                        "↓" => (KeyCode::Down, KeyModifiers::NONE),
                        "↑" => (KeyCode::Up, KeyModifiers::NONE),
                        "←" => (KeyCode::Left, KeyModifiers::NONE),
                        "→" => (KeyCode::Right, KeyModifiers::NONE),
                        "PgDn" => (KeyCode::PageDown, KeyModifiers::NONE),
                        "PgUp" => (KeyCode::PageUp, KeyModifiers::NONE),
                        "Home" => (KeyCode::Home, KeyModifiers::NONE),
                        "End" => (KeyCode::End, KeyModifiers::NONE),
                        "Tab" => (KeyCode::Tab, KeyModifiers::NONE),
                        "Esc" => (KeyCode::Esc, KeyModifiers::NONE),
                        "Enter" => (KeyCode::Enter, KeyModifiers::NONE),
                        "Ctrl-C" => (KeyCode::Char('c'), KeyModifiers::CONTROL),
                        one if one.chars().count() == 1 => (
                            KeyCode::Char(one.chars().next().unwrap_or(' ')),
                            KeyModifiers::NONE,
                        ),
                        other => panic!("the help names a key the test cannot read: {other}"),
                    };
                    KeyEvent::new(code, modifiers)
                })
                .collect(),
        )
    }

    #[test]
    fn the_help_screen_lists_exactly_the_keys_that_work() {
        let listed: Vec<KeyEvent> = super::HELP
            .iter()
            .filter_map(|(keys, _)| keys_named(keys))
            .flatten()
            .collect();
        for key in &listed {
            assert!(
                key_action(&Mode::Normal, *key).is_some(),
                "the help lists {key:?}, which does nothing"
            );
        }
        let mut keys: Vec<KeyCode> = (' '..='~').map(KeyCode::Char).collect();
        keys.extend([
            KeyCode::Down,
            KeyCode::Up,
            KeyCode::Left,
            KeyCode::Right,
            KeyCode::PageDown,
            KeyCode::PageUp,
            KeyCode::Home,
            KeyCode::End,
            KeyCode::Tab,
            KeyCode::Esc,
            KeyCode::Enter,
            KeyCode::Backspace,
        ]);
        for code in keys {
            let key = KeyEvent::new(code, KeyModifiers::NONE);
            if key_action(&Mode::Normal, key).is_some() {
                assert!(
                    listed.contains(&key),
                    "{code:?} does something the help does not list"
                );
            }
        }
    }
}
