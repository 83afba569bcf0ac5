//! The text report: per day, one line a task, with the evidence of what is not done.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use super::{CheckReport, Report, TaskReport};
use crate::check::CheckStatus;
use crate::printable::one_line;
use crate::status::{RiskLevel, TaskStatus, Verification};
use crate::store::ApplyOutcome;

const RED: Style = AnsiColor::Red.on_default().bold();
const GREEN: Style = AnsiColor::Green.on_default();
const YELLOW: Style = AnsiColor::Yellow.on_default();
const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();

/// Renders the report with ANSI styles; print it through `anstream` so styles are dropped when
/// the output is not a terminal or `NO_COLOR` is set.
pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{BOLD}{}{BOLD:#}", one_line(&report.plan.title));
    if report.backend.is_empty() {
        // `check --code-only`: no database was read.
        let _ = writeln!(
            out,
            "{DIM}checked the code only (no database) at {} in {} ms{DIM:#}",
            report.checked_at_seconds(),
            report.duration_ms
        );
    } else {
        let _ = writeln!(
            out,
            "{DIM}checked {} ({}, search path: {}) at {} in {} ms{DIM:#}",
            one_line(&report.database.url),
            report.backend,
            one_line(&report.search_path_text()),
            report.checked_at_seconds(),
            report.duration_ms
        );
    }
    for day in &report.days {
        let number = day.day.unwrap_or_default();
        let _ = writeln!(
            out,
            "\n{BOLD}Day {number}: {}{BOLD:#}  {}/{} done live, claimed {}/{}",
            one_line(&day.title),
            day.progress.done,
            day.progress.total,
            day.progress.claimed_done,
            day.progress.total
        );
        for task in report.tasks.iter().filter(|t| t.day == number) {
            task_lines(&mut out, task);
        }
    }

    let s = &report.summary;
    let p = &s.progress;
    let _ = writeln!(out, "\n{BOLD}Progress{BOLD:#}");
    for (name, progress) in [
        ("database work", &p.database),
        ("code work", &p.code),
        ("overall", &p.overall),
    ] {
        if progress.total == 0 {
            let _ = writeln!(out, "  {name:<14}   — no tasks");
            continue;
        }
        let _ = writeln!(
            out,
            "  {name:<14} {:>3}% live ({}/{})   claimed {:>3}% ({}/{})",
            progress.live_percent,
            progress.done,
            progress.total,
            progress.claimed_percent,
            progress.claimed_done,
            progress.total
        );
    }
    let _ = writeln!(
        out,
        "  tasks: {} done, {} failing, {} blocked, {} manual, {} unknown; checks: {} pass, {} fail, {} error",
        s.done,
        s.failing,
        s.blocked,
        s.manual,
        s.unknown,
        s.checks.pass,
        s.checks.fail,
        s.checks.error
    );

    let overclaimed: Vec<&TaskReport> = report.tasks.iter().filter(|t| t.overclaimed).collect();
    if overclaimed.is_empty() {
        let _ = writeln!(out, "\n{GREEN}Nothing is overclaimed.{GREEN:#}");
    } else {
        let _ = writeln!(
            out,
            "\n{RED}Overclaimed: {} task{} claimed done that the live checks say are not:{RED:#}",
            overclaimed.len(),
            if overclaimed.len() == 1 { "" } else { "s" }
        );
        for task in overclaimed {
            let _ = writeln!(out, "  {} ({})", task.id, task.status.as_str());
        }
    }

    let regressed = report.regressed_tasks();
    if !regressed.is_empty() {
        let _ = writeln!(
            out,
            "\n{RED}Regressed: {} task{} verified by a person whose checks fail now:{RED:#}",
            regressed.len(),
            if regressed.len() == 1 { "" } else { "s" }
        );
        for task in regressed {
            let _ = writeln!(out, "  {} ({})", task.id, task.verification_text());
        }
    }

    if !report.warnings.is_empty() {
        let _ = writeln!(out, "\n{YELLOW}Warnings:{YELLOW:#}");
        for warning in &report.warnings {
            let _ = writeln!(
                out,
                "  {}/{}: {}",
                warning.task,
                warning.check,
                one_line(&warning.warning)
            );
        }
    }

    if !report.risks.is_empty() {
        let _ = writeln!(out, "\n{BOLD}Risks{BOLD:#}");
        for risk in &report.risks {
            let style = match risk.level {
                RiskLevel::Clear => GREEN,
                RiskLevel::Active => RED,
                RiskLevel::Unknown => YELLOW,
            };
            let _ = writeln!(
                out,
                "  {style}{:<7}{style:#} {} {}",
                risk.level.as_str(),
                risk.severity.as_str(),
                one_line(&risk.title)
            );
            for item in &risk.open_items {
                let _ = writeln!(
                    out,
                    "          {DIM}{}: {}{DIM:#}",
                    item.item,
                    one_line(&item.evidence)
                );
            }
        }
    }
    out
}

fn task_lines(out: &mut String, task: &TaskReport) {
    let (glyph, style) = match task.status {
        TaskStatus::Done => ("✓", GREEN),
        TaskStatus::Failing => ("✗", RED),
        TaskStatus::Blocked => ("⧗", YELLOW),
        TaskStatus::Manual => ("○", DIM),
        TaskStatus::Unknown => ("?", YELLOW),
    };
    let mut flag = if task.overclaimed {
        format!("  {RED}OVERCLAIMED{RED:#}")
    } else {
        String::new()
    };
    if let Some(verification) = &task.verification {
        let style = match verification.state {
            Verification::Verified => GREEN,
            Verification::Stale => YELLOW,
            Verification::Regressed => RED,
        };
        let _ = write!(flag, "  {style}{}{style:#}", task.verification_text());
    }
    let _ = writeln!(
        out,
        "  {style}{glyph} {:<8}{style:#} {}  {DIM}[{}]{DIM:#}{flag}",
        task.status.as_str(),
        one_line(&task.title),
        task.id
    );
    if let Some(last) = &task.last_apply {
        // A failed apply is news even on a task that is done (it may have been done by hand).
        let style = match last.outcome {
            ApplyOutcome::Applied => DIM,
            ApplyOutcome::Unknown => YELLOW,
            ApplyOutcome::RolledBack | ApplyOutcome::Refused => RED,
        };
        let _ = writeln!(out, "      {style}{}{style:#}", task.last_apply_text());
    }
    if task.status == TaskStatus::Blocked {
        let _ = writeln!(
            out,
            "      {YELLOW}blocked by {}{YELLOW:#}",
            task.blocked_by.join(", ")
        );
    }
    if task.status != TaskStatus::Done {
        for check in task.checks.iter().filter(|c| c.status != CheckStatus::Pass) {
            check_line(out, check, "");
        }
        for guard in task.guards.iter() {
            check_line(out, guard, "guard ");
        }
    }
}

fn check_line(out: &mut String, check: &CheckReport, prefix: &str) {
    let (mark, style) = match check.status {
        CheckStatus::Pass => ("✓", GREEN),
        CheckStatus::Fail => ("✗", RED),
        CheckStatus::Error => ("!", YELLOW),
    };
    let _ = writeln!(
        out,
        "      {style}{mark} {prefix}{}{style:#}: {}",
        check.id,
        one_line(&check.evidence)
    );
}
