//! What a fix run did and concluded, in the words a person reads and as JSON for the audit.

use std::time::Duration;

use serde::Serialize;

use crate::check::{CheckStatus, TaskVerdicts, Verdict};
use crate::plan::Task;

/// A dry run (always rolled back) or an apply (committed only when proven).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    DryRun,
    Apply,
}

/// One statement of the fix as it ran.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatementRun {
    pub sql: String,
    /// Rows it changed, as the server counted them (0 for DDL).
    pub rows: Option<u64>,
    pub error: Option<String>,
}

/// How a fix run ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", content = "reason", rename_all = "snake_case")]
pub enum Conclusion {
    /// Dry run: inside the transaction every check passed and no guard failed; rolled back.
    Proven,
    /// Some check still fails (or a guard fails) after the fix; rolled back.
    NotProven(String),
    /// Nothing of the fix ran: a guard, a refused statement, the lock, the connection.
    Refused(String),
    /// A statement of the fix failed; rolled back.
    StatementFailed(String),
    /// Committed.
    Applied,
    /// Not committed, and certainly so: the transaction was rolled back (by remtrack or, for a
    /// connection lost before COMMIT, by the server).
    RolledBack(String),
    /// COMMIT was sent and no answer came: only a recheck can tell.
    Unknown(String),
}

impl Conclusion {
    pub fn as_str(&self) -> &'static str {
        match self {
            Conclusion::Proven => "proven",
            Conclusion::NotProven(_) => "not_proven",
            Conclusion::Refused(_) => "refused",
            Conclusion::StatementFailed(_) => "statement_failed",
            Conclusion::Applied => "applied",
            Conclusion::RolledBack(_) => "rolled_back",
            Conclusion::Unknown(_) => "unknown",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Conclusion::Proven | Conclusion::Applied => None,
            Conclusion::NotProven(r)
            | Conclusion::Refused(r)
            | Conclusion::StatementFailed(r)
            | Conclusion::RolledBack(r)
            | Conclusion::Unknown(r) => Some(r),
        }
    }

    /// Whether the database may have changed (applied, or perhaps).
    pub fn may_have_changed(&self) -> bool {
        matches!(self, Conclusion::Applied | Conclusion::Unknown(_))
    }
}

/// Everything one fix run saw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixRun {
    pub task_id: String,
    pub mode: Mode,
    pub backend: crate::Backend,
    /// The database's identity (no password).
    pub database: String,
    /// The exact fix text that ran.
    pub sql: String,
    /// Checks and guards before the fix, inside the transaction.
    pub before: Option<TaskVerdicts>,
    pub statements: Vec<StatementRun>,
    /// Checks and guards after the fix, inside the transaction (what a commit would keep).
    pub inside: Option<TaskVerdicts>,
    /// After a commit, checked again on the committed state.
    pub after: Option<TaskVerdicts>,
    /// What a person should know that does not change the verdict (a dependency not done).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(flatten)]
    pub conclusion: Conclusion,
    #[serde(serialize_with = "millis")]
    pub duration: Duration,
}

fn millis<S: serde::Serializer>(duration: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}

impl FixRun {
    /// A run refused before anything was sent to the database.
    pub fn refused(
        task_id: &str,
        mode: Mode,
        target: &super::WriteTarget,
        sql: &str,
        reason: String,
    ) -> FixRun {
        FixRun {
            task_id: task_id.to_string(),
            mode,
            backend: target.backend(),
            database: target.identity(),
            sql: sql.to_string(),
            before: None,
            statements: Vec::new(),
            inside: None,
            after: None,
            warnings: Vec::new(),
            conclusion: Conclusion::Refused(reason),
            duration: Default::default(),
        }
    }

    /// Whether the checks inside the transaction prove the fix: every check passes, no guard
    /// fails after it.
    pub fn proven(&self) -> bool {
        matches!(self.conclusion, Conclusion::Proven | Conclusion::Applied)
    }

    /// The report a person reads, line by line (no trailing newlines).
    pub fn lines(&self, task: &Task, shown_url: &str) -> Vec<String> {
        let mut lines = Vec::new();
        let what = match self.mode {
            Mode::DryRun => "dry run",
            Mode::Apply => "apply",
        };
        lines.push(format!("fix {} — {what} on {shown_url}", self.task_id));
        if let Some(before) = &self.before {
            lines.push(guard_summary("guards before the fix", task, &before.guards));
            push_verdicts(&mut lines, guard_ids(task), &before.guards);
            lines.push(format!(
                "checks before the fix: {}",
                pass_count(&before.checks)
            ));
        }
        if !self.statements.is_empty() {
            let n = self.statements.len();
            lines.push(format!(
                "ran {n} statement{} in one transaction:",
                if n == 1 { "" } else { "s" }
            ));
            for (at, statement) in self.statements.iter().enumerate() {
                let result = match (&statement.error, statement.rows) {
                    (Some(error), _) => format!("failed: {error}"),
                    (None, Some(rows)) => {
                        format!("{rows} row{}", if rows == 1 { "" } else { "s" })
                    }
                    (None, None) => "ran".into(),
                };
                let mut text = statement_lines(&statement.sql).into_iter();
                lines.push(format!(
                    "  {}. ({result}) {}",
                    at + 1,
                    text.next().unwrap_or_default()
                ));
                lines.extend(text.map(|line| format!("       {line}")));
            }
        }
        if let Some(inside) = &self.inside {
            lines.push(format!(
                "checks after the fix, inside the transaction: {}",
                pass_count(&inside.checks)
            ));
            push_verdicts(&mut lines, check_ids(task), &inside.checks);
            if !inside.guards.is_empty() {
                let mut summary = guard_summary("guards after the fix", task, &inside.guards);
                if inside.guards.iter().any(|g| g.status == CheckStatus::Error) {
                    // A drop's guard reads what the drop removes.
                    summary.push_str(
                        " (a guard that cannot be judged after the fix does not count against \
                         it; one that fails does)",
                    );
                }
                lines.push(summary);
                push_verdicts(&mut lines, guard_ids(task), &inside.guards);
            }
        }
        if let Some(after) = &self.after {
            lines.push(format!(
                "checked again after the commit: {}",
                pass_count(&after.checks)
            ));
        }
        lines.extend(self.warnings.iter().map(|w| format!("warning: {w}")));
        lines.push(self.verdict_line());
        lines
    }

    /// `; the guards passed before it`, or nothing when the fix has none.
    fn guard_words(&self) -> &'static str {
        match &self.before {
            Some(before) if !before.guards.is_empty() => "; its guards passed before it",
            _ => " (the fix has no guards)",
        }
    }

    /// The one line that says how it ended.
    pub fn verdict_line(&self) -> String {
        let count = self
            .inside
            .as_ref()
            .map(|inside| pass_count(&inside.checks))
            .unwrap_or_default();
        match (&self.conclusion, self.mode) {
            (Conclusion::Proven, _) => format!(
                "proven: after this fix, {count}{}. Rolled back: nothing was changed.",
                self.guard_words()
            ),
            (Conclusion::Applied, _) => {
                format!("applied: committed after {count} inside the transaction")
            }
            (Conclusion::NotProven(reason), Mode::DryRun) => {
                format!("not proven: {reason}. Rolled back: nothing was changed.")
            }
            (Conclusion::NotProven(reason), Mode::Apply) => {
                format!("not applied: {reason}. Rolled back: nothing was changed.")
            }
            (Conclusion::Refused(reason), _) => format!("refused, nothing ran: {reason}"),
            (Conclusion::StatementFailed(reason), _) => {
                format!("the fix failed: {reason}. Rolled back: nothing was changed.")
            }
            (Conclusion::RolledBack(reason), Mode::DryRun) => {
                format!("the dry run stopped ({reason}); nothing was changed")
            }
            (Conclusion::RolledBack(reason), Mode::Apply) => format!("not applied ({reason})"),
            (Conclusion::Unknown(reason), _) => format!("unknown: recheck ({reason})"),
        }
    }
}

/// The statement as written, comment lines left out, at most [`STATEMENT_LINES`] lines.
fn statement_lines(sql: &str) -> Vec<String> {
    let lines: Vec<&str> = sql
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
        .collect();
    // Only ASCII blanks count as indent: slicing by a Unicode space's bytes would cut a char.
    let blanks = |line: &str| line.len() - line.trim_start_matches([' ', '\t']).len();
    let indent = lines.iter().skip(1).map(|l| blanks(l)).min().unwrap_or(0);
    let mut shown: Vec<String> = lines
        .iter()
        .enumerate()
        .take(STATEMENT_LINES)
        .map(|(at, line)| {
            let cut = if at == 0 {
                blanks(line)
            } else {
                indent.min(blanks(line))
            };
            crate::printable::one_line(&line[cut..])
        })
        .collect();
    if lines.len() > STATEMENT_LINES {
        shown.push(format!("… ({} more lines)", lines.len() - STATEMENT_LINES));
    }
    shown
}

/// How much of one statement a report shows; the audit keeps it whole.
const STATEMENT_LINES: usize = 12;

/// `7 of 7 checks pass`.
pub fn pass_count(verdicts: &[Verdict]) -> String {
    let passing = verdicts
        .iter()
        .filter(|v| v.status == CheckStatus::Pass)
        .count();
    match verdicts.len() {
        1 => format!("{passing} of 1 check passes"),
        total => format!("{passing} of {total} checks pass"),
    }
}

fn guard_summary(heading: &str, task: &Task, guards: &[Verdict]) -> String {
    if guard_ids(task).is_empty() {
        return format!("{heading}: none");
    }
    let passing = guards
        .iter()
        .filter(|v| v.status == CheckStatus::Pass)
        .count();
    format!("{heading}: {passing} of {} pass", guards.len())
}

fn guard_ids(task: &Task) -> Vec<&str> {
    task.fix
        .iter()
        .flat_map(|fix| fix.guards.iter())
        .map(|guard| guard.id.as_str())
        .collect()
}

fn check_ids(task: &Task) -> Vec<&str> {
    task.checks.iter().map(|check| check.id.as_str()).collect()
}

fn push_verdicts(lines: &mut Vec<String>, ids: Vec<&str>, verdicts: &[Verdict]) {
    for (id, verdict) in ids.iter().zip(verdicts) {
        lines.push(format!(
            "  {} {id}: {}",
            verdict.status.as_str(),
            crate::printable::one_line(&verdict.evidence)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::statement_lines;

    #[test]
    fn a_statement_is_shown_with_its_own_indent_whatever_its_blanks() {
        assert_eq!(
            statement_lines("ALTER TABLE t\n    ADD COLUMN a int,\n    ADD COLUMN b int"),
            ["ALTER TABLE t", "ADD COLUMN a int,", "ADD COLUMN b int"]
        );
        // A no-break space is text, not indent: it must not be cut through.
        assert_eq!(
            statement_lines("CREATE TABLE nb (id INTEGER DEFAULT 'a\n\u{a0}b\n c')"),
            ["CREATE TABLE nb (id INTEGER DEFAULT 'a", "\u{a0}b", " c')"]
        );
        let long: String = (0..20).map(|i| format!("SELECT {i}\n")).collect();
        assert_eq!(statement_lines(&long).last().unwrap(), "… (8 more lines)");
    }
}
