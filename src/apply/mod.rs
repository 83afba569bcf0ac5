//! The write path, beside `check/` and never inside it: a task's fix SQL run on a person's
//! explicit, confirmed action, on a connection of its own. A dry run proves the fix inside a
//! transaction and rolls it back; an apply is the same transaction, committed only when every
//! check of the task passes inside it. Nothing here runs from a check, a refresh or a plan load.

mod audit;
mod errors;
mod lock;
mod outcome;
mod perform;
mod run;
mod session;
mod statements;
mod verdicts;
mod write_target;

pub use audit::{apply_event, approval_event, refused_apply_event, run_evidence};
pub use outcome::{Conclusion, FixRun, Mode, StatementRun, pass_count};
pub use perform::{FixAction, FixOrder, Performed, perform};
pub use run::{FixRequest, run_fix};
pub use statements::{Untransactable, untransactable};
pub use write_target::{FixLimits, WriteConnection, WriteTarget, session_name};

/// Said when no write URL is given, by the CLI and the tracker.
pub const NO_APPLY_URL: &str = "a fix needs a write connection of its own: give --apply-url \
     postgres://fixer@host/db (or set REMTRACK_APPLY_URL). The checks' connection \
     (--database-url) is read-only and is never used to write";
