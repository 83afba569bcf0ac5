//! Drawing: a pure function of the app's state. One small file per panel; every style comes from
//! the theme.

mod detail;
mod detail_fix;
mod fix;
mod footer;
mod header;
mod log;
mod markdown;
mod overlays;
mod risks;
mod tasks;
mod wrap;

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::widgets::{Paragraph, Wrap};

use super::action::View;
use super::app::{App, Mode};
use super::layout::{Areas, MIN_HEIGHT, MIN_WIDTH};

/// What a frame measured, sent back to the app as [`Msg::Drawn`](super::action::Msg::Drawn) so
/// that state never has to ask drawing (television's `render` → `Layout` → `UiState`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Drawn {
    /// How far J can scroll the current view's panel before its last line leaves the bottom.
    pub scroll_limit: u16,
    /// The risks view's rows that lead to a task, top to bottom (empty in other views).
    pub task_rows: Vec<TaskRow>,
    /// How far the help or the dialog's text can scroll (0 when it fits, or none is open).
    pub overlay_scroll_limit: u16,
}

/// A row of a scrolled panel that names a task: where it is (from the panel's top, unscrolled)
/// and which task (an index into the plan's tasks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskRow {
    pub row: u16,
    pub task: usize,
}

/// Draws the whole screen and reports what it measured.
pub fn render(frame: &mut Frame, app: &App) -> Drawn {
    let size = frame.area();
    let areas = Areas::compute(size.width, size.height, app.view);
    if areas.too_small {
        let message = format!(
            "terminal too small: {}x{}, remtrack needs at least {MIN_WIDTH}x{MIN_HEIGHT} (q quits)",
            size.width, size.height
        );
        frame.render_widget(
            Paragraph::new(message)
                .wrap(Wrap { trim: true })
                .alignment(Alignment::Center),
            size,
        );
        return Drawn::default();
    }
    header::render(frame, app, &areas);
    if matches!(app.view, View::Days | View::Phases) {
        tasks::render(frame, app, areas.list);
    }
    let (panel, area, task_rows) = scrolled_panel(app, &areas);
    let scroll_limit = scroll_limit(&panel, area);
    frame.render_widget(panel.scroll((app.detail_scroll.min(scroll_limit), 0)), area);
    footer::render(frame, app, areas.footer);
    let overlay_scroll_limit = match &app.mode {
        Mode::Help => overlays::help(frame, app, size),
        Mode::Dialog(dialog) => overlays::dialog(frame, app, dialog, size),
        Mode::Fix(dialog) => fix::dialog(frame, app, dialog, size),
        Mode::PickPeer(picker) => {
            overlays::peer_picker(frame, app, picker.cursor, size);
            0
        }
        Mode::Normal | Mode::Filter => 0,
    };
    if app.theme.ascii {
        asciify(frame.buffer_mut());
    }
    Drawn {
        scroll_limit,
        task_rows,
        overlay_scroll_limit,
    }
}

/// The panel J/K scroll in this view (the detail, the risks or the log), unscrolled, where, and
/// its rows that lead to a task.
fn scrolled_panel(app: &App, areas: &Areas) -> (Paragraph<'static>, Rect, Vec<TaskRow>) {
    let area = match app.view {
        View::Days | View::Phases => areas.detail,
        View::Risks | View::Log => areas.body,
    };
    let width = usize::from(area.width.saturating_sub(2));
    match app.view {
        View::Days | View::Phases => (detail::paragraph(app, width), area, vec![]),
        View::Risks => {
            let (panel, rows) = risks::panel(app, width);
            (panel, area, rows)
        }
        View::Log => (log::paragraph(app, width), area, vec![]),
    }
}

/// How far `panel` can scroll in `area` before its last line leaves the bottom.
fn scroll_limit(panel: &Paragraph, area: Rect) -> u16 {
    let inner_width = area.width.saturating_sub(2);
    let lines = panel.line_count(inner_width);
    u16::try_from(lines.saturating_sub(usize::from(area.height))).unwrap_or(u16::MAX)
}

/// For terminals without Unicode: every cell the panels drew becomes plain ASCII, whatever the
/// text came from (glyphs, punctuation, or names in the plan and the database).
fn asciify(buffer: &mut ratatui::buffer::Buffer) {
    for cell in buffer.content.iter_mut() {
        let symbol = cell.symbol();
        if symbol.is_ascii() && !symbol.is_empty() {
            continue;
        }
        let plain = match symbol {
            // The second half of a wide character.
            "" => " ",
            "·" | "—" | "─" | "━" => "-",
            "…" => ".",
            "←" => "<",
            "→" => ">",
            "↑" => "^",
            "↓" => "v",
            "▏" | "│" | "┃" => "|",
            "✓" | "★" => "+",
            "✗" => "x",
            "●" => "*",
            "█" => "#",
            "░" => ".",
            _ => "?",
        };
        cell.set_symbol(plain);
    }
}

/// "3s ago", "5m ago", "2h ago", "4d ago".
pub(crate) fn age(now: time::OffsetDateTime, then: time::OffsetDateTime) -> String {
    let seconds = (now - then).whole_seconds().max(0);
    match seconds {
        0..60 => format!("{seconds}s ago"),
        60..3600 => format!("{}m ago", seconds / 60),
        3600..86_400 => format!("{}h ago", seconds / 3600),
        _ => format!("{}d ago", seconds / 86_400),
    }
}

#[cfg(test)]
mod fix_tests;
#[cfg(test)]
pub(crate) mod tests;
