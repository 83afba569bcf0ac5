//! Reading a plan file: bytes to JSON (with line:column on syntax errors), then every shape and
//! reference problem at once, then the typed [`Plan`].

use std::path::Path;

use serde_json::Value;

use super::Plan;
use super::issue::{JsonPath, PlanError, PlanIssue};
use super::policy::check_fix_policies;
use super::references::check_references;
use super::shape::{PLAN, ShapeChecker};

/// Loads and validates a plan file.
pub fn load_plan(file: &Path) -> Result<Plan, PlanError> {
    let bytes = std::fs::read(file).map_err(|source| PlanError::Read {
        file: file.to_path_buf(),
        source,
    })?;
    parse_plan(&bytes, file)
}

/// Validates plan text; `file` is only used to name the source in errors.
pub fn parse_plan(bytes: &[u8], file: &Path) -> Result<Plan, PlanError> {
    let value = parse_json(bytes, file)?;
    let issues = validate_value(&value);
    if !issues.is_empty() {
        return Err(PlanError::Invalid {
            file: file.to_path_buf(),
            issues,
        });
    }
    serde_json::from_value(value).map_err(|error| PlanError::Invalid {
        file: file.to_path_buf(),
        issues: vec![PlanIssue {
            path: String::new(),
            message: error.to_string(),
        }],
    })
}

/// Every shape and reference problem in a parsed plan.
pub fn validate_value(value: &Value) -> Vec<PlanIssue> {
    let mut shape = ShapeChecker::new();
    shape.object(&JsonPath::root(), value, PLAN);
    let mut issues = shape.issues;
    if value.is_object() {
        check_references(value, &mut issues);
        check_fix_policies(value, &mut issues);
    }
    issues
}

fn parse_json(bytes: &[u8], file: &Path) -> Result<Value, PlanError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let syntax = |line, column, message: String| PlanError::Syntax {
        file: file.to_path_buf(),
        line,
        column,
        message,
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(syntax(
            1,
            1,
            "the file is empty; expected a plan object (see the README for the format)".into(),
        ));
    }
    if let Err(error) = std::str::from_utf8(bytes) {
        let (line, column) = line_column(bytes, error.valid_up_to());
        return Err(syntax(
            line,
            column,
            "the file is not valid UTF-8 text; save it as UTF-8".into(),
        ));
    }
    serde_json::from_slice(bytes).map_err(|error| {
        let message = error.to_string();
        // serde_json appends " at line L column C"; the location is already in front.
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string();
        let message = if error.is_eof() {
            format!("{message} (is the file truncated?)")
        } else {
            message
        };
        syntax(error.line(), error.column(), message)
    })
}

fn line_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}
