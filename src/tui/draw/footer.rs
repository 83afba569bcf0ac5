//! The bottom line: the filter being typed, a notice, or the keys that matter now.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::printable::one_line;
use crate::tui::action::View;
use crate::tui::app::{App, Mode};

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme;
    let line = match (&app.mode, &app.notice, &app.store_problem) {
        (Mode::Filter, _, _) => Line::from(vec![
            Span::styled("/", theme.key()),
            Span::raw(one_line(&app.filter)),
            Span::styled("▏  Enter keep · Esc clear", theme.dim()),
        ]),
        (_, Some(notice), _) => Line::from(Span::styled(one_line(notice), theme.warn())),
        (_, None, Some(problem)) => Line::from(Span::styled(
            format!(
                "read-only: verification store unavailable: {}",
                one_line(problem)
            ),
            theme.fail(),
        )),
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
                View::Risks | View::Log => &[
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
            // `?` and `q` always have a place: the one lists every key, the other leaves.
            let room = usize::from(area.width).saturating_sub("? help  q quit".len());
            let mut used = 0;
            for &(key, what) in keys {
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
