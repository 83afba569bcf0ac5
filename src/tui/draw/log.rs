//! The activity log: refreshes that changed something, marks made here and elsewhere, faults.

use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::wrap::hanging;
use crate::printable::one_line;
use crate::tui::app::App;

/// The whole activity log, unscrolled.
/// `width` is the panel's inner width: entries wrap under their text, not under the time.
pub fn paragraph(app: &App, width: usize) -> Paragraph<'static> {
    let theme = &app.theme;
    let format = time::macros::format_description!("[hour]:[minute]:[second]");
    let mut lines: Vec<Line> = app
        .activity
        .iter()
        .rev()
        .flat_map(|entry| {
            let style = if entry.important {
                theme.warn()
            } else {
                theme.base()
            };
            let time = format!("{} ", entry.at.format(&format).unwrap_or_default());
            hanging(
                vec![Span::styled(time, theme.dim())],
                &one_line(&entry.text),
                style,
                width,
                "hh:mm:ss ".len(),
            )
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
