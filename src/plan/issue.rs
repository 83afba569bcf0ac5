//! Errors from loading a plan: where the problem is and what was expected.

use std::fmt;
use std::path::PathBuf;

/// One problem in a plan, at a JSON path such as `tasks[3].checks[1].kind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanIssue {
    pub path: String,
    pub message: String,
}

impl fmt::Display for PlanIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Why a plan could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("cannot read plan {}: {source}{}", file.display(), missing_hint(source))]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", file.display())]
    Syntax {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{} has {} problem{}:\n{}", file.display(), issues.len(), if issues.len() == 1 { "" } else { "s" }, list(issues))]
    Invalid {
        file: PathBuf,
        issues: Vec<PlanIssue>,
    },
}

/// The most problems printed; a generated plan with a systematic mistake would otherwise print
/// one line per task.
const LISTED_ISSUES: usize = 200;

fn list(issues: &[PlanIssue]) -> String {
    let mut lines: Vec<String> = issues
        .iter()
        .take(LISTED_ISSUES)
        .map(|issue| format!("  {issue}"))
        .collect();
    if issues.len() > LISTED_ISSUES {
        lines.push(format!(
            "  … and {} more (fix these first)",
            issues.len() - LISTED_ISSUES
        ));
    }
    lines.join("\n")
}

/// Builds JSON paths as the loader walks down.
#[derive(Debug, Clone, Default)]
pub(crate) struct JsonPath(String);

impl JsonPath {
    pub fn root() -> Self {
        JsonPath(String::new())
    }

    pub fn field(&self, name: &str) -> Self {
        if self.0.is_empty() {
            JsonPath(name.to_string())
        } else {
            JsonPath(format!("{}.{}", self.0, name))
        }
    }

    pub fn index(&self, index: usize) -> Self {
        JsonPath(format!("{}[{}]", self.0, index))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The nearest of `candidates` to a misspelt `word`, when it is near enough to be a likely typo.
pub(crate) fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word = word.to_lowercase();
    candidates
        .iter()
        .map(|candidate| (strsim::damerau_levenshtein(&word, candidate), *candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len() / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// For a plan that is not there: where plans come from.
fn missing_hint(error: &std::io::Error) -> &'static str {
    if error.kind() == std::io::ErrorKind::NotFound {
        " (give one with --plan FILE, or start from the demo's: remtrack plan example > plan.json)"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        let kinds = ["table_exists", "column_exists", "row_count"];
        assert_eq!(nearest("colum_exists", &kinds), Some("column_exists"));
        assert_eq!(nearest("Row_Count", &kinds), Some("row_count"));
        assert_eq!(nearest("banana", &kinds), None);
    }

    #[test]
    fn paths_read_like_json_paths() {
        let path = JsonPath::root()
            .field("tasks")
            .index(3)
            .field("checks")
            .index(1)
            .field("kind");
        assert_eq!(path.as_str(), "tasks[3].checks[1].kind");
    }
}
