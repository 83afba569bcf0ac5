//! The live check engine: what the database, the code and the migration files say about each
//! check in the plan.
//!
//! Each source gathers its own facts: the database (`db`: one catalog snapshot, one data query,
//! the `sql` checks), the code (`code`: one walk per refresh, cached and watched) and the
//! migration files (`migrations`, read by the code pass). The facts are merged and each check is
//! judged by pure code in `judge`. A database that cannot be read leaves the code's verdicts
//! live. Nothing here changes the target database.

pub mod code;
mod db;
pub mod default_expr;
pub mod expr_meaning;
mod facts;
mod in_transaction;
mod judge;
pub mod migrations;
mod needs;
mod refresh;
mod sql_text;
pub mod sqltype;

pub use code::{CodeLimits, CodeSource};
pub use db::conninfo;
pub use db::target::{Limits, Target, TargetError};
/// For the write path (`apply`), which connects the same way but not read-only.
pub(crate) use db::target::{as_url, pg_options, seconds, startup_search_path};
pub use facts::SearchPath;
pub use in_transaction::{InTransaction, judge_in};
pub use refresh::{Refresh, judge_code_only, refresh, refresh_with};
pub use sql_text::{ScriptStatement, SqlRejection, screen_check_sql, split_script};

use serde::{Deserialize, Serialize};

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Pass,
    Fail,
    /// The check could not be evaluated (timeout, permission, bad query). Never a failure.
    Error,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "fail",
            CheckStatus::Error => "error",
        }
    }
}

/// A check's status with one line a person can read and the facts behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub status: CheckStatus,
    pub evidence: String,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub facts: serde_json::Map<String, serde_json::Value>,
    /// Something a person should know although it does not change the verdict: an absent
    /// check passed, but an object of that name exists outside the search path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl Verdict {
    pub fn pass(evidence: impl Into<String>) -> Self {
        Verdict {
            status: CheckStatus::Pass,
            evidence: evidence.into(),
            facts: Default::default(),
            warning: None,
        }
    }

    pub fn fail(evidence: impl Into<String>) -> Self {
        Verdict {
            status: CheckStatus::Fail,
            evidence: evidence.into(),
            facts: Default::default(),
            warning: None,
        }
    }

    pub fn error(evidence: impl Into<String>) -> Self {
        Verdict {
            status: CheckStatus::Error,
            evidence: evidence.into(),
            facts: Default::default(),
            warning: None,
        }
    }

    pub fn with_warning(mut self, warning: Option<String>) -> Self {
        self.warning = warning;
        self
    }

    pub fn with_fact(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.facts.insert(name.to_string(), value.into());
        self
    }
}

/// The verdicts of one task: its checks, and the guards of its fix, in plan order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskVerdicts {
    pub checks: Vec<Verdict>,
    pub guards: Vec<Verdict>,
}

/// Every verdict of a refresh, aligned with `plan.tasks`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Verdicts {
    pub tasks: Vec<TaskVerdicts>,
}

impl Verdicts {
    pub fn task(&self, index: usize) -> Option<&TaskVerdicts> {
        self.tasks.get(index)
    }
}
