//! The task list of the selected day or phase (or of the filter): status, id, title and the
//! markers that must stand out.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState};

use crate::plan::Claimed;
use crate::printable::one_line;
use crate::status::Verification;
use crate::tui::action::View;
use crate::tui::app::App;
use crate::tui::layout::list_offset;

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
    let items: Vec<ListItem> = visible
        .iter()
        .map(|&index| {
            let task = &app.plan.tasks[index];
            let state = &app.status.tasks[index];
            let mut spans = vec![
                Span::styled(
                    format!("{} ", theme.task_glyph(state.status)),
                    theme.task(state.status),
                ),
                Span::styled(
                    format!("{:<8}", state.status.as_str()),
                    theme.task(state.status),
                ),
                Span::raw(" "),
            ];
            // The markers come before the text so a narrow terminal never cuts them off.
            if state.overclaimed {
                spans.push(Span::styled(" OVERCLAIMED ", theme.alarm()));
                spans.push(Span::raw(" "));
            }
            match state.verification {
                Some(Verification::Regressed) => {
                    spans.push(Span::styled(" REGRESSED ", theme.alarm()));
                    spans.push(Span::raw(" "));
                }
                Some(v) => spans.push(Span::styled(
                    format!("{} {} ", theme.verification_glyph(v), v.as_str()),
                    if v == Verification::Stale {
                        theme.warn()
                    } else {
                        theme.pass()
                    },
                )),
                None => {}
            }
            spans.push(Span::styled(one_line(&task.id), theme.title()));
            spans.push(Span::raw("  "));
            spans.push(Span::raw(one_line(&task.title)));
            if task.claimed == Some(Claimed::Done) && !state.overclaimed {
                spans.push(Span::styled("  (claimed done)", theme.dim()));
            }
            ListItem::new(Line::from(spans))
        })
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
