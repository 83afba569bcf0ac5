//! The remediation plan: its model, loading with friendly validation, and its JSON Schema.

mod issue;
mod load;
mod model;
mod policy;
mod references;
mod shape;
mod vocabulary;

pub use issue::{PlanError, PlanIssue};
pub use load::{load_plan, parse_plan, validate_value};
pub use model::*;

/// The nearest of `candidates` to a misspelt `word`, when it is near enough to be a likely typo.
pub fn nearest_id<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    issue::nearest(word, candidates)
}

impl Plan {
    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.iter().find(|task| task.id == id)
    }

    /// Every check and guard in the plan, in plan order.
    pub fn all_checks(&self) -> impl Iterator<Item = &Check> {
        self.tasks.iter().flat_map(|task| {
            task.checks
                .iter()
                .chain(task.fix.iter().flat_map(|fix| fix.guards.iter()))
        })
    }

    /// The search path names are resolved under: `--search-path` when given, else the plan's.
    pub fn search_path_with<'a>(&'a self, flag: Option<&'a [String]>) -> Option<&'a [String]> {
        flag.or(self.search_path.as_deref())
    }

    /// The approvals rule for `task`'s fix: the task's own, else the plan's, else none needed.
    pub fn fix_policy_of(&self, task: &Task) -> FixPolicy {
        task.fix_policy.or(self.fix_policy).unwrap_or_default()
    }

    /// The plan cut down to one task (days, phases and settings kept): what a fix run, or a
    /// check of that task alone, judges.
    pub fn only(&self, task: &Task) -> Plan {
        Plan {
            tasks: vec![task.clone()],
            ..self.clone()
        }
    }

    /// Where the task with this id is in `tasks`.
    pub fn task_index(&self, id: &str) -> Option<usize> {
        self.tasks.iter().position(|task| task.id == id)
    }

    /// The JSON Schema of the plan format, as committed in `plan.schema.json`.
    pub fn json_schema() -> serde_json::Value {
        let mut schema = serde_json::to_value(schemars::schema_for!(Plan)).unwrap_or_default();
        if let Some(object) = schema.as_object_mut() {
            object.insert("title".into(), "remtrack plan (format version 1)".into());
        }
        schema
    }
}

#[cfg(test)]
mod tests;
