//! `remtrack plan validate` and `remtrack plan schema`.

use std::path::Path;

use super::exit;
use crate::plan::{Plan, load_plan};

pub fn validate(file: &Path) -> u8 {
    match load_plan(file) {
        Ok(plan) => {
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
