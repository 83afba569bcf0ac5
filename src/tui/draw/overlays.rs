//! Pop-ups drawn over the screen: the key list, and the verify / unverify dialog.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::wrap::hanging;
use crate::printable::one_line;
use crate::tui::app::{App, DialogState, MarkKind, VerifyDialog};
use crate::tui::keymap::HELP;

pub(super) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

/// A hint on the popup's bottom border while more lies below (or above) what it shows.
pub(super) fn more_hint(scroll: u16, limit: u16, keys: &str) -> Option<Line<'static>> {
    let text = match (scroll > 0, scroll < limit) {
        (_, true) => format!(" ↓ more: {keys} "),
        (true, false) => format!(" ↑ {keys} "),
        (false, false) => return None,
    };
    Some(Line::from(text).right_aligned())
}

/// The key list; returns how far it can scroll (it scrolls when the terminal is too short).
pub fn help(frame: &mut Frame, app: &App, area: Rect) -> u16 {
    let theme = &app.theme;
    // The key column is as wide as its longest entry, so no key runs into its meaning.
    let width = HELP
        .iter()
        .filter(|(keys, _)| keys.chars().count() < 30)
        .map(|(keys, _)| keys.chars().count())
        .max()
        .unwrap_or(0)
        + 2;
    let popup_width = 76.min(area.width);
    let lines: Vec<Line> = HELP
        .iter()
        .flat_map(|(keys, what)| {
            hanging(
                vec![Span::styled(format!(" {keys:<width$}"), theme.key())],
                what,
                theme.base(),
                usize::from(popup_width.saturating_sub(2)),
                width + 1,
            )
        })
        .collect();
    let paragraph = Paragraph::new(lines).wrap(Wrap { trim: false });
    let needed = paragraph.line_count(popup_width.saturating_sub(2)) as u16 + 2;
    let popup = centered(area, popup_width, needed.max(3));
    let limit = needed.saturating_sub(popup.height);
    let scroll = app.overlay_scroll.min(limit);
    let mut block = theme.panel(" Keys (j/k scroll, any other key closes) ");
    if let Some(hint) = more_hint(scroll, limit, "j/k") {
        block = block.title_bottom(hint);
    }
    frame.render_widget(Clear, popup);
    frame.render_widget(paragraph.block(block).scroll((scroll, 0)), popup);
    limit
}

/// The verify, withdraw or note dialog; returns how far its text can scroll (PgDn/PgUp), which
/// it does rather than lose its last lines on a small terminal.
pub fn dialog(frame: &mut Frame, app: &App, dialog: &VerifyDialog, area: Rect) -> u16 {
    let theme = &app.theme;
    let width = 72.min(area.width);
    let inner_width = width.saturating_sub(2);
    let task = &app.board.plan.tasks[dialog.task_index];
    let verb = match dialog.kind {
        MarkKind::Verify => "Verify",
        MarkKind::Unverify => "Withdraw verification of",
        MarkKind::Note => "Note on",
    };
    let mut block = theme.panel(format!(" {verb} {} ", one_line(&task.id)));

    if let DialogState::Refused(refusal) = &dialog.state
        && !refusal.needs_note_only()
    {
        let mut lines = Vec::new();
        for (index, line) in refusal.to_string().lines().enumerate() {
            let style = if index == 0 {
                theme.fail()
            } else {
                theme.base()
            };
            lines.push(Line::from(Span::styled(one_line(line), style)));
        }
        lines.push(Line::raw(""));
        lines.push(Line::from(Span::styled(
            "Esc closes. Fix the database, recheck (r), then verify.",
            theme.dim(),
        )));
        let text = Paragraph::new(lines).wrap(Wrap { trim: false });
        let needed = text.line_count(inner_width) as u16;
        let popup = centered(area, width, needed + 2);
        let limit = needed.saturating_sub(popup.height.saturating_sub(2));
        let scroll = app.overlay_scroll.min(limit);
        if let Some(hint) = more_hint(scroll, limit, "PgDn/PgUp") {
            block = block.title_bottom(hint);
        }
        frame.render_widget(Clear, popup);
        frame.render_widget(text.block(block).scroll((scroll, 0)), popup);
        return limit;
    }

    let intro_text = match dialog.kind {
        MarkKind::Verify if task.is_manual() => {
            "Manual task: say what you checked (a note is required)."
        }
        MarkKind::Verify => match app.evidence().why_not() {
            None => {
                "All checks pass. Add a note if you like; the evidence is recorded with your mark."
            }
            Some(_) => {
                "The checks shown pass, but they are not fresh: Ctrl-S checks the database again and records the mark only if they still pass."
            }
        },
        MarkKind::Unverify => "Say why the verification no longer holds (a note is required).",
        MarkKind::Note => "A note for the task's history: who is on it, what is blocking it.",
    };
    let mut intro_lines = vec![
        Line::raw(intro_text),
        Line::from(Span::styled(
            format!(
                "as {} · Ctrl-S save · Esc close (note kept)",
                one_line(&app.user)
            ),
            theme.dim(),
        )),
    ];
    // Said before anything is typed, not only when saving fails.
    if let Some(problem) = &app.board.store_problem {
        intro_lines.push(Line::from(Span::styled(
            format!("Marks cannot be saved right now: {}", one_line(problem)),
            theme.fail(),
        )));
    }
    let status_line = match &dialog.state {
        DialogState::Editing => None,
        DialogState::Saving => Some(Line::from(Span::styled("saving…", theme.warn()))),
        DialogState::AwaitingRefresh => Some(Line::from(Span::styled(
            format!(
                "checking the database again before recording ({})…",
                app.evidence()
                    .why_not()
                    .unwrap_or_else(|| "fresh checks on the way".into())
            ),
            theme.warn(),
        ))),
        DialogState::Refused(refusal) => Some(Line::from(Span::styled(
            one_line(&refusal.to_string()),
            theme.fail(),
        ))),
        DialogState::Failed(error) => Some(Line::from(Span::styled(
            format!(
                "NOT recorded: {}. Your note is kept; Ctrl-S retries.",
                one_line(error)
            ),
            theme.fail(),
        ))),
    };
    let intro = Paragraph::new(intro_lines).wrap(Wrap { trim: false });
    let status = Paragraph::new(status_line.unwrap_or_default()).wrap(Wrap { trim: false });
    let intro_needed = intro.line_count(inner_width) as u16;
    let status_needed = match dialog.state {
        DialogState::Editing => 0,
        _ => status.line_count(inner_width) as u16,
    };
    // The note keeps at least three rows; what happened to the mark comes next; the intro
    // takes what is left and scrolls when that is not enough.
    const NOTE_MIN: u16 = 3;
    const NOTE_WANTED: u16 = 6;
    let popup = centered(area, width, intro_needed + NOTE_WANTED + status_needed + 2);
    let inner = block.inner(popup);
    let status_height = status_needed.min(inner.height.saturating_sub(NOTE_MIN + 1));
    let intro_height = intro_needed.min(inner.height.saturating_sub(NOTE_MIN + status_height));
    let [intro_area, input, status_area] = Layout::vertical([
        Constraint::Length(intro_height),
        Constraint::Min(NOTE_MIN.min(inner.height)),
        Constraint::Length(status_height),
    ])
    .areas(inner);
    let limit = intro_needed.saturating_sub(intro_height);
    let scroll = app.overlay_scroll.min(limit);
    if let Some(hint) = more_hint(scroll, limit, "PgDn/PgUp") {
        block = block.title_bottom(hint);
    }
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);
    frame.render_widget(intro.scroll((scroll, 0)), intro_area);
    let mut note = dialog.note.clone();
    note.set_block(
        Block::default()
            .borders(Borders::ALL)
            .border_set(theme.border_set())
            .title(" Note "),
    );
    frame.render_widget(&note, input);
    frame.render_widget(status, status_area);
    limit
}

/// "Follow whom?": the others here, each with their role and where they are; the chosen one
/// reversed (and marked with `>`, so it shows without colour too).
pub fn peer_picker(frame: &mut Frame, app: &App, cursor: usize, area: Rect) {
    let theme = &app.theme;
    let Some(pairing) = &app.pairing else {
        return;
    };
    let others: Vec<_> = pairing.others().collect();
    let cursor = cursor.min(others.len().saturating_sub(1));
    let mut lines: Vec<Line> = others
        .iter()
        .enumerate()
        .map(|(position, peer)| {
            let place = match &peer.task_id {
                Some(task) => format!("{} · {}", peer.view, one_line(task)),
                None => peer.view.clone(),
            };
            let follows = match peer.following {
                Some(id) if id == pairing.me => " · following you".to_string(),
                Some(id) => pairing
                    .roster
                    .get(id)
                    .map(|driver| format!(" · following {}", one_line(&driver.name)))
                    .unwrap_or_default(),
                None => String::new(),
            };
            let text = format!(
                "{} {} ({}) · {place}{follows}",
                if position == cursor { ">" } else { " " },
                one_line(&peer.name),
                peer.role.as_str()
            );
            let style = if position == cursor {
                theme.selected()
            } else {
                theme.base()
            };
            Line::from(Span::styled(text, style))
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::from(Span::styled("nobody else is here", theme.dim())));
    }
    lines.push(Line::from(""));
    let mut keys = "Enter follow · Esc close".to_string();
    if pairing.role.may_administer() {
        keys.push_str(" · x end their session · R reload the team file");
    }
    lines.push(Line::from(Span::styled(keys, theme.dim())));
    let width = 72.min(area.width);
    let paragraph = Paragraph::new(lines).wrap(Wrap { trim: false });
    let needed = paragraph.line_count(width.saturating_sub(2)) as u16 + 2;
    let popup = centered(area, width, needed.max(3));
    frame.render_widget(Clear, popup);
    frame.render_widget(paragraph.block(theme.panel(" Follow whom? ")), popup);
}
