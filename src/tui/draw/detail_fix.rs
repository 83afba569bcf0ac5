//! The detail pane's fix section: the SQL, how to prove it (`p`), its guards, and what the
//! history says of it on this database — the last apply, and the approvals and requests given
//! for the fix text the plan has now.

use ratatui::text::{Line, Span};

use super::age;
use super::detail::push_checks;
use super::wrap::hanging;
use crate::apply::FixAction;
use crate::check::{TaskVerdicts, Verdict};
use crate::printable::{one_line, printable};
use crate::status::TaskStatus;
use crate::store::{Event, EventKind};
use crate::tui::app::App;

/// The fix section of task `index`, or nothing when the task has no fix.
pub fn lines(
    app: &App,
    index: usize,
    verdicts: Option<&TaskVerdicts>,
    width: usize,
) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let task = &app.board.plan.tasks[index];
    let Some(fix) = &task.fix else {
        return Vec::new();
    };
    let backend = app.fix_backend();
    let mut lines = vec![
        Line::raw(""),
        Line::from(vec![
            Span::styled(format!("Fix ({})", backend.name()), theme.title()),
            Span::styled("  y copies it", theme.dim()),
        ]),
    ];
    lines.push(prove_hint(app, index));
    match fix.sql.for_backend(backend) {
        Some(sql) => {
            for text in printable(sql).lines() {
                lines.push(Line::styled(format!("  {text}"), theme.base()));
            }
        }
        None => lines.push(Line::from(Span::styled(
            format!("  no fix SQL for {}", backend.name()),
            theme.dim(),
        ))),
    }
    let status = app.board.status.tasks[index].status;
    if !fix.guards.is_empty() && status == TaskStatus::Done {
        // As in every report: a done task has no fix to guard.
        lines.push(Line::from(Span::styled(
            "Guards: not applicable, the task is done",
            theme.dim(),
        )));
    } else if !fix.guards.is_empty() {
        lines.push(Line::from(Span::styled(
            "Guards (must pass before the fix may run)",
            theme.title(),
        )));
        let none: &[Verdict] = &[];
        let guards = verdicts.map_or(none, |v| v.guards.as_slice());
        push_checks(app, &mut lines, &fix.guards, guards, width);
    }
    history_lines(app, index, width, &mut lines);
    lines
}

/// How to prove the fix from here, or why it cannot be.
fn prove_hint(app: &App, index: usize) -> Line<'static> {
    let theme = &app.theme;
    let task = &app.board.plan.tasks[index];
    if let Some(running) = app.fix_running.as_ref().filter(|r| r.task_id == task.id) {
        return Line::from(Span::styled(
            format!(
                "  the {} of this fix is running…",
                crate::tui::app::action_words(running.action)
            ),
            theme.warn(),
        ));
    }
    if app.apply_to.is_none() {
        return Line::from(Span::styled(
            "  p dry runs it once the tracker is given --apply-url (a write connection)",
            theme.dim(),
        ));
    }
    if let Some(why) = app.refuse_fix(FixAction::DryRun) {
        return Line::from(Span::styled(format!("  {}", one_line(&why)), theme.dim()));
    }
    if app.board.status.tasks[index].status == TaskStatus::Done {
        return Line::from(Span::styled(
            "  the task is done: its fix is not needed (p would still dry run it)",
            theme.dim(),
        ));
    }
    Line::from(vec![
        Span::raw("  "),
        Span::styled("p", theme.key()),
        Span::styled(
            ": dry run the fix — proves it in a transaction that is rolled back",
            theme.dim(),
        ),
    ])
}

/// The last apply here, and the approvals and open requests for the fix text shown.
fn history_lines(app: &App, index: usize, width: usize, lines: &mut Vec<Line<'static>>) {
    let theme = &app.theme;
    let history = app.fix_history(index);
    if let Some(apply) = history.last_apply {
        let (outcome, style) = match apply.kind {
            EventKind::Applied => ("applied".to_string(), theme.pass()),
            _ => (
                apply
                    .note
                    .lines()
                    .next()
                    .map_or("not applied".into(), one_line),
                theme.fail(),
            ),
        };
        lines.extend(hanging(
            vec![Span::styled("Last apply here: ", theme.title())],
            &format!("{outcome}, by {}", when_and_who(app, apply)),
            style,
            width,
            4,
        ));
    }
    if history.required > 0 {
        let given = history.approvals.len();
        lines.push(Line::from(Span::styled(
            format!(
                "Approvals: the plan asks for {} before an apply; {given} given for this fix text",
                history.required
            ),
            theme.title(),
        )));
    } else if !history.approvals.is_empty() || !history.requests.is_empty() {
        lines.push(Line::from(Span::styled(
            "Approvals (for this fix text)",
            theme.title(),
        )));
    }
    for (events, what) in [
        (&history.approvals, "approved"),
        (&history.requests, "approval asked"),
    ] {
        for event in events {
            let note = crate::tui::app::quoted_note(&event.note);
            lines.extend(hanging(
                vec![Span::raw("  ")],
                &format!("{what} by {}{note}", when_and_who(app, event)),
                theme.base(),
                width,
                4,
            ));
        }
    }
}

/// "ana 5m ago (2026-11-24T10:01:00Z)".
fn when_and_who(app: &App, event: &Event) -> String {
    format!(
        "{} {} ({})",
        one_line(&event.actor),
        age(app.now, event.at),
        crate::store::utc_text(event.at)
    )
}
