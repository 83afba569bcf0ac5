//! The bottom line: the filter being typed, a notice, or the keys that matter now.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::printable::one_line;
use crate::tui::action::View;
use crate::tui::app::{App, Connection, Mode};

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme;
    let line = match (&app.mode, &app.notice) {
        (Mode::Filter, _) => Line::from(vec![
            Span::styled("/", theme.key()),
            Span::raw(one_line(&app.filter)),
            Span::styled("▏  Enter keep · Esc clear", theme.dim()),
        ]),
        (_, Some(notice)) => Line::from(Span::styled(one_line(notice), theme.warn())),
        _ => {
            // Only the keys that do something in this view.
            let keys: &[(&str, &str)] = match app.view {
                View::Days | View::Phases => &[
                    ("j/k", "move"),
                    (
                        "←/→",
                        if app.view == View::Days {
                            "day"
                        } else {
                            "phase"
                        },
                    ),
                    ("n", "next todo"),
                    ("o", "problems"),
                    ("v", "verify"),
                    ("c", "note"),
                    ("r", "recheck"),
                    ("/", "filter"),
                    ("?", "help"),
                    ("q", "quit"),
                ],
                View::Risks => &[
                    ("j/k", "select"),
                    ("Enter", "open task"),
                    ("J/K", "scroll"),
                    ("Tab", "next view"),
                    ("1", "days"),
                    ("r", "recheck"),
                    ("?", "help"),
                    ("q", "quit"),
                ],
                View::Log => &[
                    ("J/K", "scroll"),
                    ("Tab", "next view"),
                    ("1", "days"),
                    ("r", "recheck"),
                    ("?", "help"),
                    ("q", "quit"),
                ],
            };
            // As many keys as fit, in order of need; `?` lists them all.
            let mut spans = Vec::new();
            // `?` and `q` always have a place: the one lists every key, the other leaves. So
            // does the way to the reasons the header can only cut, while there is one.
            let mut always = "? help  q quit".len();
            // `e` only where it has something to open.
            let in_tasks = matches!(app.view, View::Days | View::Phases);
            let mut keys = keys.to_vec();
            if in_tasks && app.selected_code_location().is_some() {
                // After verify and note, which matter more at a narrow width.
                keys.insert(6, ("e", "open code"));
            }
            // `p` only where there is a fix it can run.
            if in_tasks
                && app.apply_to.is_some()
                && app.selected_task().is_some_and(|task| task.fix.is_some())
            {
                keys.insert(6, ("p", "dry run fix"));
            }
            if let Some(what) = problem_pointer(app) {
                spans.push(Span::styled("4", theme.key()));
                spans.push(Span::styled(format!(" {what}"), theme.fail()));
                spans.push(Span::raw("  "));
                always += 1 + 1 + what.chars().count() + 2;
            }
            let room = usize::from(area.width).saturating_sub(always);
            let mut used = 0;
            for &(key, what) in &keys {
                let width = key.chars().count() + 1 + what.len() + 2;
                if key != "q" && key != "?" && used + width > room {
                    continue;
                }
                used += width;
                spans.push(Span::styled(key, theme.key()));
                spans.push(Span::raw(format!(" {what}  ")));
            }
            Line::from(spans)
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// What the log view can explain that the header cannot show whole, if anything (and unless the
/// log view is already on screen): "why offline, read-only".
fn problem_pointer(app: &App) -> Option<String> {
    if app.view == View::Log {
        return None;
    }
    let mut problems = Vec::new();
    if matches!(app.board.connection, Connection::Offline { .. }) {
        problems.push("offline");
    }
    if app.board.store_problem.is_some() {
        problems.push("read-only");
    }
    if app.board.plan_problem.is_some() {
        problems.push("plan file");
    }
    (!problems.is_empty()).then(|| format!("why {}", problems.join(", ")))
}
