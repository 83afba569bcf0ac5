//! The log view: first what stands now (the database, the store, the plan file), each reason
//! whole, which the header and footer can only cut; then the activity: refreshes that changed
//! something, marks made here and elsewhere, faults.

use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::age;
use super::wrap::hanging;
use crate::printable::one_line;
use crate::tui::app::{App, Connection};

/// The whole activity log, unscrolled.
/// `width` is the panel's inner width: entries wrap under their text, not under the time.
pub fn paragraph(app: &App, width: usize) -> Paragraph<'static> {
    let theme = &app.theme;
    let format = time::macros::format_description!("[hour]:[minute]:[second]");
    let mut lines = now(app, width);
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        "Activity, newest first (UTC)",
        theme.title(),
    )));
    let activity: Vec<Line> = app
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
    if activity.is_empty() {
        lines.push(Line::from(Span::styled(
            "  nothing has happened yet",
            theme.dim(),
        )));
    }
    lines.extend(activity);
    Paragraph::new(lines)
        .block(theme.panel(" Now and the activity log (J/K scroll) "))
        .wrap(Wrap { trim: false })
}

/// The state of each source, with its reason whole: the place the footer points to.
fn now(app: &App, width: usize) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let label = |name: &str| Span::styled(format!("  {name:<9}"), theme.title());
    let indent = 11;
    let mut lines = vec![Line::from(Span::styled("Now", theme.title()))];
    let (database, style) = match &app.board.connection {
        Connection::Connecting => ("connecting…".to_string(), theme.warn()),
        Connection::Live => (
            match &app.board.last_refresh {
                Some(refresh) => format!("live, checked {}", age(app.now, refresh.checked_at)),
                None => "live".to_string(),
            },
            theme.pass(),
        ),
        Connection::Offline { reason } => (format!("OFFLINE: {}", one_line(reason)), theme.fail()),
    };
    lines.extend(hanging(
        vec![
            label("database"),
            Span::styled(format!("{}  ", one_line(&app.database)), theme.dim()),
        ],
        &database,
        style,
        width,
        indent,
    ));
    let (store, style) = match &app.board.store_problem {
        Some(problem) => (
            format!(
                "unavailable, marks cannot be saved (read-only): {}",
                one_line(problem)
            ),
            theme.fail(),
        ),
        None => ("open".to_string(), theme.pass()),
    };
    lines.extend(hanging(vec![label("store")], &store, style, width, indent));
    if let Some(problems) = &app.board.plan_problem {
        lines.extend(hanging(
            vec![label("plan")],
            &format!("the file changed but cannot be used; the plan shown stays: {problems}"),
            theme.fail(),
            width,
            indent,
        ));
    }
    lines
}
