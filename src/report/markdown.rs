//! The Markdown report: what a lead pastes into a ticket.

use std::fmt::Write as _;

use super::{Report, TaskReport};
use crate::check::CheckStatus;
use crate::printable::one_line;
use crate::status::TaskStatus;

pub fn render_markdown(report: &Report) -> String {
    let mut out = String::new();
    let p = &report.summary.progress;
    let _ = writeln!(out, "# {}\n", cell(&report.plan.title));
    if report.backend.is_empty() {
        let _ = writeln!(
            out,
            "Checked the code only (no database) at {}.\n",
            report.checked_at_seconds()
        );
    } else {
        let _ = writeln!(
            out,
            "Checked live against `{}` (search path: {}) at {}.\n",
            cell(&report.database.url),
            cell(&report.search_path_text()),
            report.checked_at_seconds()
        );
    }
    let _ = writeln!(out, "| Work | Live | Claimed |\n|---|---|---|");
    for (name, progress) in [
        ("Database", &p.database),
        ("Code", &p.code),
        ("Overall", &p.overall),
    ] {
        if progress.total == 0 {
            let _ = writeln!(out, "| {name} | — | — |");
            continue;
        }
        let _ = writeln!(
            out,
            "| {name} | {}% ({}/{}) | {}% ({}/{}) |",
            progress.live_percent,
            progress.done,
            progress.total,
            progress.claimed_percent,
            progress.claimed_done,
            progress.total
        );
    }

    let overclaimed: Vec<_> = report.tasks.iter().filter(|t| t.overclaimed).collect();
    push_failing_tasks(
        &mut out,
        "Overclaimed: claimed done, the database says no",
        &overclaimed,
        |task| task.status.as_str().to_string(),
    );
    push_failing_tasks(
        &mut out,
        "Regressed: verified by a person, failing now",
        &report.regressed_tasks(),
        |task| cell(&task.verification_text()),
    );

    if !report.warnings.is_empty() {
        let _ = writeln!(out, "\n## Warnings\n");
        for warning in &report.warnings {
            let _ = writeln!(
                out,
                "- `{}/{}`: {}",
                warning.task,
                warning.check,
                cell(&warning.warning)
            );
        }
    }

    for day in &report.days {
        let number = day.day.unwrap_or_default();
        let _ = writeln!(
            out,
            "\n## Day {number}: {} ({}/{} done, claimed {}/{})\n",
            cell(&day.title),
            day.progress.done,
            day.progress.total,
            day.progress.claimed_done,
            day.progress.total
        );
        let _ = writeln!(out, "| Status | Task | Evidence |\n|---|---|---|");
        for task in report.tasks.iter().filter(|t| t.day == number) {
            let evidence: Vec<String> = match task.status {
                TaskStatus::Blocked => vec![format!("blocked by {}", task.blocked_by.join(", "))],
                TaskStatus::Manual => vec!["manual: needs a person to verify".into()],
                _ => task
                    .checks
                    .iter()
                    .filter(|c| c.status != CheckStatus::Pass)
                    .map(|c| format!("{}: {}", c.id, cell(&c.evidence)))
                    .collect(),
            };
            let mut status = if task.overclaimed {
                format!("**{} (overclaimed)**", task.status.as_str())
            } else {
                task.status.as_str().to_string()
            };
            if task.verification.is_some() {
                let _ = write!(status, "<br>{}", cell(&task.verification_text()));
            }
            if task.last_apply.is_some() {
                let _ = write!(status, "<br>{}", cell(&task.last_apply_text()));
            }
            let _ = writeln!(
                out,
                "| {status} | {} `{}` | {} |",
                cell(&task.title),
                task.id,
                evidence.join("<br>")
            );
        }
    }

    if !report.risks.is_empty() {
        let _ = writeln!(
            out,
            "\n## Risks\n\n| Risk | Severity | Level | Open items |\n|---|---|---|---|"
        );
        for risk in &report.risks {
            let items: Vec<String> = risk
                .open_items
                .iter()
                .map(|i| format!("`{}` {}", i.item, cell(&i.evidence)))
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&risk.title),
                risk.severity.as_str(),
                risk.level.as_str(),
                items.join("<br>")
            );
        }
    }
    out
}

/// A section listing `tasks`, each with `what` of it and its checks that do not pass.
fn push_failing_tasks(
    out: &mut String,
    heading: &str,
    tasks: &[&TaskReport],
    what: impl Fn(&TaskReport) -> String,
) {
    if tasks.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n## {heading}\n");
    for task in tasks {
        let _ = writeln!(
            out,
            "- **{}** `{}`: {}",
            cell(&task.title),
            task.id,
            what(task)
        );
        for check in task.checks.iter().filter(|c| c.status != CheckStatus::Pass) {
            let _ = writeln!(
                out,
                "  - {} `{}`: {}",
                check.status.as_str(),
                check.id,
                cell(&check.evidence)
            );
        }
    }
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}
