//! The task list of the selected day or phase (or of the filter): status, id, title and the
//! markers that must stand out, in columns that stay aligned whatever the markers.
//!
//! ```text
//! narrow:  ✗ failing   OVERCLAIMED  master-flow-columns  Add the master flow columns
//!          ✓ done      ✓ verified   drop-archive         Drop the archived tables
//! wide:    ✗ failing   master-flow-columns  Add the master flow colu…  claimed done  OVERCLAIMED
//! ```

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState};

use super::wrap::shorten;
use crate::plan::Claimed;
use crate::printable::one_line;
use crate::status::Verification;
use crate::tui::action::View;
use crate::tui::app::App;
use crate::tui::layout::list_offset;
use unicode_width::UnicodeWidthStr as _;

/// From this inner width the list shows the claim as a column of its own and puts the markers
/// last, beside it; below it the markers come first so that nothing cuts them off.
pub const COLUMNS_FROM: usize = 100;
/// The id column is as wide as the longest id shown, up to this share of the list (and at
/// least [`ID_MIN`]); a longer id is cut where it differs from the others shown.
const ID_SHARE: (usize, usize) = (2, 5);
const ID_MIN: usize = 24;

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme;
    let visible = app.visible_tasks();
    let title = if !app.filter.is_empty() {
        format!(
            "Tasks matching \"{}\" ({})",
            one_line(&app.filter),
            visible.len()
        )
    } else {
        match app.view {
            View::Days => app
                .plan
                .days
                .get(app.day)
                .map(|d| format!("Day {}: {}", d.day, one_line(&d.title)))
                .unwrap_or_default(),
            _ => app
                .plan
                .phases
                .get(app.phase)
                .map(|p| {
                    let window = p
                        .window
                        .as_deref()
                        .map(|w| format!(" ({})", one_line(w)))
                        .unwrap_or_default();
                    format!("{}{window}", one_line(&p.title))
                })
                .unwrap_or_default(),
        }
    };
    let inner_width = usize::from(area.width.saturating_sub(2));
    let rows: Vec<Row> = visible.iter().map(|&index| Row::of(app, index)).collect();
    let columns = Columns::fit(&rows, inner_width);
    let items: Vec<ListItem> = rows
        .iter()
        .enumerate()
        .map(|(position, row)| ListItem::new(columns.line(app, row, position)))
        .collect();
    let empty = items.is_empty();
    let mut block = theme.panel(format!(" {title} "));
    if !empty {
        // Where the selection stands, as k9s and lazygit show it.
        block = block.title_top(
            Line::from(format!(" {}/{} ", app.selected + 1, visible.len())).right_aligned(),
        );
    }
    let list = List::new(items)
        .block(block)
        .highlight_style(theme.selected());
    let rows = usize::from(area.height.saturating_sub(2));
    let mut state = ListState::default().with_offset(list_offset(app.selected, rows));
    if !empty {
        state.select(Some(app.selected));
    }
    frame.render_stateful_widget(list, area, &mut state);
    if empty {
        let inner = Rect {
            x: area.x + 2,
            y: area.y + 1,
            width: area.width.saturating_sub(4),
            height: 1,
        };
        let message = if app.only_open {
            "nothing left to do here (a shows all)"
        } else {
            "no tasks"
        };
        frame.render_widget(
            ratatui::widgets::Paragraph::new(Span::styled(message, theme.dim())),
            inner,
        );
    }
}

/// One task as the list shows it, before it is laid out.
struct Row {
    index: usize,
    id: String,
    title: String,
    claimed: Option<Claimed>,
    overclaimed: bool,
    /// What must stand out, each with its style: OVERCLAIMED, REGRESSED, verified, stale.
    markers: Vec<(String, MarkerKind)>,
}

#[derive(Clone, Copy)]
enum MarkerKind {
    Alarm,
    Good,
    Doubt,
    /// Others who have this task selected (a shared tracker), by their initials.
    Presence,
}

impl Row {
    fn of(app: &App, index: usize) -> Row {
        let task = &app.plan.tasks[index];
        let state = &app.status.tasks[index];
        let mut markers = Vec::new();
        if state.overclaimed {
            markers.push((" OVERCLAIMED ".to_string(), MarkerKind::Alarm));
        }
        match state.verification {
            Some(Verification::Regressed) => {
                markers.push((" REGRESSED ".to_string(), MarkerKind::Alarm))
            }
            Some(v) => markers.push((
                format!("{} {}", app.theme.verification_glyph(v), v.as_str()),
                if v == Verification::Stale {
                    MarkerKind::Doubt
                } else {
                    MarkerKind::Good
                },
            )),
            None => {}
        }
        let here: Vec<String> = app
            .others_on(&task.id)
            .iter()
            .map(|peer| crate::serve::presence::initials(&peer.name))
            .collect();
        if !here.is_empty() {
            markers.push((here.join(" "), MarkerKind::Presence));
        }
        Row {
            index,
            id: one_line(&task.id),
            title: one_line(&task.title),
            claimed: task.claimed,
            overclaimed: state.overclaimed,
            markers,
        }
    }

    fn markers_width(&self) -> usize {
        let spaces = self.markers.len().saturating_sub(1);
        self.markers.iter().map(|(m, _)| m.width()).sum::<usize>() + spaces
    }
}

/// Column widths for the rows shown, so that ids (and titles) start at the same place on every
/// row whether or not a row has a marker.
struct Columns {
    /// Each row's id as shown: padded to the column, cut where it differs from the others.
    shown_ids: Vec<String>,
    wide: bool,
    markers: usize,
    title: usize,
}

/// The status glyph and word: "✗ failing  ".
const STATUS_WIDTH: usize = 2 + 8 + 1;
const CLAIMED_WIDTH: usize = "claimed done".len();

impl Columns {
    fn fit(rows: &[Row], inner_width: usize) -> Columns {
        let markers = rows.iter().map(Row::markers_width).max().unwrap_or(0);
        let id = rows
            .iter()
            .map(|r| r.id.width())
            .max()
            .unwrap_or(0)
            .min((inner_width * ID_SHARE.0 / ID_SHARE.1).max(ID_MIN));
        let wide = inner_width >= COLUMNS_FROM;
        let title = if wide {
            let marker_room = if markers > 0 { markers + 2 } else { 0 };
            inner_width.saturating_sub(STATUS_WIDTH + id + 2 + 2 + CLAIMED_WIDTH + marker_room)
        } else {
            usize::MAX
        };
        let all: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        Columns {
            shown_ids: rows.iter().map(|r| fit_distinct(&r.id, &all, id)).collect(),
            wide,
            markers,
            title,
        }
    }

    /// Row `position` of the rows the columns were fitted to.
    fn line(&self, app: &App, row: &Row, position: usize) -> Line<'static> {
        let theme = &app.theme;
        let id = Span::styled(self.shown_ids[position].clone(), theme.title());
        let state = &app.status.tasks[row.index];
        let mut spans = vec![
            Span::styled(
                format!("{} ", theme.task_glyph(state.status)),
                theme.task(state.status),
            ),
            Span::styled(
                format!("{:<8} ", state.status.as_str()),
                theme.task(state.status),
            ),
        ];
        let marker_spans = |spans: &mut Vec<Span<'static>>| {
            for (position, (text, kind)) in row.markers.iter().enumerate() {
                if position > 0 {
                    spans.push(Span::raw(" "));
                }
                let style = match kind {
                    MarkerKind::Alarm => theme.alarm(),
                    MarkerKind::Good => theme.pass(),
                    MarkerKind::Doubt => theme.warn(),
                    MarkerKind::Presence => theme.key(),
                };
                spans.push(Span::styled(text.clone(), style));
            }
            spans.push(Span::raw(" ".repeat(self.markers - row.markers_width())));
        };
        if !self.wide {
            // The markers come before the text so a narrow terminal never cuts them off.
            if self.markers > 0 {
                marker_spans(&mut spans);
                spans.push(Span::raw("  "));
            }
            spans.push(id);
            spans.push(Span::raw("  "));
            spans.push(Span::raw(row.title.clone()));
            if row.claimed == Some(Claimed::Done) && !row.overclaimed {
                spans.push(Span::styled("  (claimed done)", theme.dim()));
            }
            return Line::from(spans);
        }
        spans.push(id);
        spans.push(Span::raw("  "));
        spans.push(Span::raw(fit(&row.title, self.title)));
        spans.push(Span::raw("  "));
        let claimed = match row.claimed {
            Some(Claimed::Done) => "claimed done",
            Some(Claimed::InProgress) => "in progress",
            Some(Claimed::NotStarted) => "not started",
            None => "",
        };
        spans.push(Span::styled(
            format!("{claimed:<width$}", width = CLAIMED_WIDTH),
            if row.overclaimed {
                theme.fail()
            } else {
                theme.dim()
            },
        ));
        if self.markers > 0 {
            spans.push(Span::raw("  "));
            marker_spans(&mut spans);
        }
        Line::from(spans)
    }
}

/// `id` padded or cut to exactly `width` columns so that what sets it apart from the `others`
/// shown stays visible: ids of one family share a long start
/// (`reconcile-legacy-…-10-0-…`, `…-10-1-…`), so when that start alone would fill the column, the
/// cut begins shortly before the first character that differs.
fn fit_distinct(id: &str, others: &[&str], width: usize) -> String {
    if id.width() <= width || width < 8 {
        return fit(id, width);
    }
    let chars: Vec<char> = id.chars().collect();
    let differs_at = others
        .iter()
        .filter(|other| **other != id)
        .map(|other| {
            chars
                .iter()
                .zip(other.chars())
                .take_while(|(a, b)| **a == *b)
                .count()
        })
        .max()
        .unwrap_or(0);
    if differs_at + 2 < width {
        return fit(id, width);
    }
    let start = differs_at.saturating_sub(width / 3);
    let rest: String = chars[start..].iter().collect();
    format!("…{}", fit(&rest, width - 1))
}

/// `text` padded or cut (with an ellipsis) to exactly `width` columns.
fn fit(text: &str, width: usize) -> String {
    let shown = shorten(text, width);
    let padding = width.saturating_sub(shown.width());
    shown + &" ".repeat(padding)
}

#[cfg(test)]
mod tests {
    use super::{fit, fit_distinct};
    use unicode_width::UnicodeWidthStr as _;

    #[test]
    fn long_ids_keep_both_ends_and_every_cell_is_filled_exactly() {
        let ids = [
            "reconcile-legacy-discovery-assessment-structure-10-0-with-master-flow",
            "reconcile-legacy-discovery-assessment-structure-10-1-with-master-flow",
        ];
        let cut: Vec<String> = ids.iter().map(|id| fit_distinct(id, &ids, 30)).collect();
        assert_ne!(cut[0], cut[1], "ids alike at the start stay apart: {cut:?}");
        assert!(
            cut[0].contains("10-0") && cut[1].contains("10-1"),
            "{cut:?}"
        );
        assert!(cut[0].starts_with('…'), "{cut:?}");
        // Ids that differ early are cut at their end, as any text.
        let early = [
            "drop-discovery-assets-and-every-index-on-them",
            "master-flow-columns",
        ];
        assert_eq!(fit_distinct(early[0], &early, 20), "drop-discovery-asse…");
        for width in 0..80 {
            for text in ["", "short", ids[0], "日本語のテーブル名が長いタスク識別子"]
            {
                assert_eq!(
                    fit_distinct(text, &ids, width).width(),
                    width,
                    "{text:?} at {width}"
                );
                assert_eq!(fit(text, width).width(), width, "{text:?} at {width}");
            }
        }
    }
}
