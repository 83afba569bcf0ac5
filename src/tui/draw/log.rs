//! The activity log: refreshes that changed something, marks made here and elsewhere, faults.

use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::printable::one_line;
use crate::tui::app::App;

/// The whole activity log, unscrolled.
pub fn paragraph(app: &App) -> Paragraph<'static> {
    let theme = &app.theme;
    let format = time::macros::format_description!("[hour]:[minute]:[second]");
    let mut lines: Vec<Line> = app
        .activity
        .iter()
        .rev()
        .map(|entry| {
            let style = if entry.important {
                theme.warn()
            } else {
                theme.base()
            };
            Line::from(vec![
                Span::styled(
                    format!("{} ", entry.at.format(&format).unwrap_or_default()),
                    theme.dim(),
                ),
                Span::styled(one_line(&entry.text), style),
            ])
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(
            "nothing has happened yet",
            theme.dim(),
        )));
    }
    Paragraph::new(lines)
        .block(theme.panel(" Activity, newest first (UTC) "))
        .wrap(Wrap { trim: false })
}
