//! The leads' view: each risk with its live level and what keeps it open, the overclaims with
//! their evidence, what is blocked and by what, and the timeline beside live progress.

use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::wrap::hanging;
use crate::check::CheckStatus;
use crate::printable::one_line;
use crate::status::{TaskStatus, Verification};
use crate::tui::app::App;
use crate::tui::draw::TaskRow;

/// The whole risks view, unscrolled.
/// The whole risks view, unscrolled, with the rows that lead to a task (Enter opens it), the
/// one under the cursor highlighted. `width` is the panel's inner width, for evidence that wraps
/// under itself.
pub fn panel(app: &App, width: usize) -> (Paragraph<'static>, Vec<TaskRow>) {
    let theme = &app.theme;
    let mut lines: Vec<Line> = Vec::new();
    // (line index, task index) of each line that names a task, in order.
    let mut targets: Vec<(usize, usize)> = Vec::new();
    let task_index = |id: &str| app.board.plan.tasks.iter().position(|t| t.id == id);

    lines.push(Line::from(Span::styled("Risks", theme.title())));
    if app.board.plan.risks.is_empty() {
        lines.push(Line::from(Span::styled(
            "  the plan names no risks",
            theme.dim(),
        )));
    }
    for (risk, state) in app.board.plan.risks.iter().zip(&app.board.status.risks) {
        lines.extend(hanging(
            vec![
                Span::styled(
                    format!("  {:<7} ", state.level.as_str()),
                    theme.risk(state.level),
                ),
                Span::styled(format!("{:<6} ", risk.severity.as_str()), theme.dim()),
                Span::styled(one_line(&risk.title), theme.title()),
                Span::raw("  "),
            ],
            &one_line(&risk.description),
            theme.dim(),
            width,
            "  active  medium ".len(),
        ));
        for item in &state.open_items {
            let task_id = item
                .item
                .split_once('/')
                .map_or(item.item.as_str(), |(t, _)| t);
            if let Some(task) = task_index(task_id) {
                targets.push((lines.len(), task));
            }
            lines.extend(hanging(
                vec![
                    Span::raw("      "),
                    Span::styled(one_line(&item.item), theme.base()),
                    Span::raw("  "),
                ],
                &one_line(&item.evidence),
                theme.dim(),
                width,
                8,
            ));
        }
    }

    lines.push(Line::raw(""));
    let overclaimed: Vec<usize> = app.board.status.overclaimed().map(|(i, _)| i).collect();
    lines.push(Line::from(vec![
        Span::styled("Overclaimed", theme.title()),
        Span::styled(
            format!(
                " ({}): claimed done, the database says no",
                overclaimed.len()
            ),
            theme.dim(),
        ),
    ]));
    for index in overclaimed {
        let task = &app.board.plan.tasks[index];
        let state = &app.board.status.tasks[index];
        targets.push((lines.len(), index));
        lines.push(Line::from(vec![
            Span::styled("  OVERCLAIMED ", theme.alarm()),
            Span::styled(format!(" {} ", one_line(&task.id)), theme.title()),
            Span::styled(state.status.as_str(), theme.task(state.status)),
        ]));
        if let Some(verdicts) = app.verdicts_of(index) {
            for (check, verdict) in task
                .checks
                .iter()
                .zip(&verdicts.checks)
                .filter(|(_, v)| v.status != CheckStatus::Pass)
            {
                lines.extend(hanging(
                    vec![
                        Span::styled(
                            format!("      {} ", theme.check_glyph(verdict.status)),
                            theme.check(verdict.status),
                        ),
                        Span::styled(one_line(&check.id), theme.title()),
                        Span::raw("  "),
                    ],
                    &one_line(&verdict.evidence),
                    theme.check(verdict.status),
                    width,
                    8,
                ));
            }
        }
    }

    let regressed: Vec<usize> = app.board.status.regressed().map(|(i, _)| i).collect();
    if !regressed.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::from(Span::styled(
            "Regressed: verified by a person, failing now",
            theme.title(),
        )));
        for index in regressed {
            targets.push((lines.len(), index));
            lines.push(Line::from(vec![
                Span::styled("  REGRESSED ", theme.alarm()),
                Span::raw(format!(" {}", one_line(&app.board.plan.tasks[index].id))),
            ]));
        }
    }
    let stale = app
        .board
        .status
        .tasks
        .iter()
        .enumerate()
        .filter(|(_, s)| s.verification == Some(Verification::Stale));
    for (index, _) in stale {
        targets.push((lines.len(), index));
        lines.push(Line::from(Span::styled(
            format!(
                "  stale verification: {} (its checks changed since)",
                one_line(&app.board.plan.tasks[index].id)
            ),
            theme.warn(),
        )));
    }

    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled("Blocked", theme.title())));
    let mut any_blocked = false;
    for (index, (task, state)) in app
        .board
        .plan
        .tasks
        .iter()
        .zip(&app.board.status.tasks)
        .enumerate()
    {
        if state.status == TaskStatus::Blocked {
            any_blocked = true;
            targets.push((lines.len(), index));
            lines.push(Line::from(vec![
                Span::styled(format!("  {} ", one_line(&task.id)), theme.warn()),
                Span::styled(
                    format!("waits for {}", state.blocked_by.join(", ")),
                    theme.dim(),
                ),
            ]));
        }
    }
    if !any_blocked {
        lines.push(Line::from(Span::styled(
            "  nothing is blocked",
            theme.dim(),
        )));
    }

    if let Some(timeline) = &app.board.plan.timeline {
        let progress = &app.board.status.progress;
        lines.push(Line::raw(""));
        lines.push(Line::from(Span::styled("Timeline", theme.title())));
        lines.push(Line::raw(format!(
            "  original estimate {} weeks; revised {}-{} weeks",
            timeline.original_weeks, timeline.revised_weeks[0], timeline.revised_weeks[1]
        )));
        lines.push(Line::raw(format!(
            "  live: database work {}% (claimed {}%), code work {}% (claimed {}%), overall {}%",
            progress.database.live_percent(),
            progress.database.claimed_percent(),
            progress.code.live_percent(),
            progress.code.claimed_percent(),
            progress.overall.live_percent()
        )));
    }

    if let Some(&(line, _)) = targets.get(app.risk_cursor) {
        let selected = std::mem::take(&mut lines[line]);
        lines[line] = selected.patch_style(theme.selected());
    }
    // Where each of those lines lands once the lines before it have wrapped.
    let mut rows = Vec::with_capacity(targets.len());
    let mut row = 0usize;
    let mut next = targets.iter().peekable();
    for (number, line) in lines.iter().enumerate() {
        while let Some(&&(_, task)) = next.peek().filter(|(at, _)| *at == number) {
            rows.push(TaskRow {
                row: u16::try_from(row).unwrap_or(u16::MAX),
                task,
            });
            next.next();
        }
        row += Paragraph::new(line.clone())
            .wrap(Wrap { trim: false })
            .line_count(u16::try_from(width).unwrap_or(u16::MAX))
            .max(1);
    }
    let paragraph = Paragraph::new(lines)
        .block(theme.panel(" Risks, overclaims, blocked, timeline (Enter opens a task) "))
        .wrap(Wrap { trim: false });
    (paragraph, rows)
}
