//! Pop-ups drawn over the screen: the key list, and the verify / unverify dialog.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::printable::one_line;
use crate::tui::app::{App, DialogState, MarkKind, VerifyDialog};
use crate::tui::keymap::HELP;

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

pub fn help(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme;
    let popup = centered(area, 76, HELP.len() as u16 + 4);
    // The key column is as wide as its longest entry, so no key runs into its meaning.
    let width = HELP
        .iter()
        .filter(|(keys, _)| keys.chars().count() < 30)
        .map(|(keys, _)| keys.chars().count())
        .max()
        .unwrap_or(0)
        + 2;
    let lines: Vec<Line> = HELP
        .iter()
        .map(|(keys, what)| {
            Line::from(vec![
                Span::styled(format!(" {keys:<width$}"), theme.key()),
                Span::raw(*what),
            ])
        })
        .collect();
    let block = theme.panel(" Keys (any key closes) ");
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        popup,
    );
}

pub fn dialog(frame: &mut Frame, app: &App, dialog: &VerifyDialog, area: Rect) {
    let theme = &app.theme;
    let popup = centered(area, 72, 16);
    let task = &app.plan.tasks[dialog.task_index];
    let verb = match dialog.kind {
        MarkKind::Verify => "Verify",
        MarkKind::Unverify => "Withdraw verification of",
        MarkKind::Note => "Note on",
    };
    let block = theme.panel(format!(" {verb} {} ", one_line(&task.id)));
    let inner = block.inner(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);

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
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
        return;
    }

    // Room for the store's problem and a long status only when there is one.
    let intro_height = if app.store_problem.is_some() { 4 } else { 3 };
    let status_height = match dialog.state {
        DialogState::Failed(_) | DialogState::AwaitingRefresh => 3,
        _ => 2,
    };
    let [intro, input, status] = Layout::vertical([
        Constraint::Length(intro_height),
        Constraint::Min(3),
        Constraint::Length(status_height),
    ])
    .areas(inner);
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
    if let Some(problem) = &app.store_problem {
        intro_lines.push(Line::from(Span::styled(
            format!("Marks cannot be saved right now: {}", one_line(problem)),
            theme.fail(),
        )));
    }
    frame.render_widget(
        Paragraph::new(intro_lines).wrap(Wrap { trim: false }),
        intro,
    );
    let mut note = dialog.note.clone();
    note.set_block(
        Block::default()
            .borders(Borders::ALL)
            .border_set(theme.border_set())
            .title(" Note "),
    );
    frame.render_widget(&note, input);
    let status_line = match &dialog.state {
        DialogState::Editing => Line::raw(""),
        DialogState::Saving => Line::from(Span::styled("saving…", theme.warn())),
        DialogState::AwaitingRefresh => Line::from(Span::styled(
            format!(
                "checking the database again before recording ({})…",
                app.evidence()
                    .why_not()
                    .unwrap_or_else(|| "fresh checks on the way".into())
            ),
            theme.warn(),
        )),
        DialogState::Refused(refusal) => {
            Line::from(Span::styled(one_line(&refusal.to_string()), theme.fail()))
        }
        DialogState::Failed(error) => Line::from(Span::styled(
            format!(
                "NOT recorded: {}. Your note is kept; Ctrl-S retries.",
                one_line(error)
            ),
            theme.fail(),
        )),
    };
    frame.render_widget(
        Paragraph::new(status_line).wrap(Wrap { trim: false }),
        status,
    );
}
