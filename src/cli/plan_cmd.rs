//! `remtrack plan validate` and `remtrack plan schema`.

use std::path::Path;

use super::exit;
use crate::Backend;
use crate::plan::{Plan, load_plan};

/// `warning: tasks[2].checks[0] (add-status-enum/labels): enum types do not exist on SQLite …`
fn unavailable(plan: &Plan, backend: Backend) -> Vec<String> {
    let mut warnings = Vec::new();
    for (t, task) in plan.tasks.iter().enumerate() {
        let guards = task.fix.iter().flat_map(|fix| fix.guards.iter());
        let checks = task
            .checks
            .iter()
            .enumerate()
            .map(|(c, check)| (format!("tasks[{t}].checks[{c}]"), check))
            .chain(
                guards
                    .enumerate()
                    .map(|(g, check)| (format!("tasks[{t}].fix.guards[{g}]"), check)),
            );
        for (path, check) in checks {
            if let Some(what) = check.spec.unavailable_on(backend) {
                warnings.push(format!(
                    "warning: {path} ({}/{}): {what} do not exist on {}: this {} check will be an error there",
                    task.id,
                    check.id,
                    backend.display_name(),
                    check.spec.kind()
                ));
            }
        }
    }
    warnings
}

/// Validates the plan; with a backend, also warns (on stderr, exit 0) about each check that
/// asks for something that backend does not have.
pub fn validate(file: &Path, backend: Option<Backend>) -> u8 {
    match load_plan(file) {
        Ok(plan) => {
            if let Some(backend) = backend {
                for warning in unavailable(&plan, backend) {
                    eprintln!("{}", crate::printable::printable(&warning));
                }
            }
            let checks: usize = plan.tasks.iter().map(|t| t.checks.len()).sum();
            let count =
                |n: usize, noun: &str| format!("{n} {noun}{}", if n == 1 { "" } else { "s" });
            println!(
                "{} is valid: {}, {}, {} ({}), {}",
                file.display(),
                count(plan.days.len(), "day"),
                count(plan.phases.len(), "phase"),
                count(plan.tasks.len(), "task"),
                count(checks, "check"),
                count(plan.risks.len(), "risk")
            );
            exit::OK
        }
        Err(error) => {
            eprintln!("{}", crate::printable::printable(&error.to_string()));
            exit::BAD_INPUT
        }
    }
}

pub fn schema() -> u8 {
    match serde_json::to_string_pretty(&Plan::json_schema()) {
        Ok(text) => {
            println!("{text}");
            exit::OK
        }
        Err(error) => {
            eprintln!("remtrack: cannot render the schema: {error}");
            exit::BAD_INPUT
        }
    }
}
