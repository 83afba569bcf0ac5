//! The plan format (version 1): the typed model that `plan.json` describes.
//!
//! Field names here are a user-facing contract: people write plans by hand and other tools read
//! them. The loader in `load.rs` reports problems in friendly terms; these types are what a valid
//! plan becomes, and `schemars` derives the published JSON Schema from them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::vocabulary::*;

/// A remediation plan: days, phases, tasks with live checks, and the risks a lead watches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Editors use this to find the schema; remtrack ignores it.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Format version; always 1.
    pub version: u32,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Timeline>,
    /// The schemas a check without `schema` looks in, in order, as PostgreSQL's `search_path`
    /// (e.g. `["migration", "public"]`). Without it, the checking session's own search path
    /// (after the role's and database's settings) is used. `--search-path` overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_path: Option<Vec<String>>,
    /// Where the code that code checks read is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeSettings>,
    pub days: Vec<Day>,
    pub phases: Vec<Phase>,
    pub tasks: Vec<Task>,
    #[serde(default)]
    pub risks: Vec<Risk>,
    /// How many approvals every fix needs before it may be applied; a task's own overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_policy: Option<FixPolicy>,
}

/// The four-eyes rule for applying fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FixPolicy {
    /// Approvals from people other than the applier, given for the same fix text and guards
    /// after a dry run; 0 (the default) lets anyone apply a proven fix. At most 5.
    #[schemars(range(max = 5))]
    pub approvals: u32,
}

/// Where the code is: `root` relative to the plan file's folder (the default), and globs no
/// code check ever reads. `--code-root` and `REMTRACK_CODE_ROOT` override `root`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

/// The original estimate beside the revised one, in weeks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Timeline {
    pub original_weeks: u32,
    /// `[min, max]`.
    pub revised_weeks: [u32; 2],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Day {
    /// 1..n
    pub day: u32,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    pub id: String,
    pub title: String,
    /// When the phase runs, e.g. "Week 1".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    High,
    Medium,
    Low,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    High,
    Medium,
    Low,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::High => "high",
            Priority::Medium => "medium",
            Priority::Low => "low",
        }
    }
}

/// What the old tracker claims about a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Claimed {
    Done,
    InProgress,
    NotStarted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// A unique slug.
    pub id: String,
    pub title: String,
    /// Must name a day in `days`.
    pub day: u32,
    /// Must name a phase in `phases`.
    pub phase: String,
    pub priority: Priority,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed: Option<Claimed>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// Markdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A task with no checks is manual: only a person can verify it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
    /// Overrides the plan's `fix_policy` for this task's fix; only on a task with a `fix`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_policy: Option<FixPolicy>,
}

impl Task {
    pub fn is_manual(&self) -> bool {
        self.checks.is_empty()
    }

    /// Code work: every check reads the code, none the database.
    pub fn is_code_work(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|check| check.spec.is_code())
    }

    /// Whether a person's mark on this task holds whatever database it was made against: the
    /// task is manual or reads only the code.
    pub fn marks_count_everywhere(&self) -> bool {
        self.is_manual() || self.is_code_work()
    }
}

/// SQL that would complete a task. remtrack never runs it on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fix {
    pub sql: DialectSql,
    /// Checks that must pass before the fix may run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guards: Vec<Check>,
}

/// One SQL text for every backend, or one per backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum DialectSql {
    Any(String),
    PerBackend(PerBackendSql),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PerBackendSql {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sqlite: Option<String>,
}

impl DialectSql {
    /// The text for a backend, if the plan gives one.
    pub fn for_backend(&self, backend: crate::Backend) -> Option<&str> {
        match (self, backend) {
            (DialectSql::Any(sql), _) => Some(sql),
            (DialectSql::PerBackend(per), crate::Backend::Postgres) => per.postgres.as_deref(),
            (DialectSql::PerBackend(per), crate::Backend::Sqlite) => per.sqlite.as_deref(),
        }
    }
}

/// Where `migration_version` looks when the check names no table or column: Alembic's.
pub const DEFAULT_MIGRATION_TABLE: &str = "alembic_version";
pub const DEFAULT_MIGRATION_COLUMN: &str = "version_num";

/// One live fact about the database that must hold for a task to be done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Check {
    /// Unique within its task.
    pub id: String,
    #[serde(flatten)]
    pub spec: CheckSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The kinds of check and their fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CheckSpec {
    /// An ordinary or partitioned table exists (not a view).
    TableExists(TableRef),
    /// No ordinary or partitioned table of this name exists in the schema.
    TableAbsent(TableRef),
    ColumnExists(ColumnExists),
    ColumnAbsent(ColumnRef),
    /// An index on the table, found by name or by its leading key columns.
    IndexExists(IndexExists),
    RowCount(RowCount),
    /// A row of the migration table holds this revision (Alembic may have several heads).
    MigrationVersion(MigrationVersion),
    /// A read-only query returning one row with one column; passes when it equals `expect`.
    Sql(SqlCheck),
    /// The code under the root matches `pattern` (or `literal`) at most `max_matches` times
    /// (default 0; a higher bound is a ratchet).
    CodeAbsent(CodeSearch),
    /// The code under the root matches at least `min_matches` times (default 1).
    CodePresent(CodeSearch),
    /// A file or folder exists under the code root (a folder holding only ignored files does
    /// not count).
    PathExists(PathRef),
    /// No file or folder of that path exists under the code root (a folder left holding only
    /// ignored leftovers such as `__pycache__` is gone).
    PathAbsent(PathRef),
    /// Every revision in the migration files is applied: the files (read, never run) against
    /// the registry table the tool keeps in the database.
    MigrationsApplied(MigrationsApplied),
    /// None of these columns that the database still has is mentioned in the code (as a whole
    /// word) under `paths`: dropping them breaks nothing that reads them by name.
    ColumnsUnreferenced(ColumnsUnreferenced),
    /// A constraint on the table matches every field given.
    ConstraintExists(ConstraintSpec),
    /// No constraint on the table matches the fields given (a table that is gone has none).
    ConstraintAbsent(ConstraintSpec),
    /// An enum type's labels: exactly these in order, or at least these.
    EnumValues(EnumValues),
    /// A view (or, with `materialized`, a materialized view) exists, showing `columns`.
    ViewExists(ViewSpec),
    ViewAbsent(ViewSpec),
    SequenceExists(SequenceRef),
    /// An extension is installed, at `version` or later.
    ExtensionExists(ExtensionSpec),
    SchemaExists(SchemaRef),
    SchemaAbsent(SchemaRef),
    /// A function or procedure, by name and optionally argument types, result and language.
    FunctionExists(FunctionSpec),
    /// No function or procedure of that name (and `args`, when given) exists.
    FunctionAbsent(FunctionSpec),
    TriggerExists(TriggerSpec),
    TriggerAbsent(TriggerSpec),
    /// A role has (`has: true`) or lacks (`has: false`) privileges on an object.
    Privilege(PrivilegeSpec),
    /// A read-only query returns exactly these rows, or none.
    RowsMatch(RowsMatch),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ColumnsUnreferenced {
    pub table: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub columns: Vec<String>,
    /// gitignore-style globs under the code root; every file when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

impl ColumnsUnreferenced {
    /// The search for one column's name: a whole word, anywhere in scope.
    pub fn search(&self, column: &str) -> CodeSearch {
        CodeSearch {
            pattern: None,
            literal: Some(column.to_string()),
            word: true,
            ignore_case: false,
            paths: self.paths.clone(),
            exclude: self.exclude.clone(),
            max_matches: None,
            min_matches: None,
        }
    }
}

/// The migration tools whose files remtrack reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationTool {
    Alembic,
    /// golang-migrate: `<version>_<name>.up.<ext>` files, one `schema_migrations` row.
    GolangMigrate,
    /// Flyway: `V<version>__<description>.sql` and `R__<description>.sql` files against
    /// `flyway_schema_history`, checksums compared.
    Flyway,
    /// sqitch: `sqitch.plan` (changes, tags, reworked changes) against `sqitch.changes`.
    Sqitch,
}

/// The columns of a registry row read together (one value per row, fields joined by this
/// character; a missing value is [`REGISTRY_NULL`]). Neither can occur in a migration registry.
pub const REGISTRY_FIELDS: char = '\u{241F}';
pub const REGISTRY_NULL: &str = "\u{2400}";
/// Flyway's history row, as read: version, checksum, success, type, script, installed rank.
pub const FLYWAY_ROW: &str =
    "version\u{241F}checksum\u{241F}success\u{241F}type\u{241F}script\u{241F}installed_rank";
/// sqitch's deployed change, as read: its name and project.
pub const SQITCH_ROW: &str = "change\u{241F}project";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MigrationsApplied {
    pub tool: MigrationTool,
    /// The folder of revision files, under the code root (`backend/alembic/versions`).
    pub dir: String,
    /// The registry table: Alembic's `alembic_version` (unless `env.py` names another),
    /// golang-migrate's `schema_migrations`, Flyway's `flyway_schema_history`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

impl MigrationsApplied {
    pub fn registry_table(&self) -> &str {
        self.table.as_deref().unwrap_or(match self.tool {
            MigrationTool::Alembic => DEFAULT_MIGRATION_TABLE,
            MigrationTool::GolangMigrate => "schema_migrations",
            MigrationTool::Flyway => "flyway_schema_history",
            MigrationTool::Sqitch => "changes",
        })
    }

    /// The registry's schema: sqitch keeps its own, `sqitch`, unless the check names another.
    pub fn registry_schema(&self) -> Option<&str> {
        self.schema.as_deref().or(match self.tool {
            MigrationTool::Sqitch => Some("sqitch"),
            _ => None,
        })
    }

    /// The registry's columns the check reads.
    pub fn registry_columns(&self) -> &'static [&'static str] {
        match self.tool {
            MigrationTool::Alembic => &[DEFAULT_MIGRATION_COLUMN],
            MigrationTool::GolangMigrate => &["version", "dirty"],
            MigrationTool::Flyway => &[FLYWAY_ROW],
            MigrationTool::Sqitch => &[SQITCH_ROW],
        }
    }
}

/// A search of the code under the root: a regular expression or a literal, in some paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CodeSearch {
    /// A regular expression (Rust `regex` syntax: linear time, no look-around).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Plain text, matched as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub literal: Option<String>,
    /// Only whole words: `session_id` but not `user_session_id`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub word: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_case: bool,
    /// gitignore-style globs under the root; every file when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// `code_absent` only: how many matches may remain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_matches: Option<u64>,
    /// `code_present` only: how many matches there must be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_matches: Option<u64>,
}

impl CodeSearch {
    /// What is searched for, as a person reads it.
    pub fn shown(&self) -> String {
        match (&self.literal, &self.pattern) {
            (Some(literal), _) => format!("\"{literal}\""),
            (None, Some(pattern)) => format!("/{pattern}/"),
            (None, None) => String::new(),
        }
    }
}

/// A path under the code root, `/`-separated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PathRef {
    pub path: String,
}

/// A table, by name and optional schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TableRef {
    pub table: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

/// A column of a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ColumnRef {
    pub table: String,
    pub column: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ColumnExists {
    pub table: String,
    pub column: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Compared by meaning: `varchar(50)` matches `character varying(50)`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nullable: Option<bool>,
    /// An SQL expression as written in a migration: `'discovery'`, `'{}'`, `now()`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// `GENERATED ALWAYS` or `BY DEFAULT AS IDENTITY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    /// A generated (computed, stored) column's expression, compared by meaning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
    /// The column's collation (`C`, `und-x-icu`); the type's default when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// The column's comment, exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// How an identity column takes its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Identity {
    Always,
    ByDefault,
}

impl Identity {
    pub fn sql(self) -> &'static str {
        match self {
            Identity::Always => "GENERATED ALWAYS AS IDENTITY",
            Identity::ByDefault => "GENERATED BY DEFAULT AS IDENTITY",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IndexExists {
    pub table: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique: Option<bool>,
    /// A partial index's predicate, compared by meaning; `true`-only indexes have none.
    #[serde(rename = "where", default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// The access method: `btree`, `gin`, `gist`, `brin`, `hash`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Non-key columns (`INCLUDE (…)`), in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
    /// `false` asks for an index left invalid; by default an invalid index is no index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RowCount {
    pub table: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MigrationVersion {
    pub revision: String,
    /// The revision files (Alembic's versions folder, under the code root): with them, a
    /// revision is applied when it is recorded or an ancestor of a recorded one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

impl MigrationVersion {
    /// The table holding the revisions: Alembic's unless the check names another.
    pub fn migration_table(&self) -> &str {
        self.table.as_deref().unwrap_or(DEFAULT_MIGRATION_TABLE)
    }

    pub fn migration_column(&self) -> &str {
        self.column.as_deref().unwrap_or(DEFAULT_MIGRATION_COLUMN)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SqlCheck {
    pub query: DialectSql,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<serde_json::Value>,
}

impl CheckSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            CheckSpec::TableExists(_) => "table_exists",
            CheckSpec::TableAbsent(_) => "table_absent",
            CheckSpec::ColumnExists(_) => "column_exists",
            CheckSpec::ColumnAbsent(_) => "column_absent",
            CheckSpec::IndexExists(_) => "index_exists",
            CheckSpec::RowCount(_) => "row_count",
            CheckSpec::MigrationVersion(_) => "migration_version",
            CheckSpec::Sql(_) => "sql",
            CheckSpec::CodeAbsent(_) => "code_absent",
            CheckSpec::CodePresent(_) => "code_present",
            CheckSpec::PathExists(_) => "path_exists",
            CheckSpec::PathAbsent(_) => "path_absent",
            CheckSpec::MigrationsApplied(_) => "migrations_applied",
            CheckSpec::ColumnsUnreferenced(_) => "columns_unreferenced",
            CheckSpec::ConstraintExists(_) => "constraint_exists",
            CheckSpec::ConstraintAbsent(_) => "constraint_absent",
            CheckSpec::EnumValues(_) => "enum_values",
            CheckSpec::ViewExists(_) => "view_exists",
            CheckSpec::ViewAbsent(_) => "view_absent",
            CheckSpec::SequenceExists(_) => "sequence_exists",
            CheckSpec::ExtensionExists(_) => "extension_exists",
            CheckSpec::SchemaExists(_) => "schema_exists",
            CheckSpec::SchemaAbsent(_) => "schema_absent",
            CheckSpec::FunctionExists(_) => "function_exists",
            CheckSpec::FunctionAbsent(_) => "function_absent",
            CheckSpec::TriggerExists(_) => "trigger_exists",
            CheckSpec::TriggerAbsent(_) => "trigger_absent",
            CheckSpec::Privilege(_) => "privilege",
            CheckSpec::RowsMatch(_) => "rows_match",
        }
    }

    /// Whether the check reads the code rather than the database: it needs no connection and
    /// stays live while the database is offline.
    pub fn is_code(&self) -> bool {
        matches!(
            self,
            CheckSpec::CodeAbsent(_)
                | CheckSpec::CodePresent(_)
                | CheckSpec::PathExists(_)
                | CheckSpec::PathAbsent(_)
        )
    }

    /// The table the check reads, when it names one.
    pub fn table(&self) -> Option<&str> {
        match self {
            CheckSpec::TableExists(TableRef { table, .. })
            | CheckSpec::TableAbsent(TableRef { table, .. })
            | CheckSpec::ColumnExists(ColumnExists { table, .. })
            | CheckSpec::ColumnAbsent(ColumnRef { table, .. })
            | CheckSpec::IndexExists(IndexExists { table, .. })
            | CheckSpec::RowCount(RowCount { table, .. }) => Some(table),
            CheckSpec::MigrationVersion(m) => m.table.as_deref(),
            CheckSpec::MigrationsApplied(m) => Some(m.registry_table()),
            CheckSpec::ColumnsUnreferenced(c) => Some(&c.table),
            CheckSpec::ConstraintExists(c) | CheckSpec::ConstraintAbsent(c) => Some(&c.table),
            CheckSpec::TriggerExists(t) | CheckSpec::TriggerAbsent(t) => Some(&t.table),
            CheckSpec::ViewExists(v) | CheckSpec::ViewAbsent(v) => Some(&v.view),
            CheckSpec::SequenceExists(s) => Some(&s.sequence),
            CheckSpec::Privilege(p) => p.table.as_deref().or(p.sequence.as_deref()),
            CheckSpec::Sql(_)
            | CheckSpec::CodeAbsent(_)
            | CheckSpec::CodePresent(_)
            | CheckSpec::PathExists(_)
            | CheckSpec::PathAbsent(_)
            | CheckSpec::EnumValues(_)
            | CheckSpec::ExtensionExists(_)
            | CheckSpec::SchemaExists(_)
            | CheckSpec::SchemaAbsent(_)
            | CheckSpec::FunctionExists(_)
            | CheckSpec::FunctionAbsent(_)
            | CheckSpec::RowsMatch(_) => None,
        }
    }

    /// The schema the check names, if any (`None`: resolved like an unqualified name).
    pub fn schema(&self) -> Option<&str> {
        match self {
            CheckSpec::TableExists(TableRef { schema, .. })
            | CheckSpec::TableAbsent(TableRef { schema, .. })
            | CheckSpec::ColumnExists(ColumnExists { schema, .. })
            | CheckSpec::ColumnAbsent(ColumnRef { schema, .. })
            | CheckSpec::IndexExists(IndexExists { schema, .. })
            | CheckSpec::RowCount(RowCount { schema, .. })
            | CheckSpec::MigrationVersion(MigrationVersion { schema, .. })
            | CheckSpec::MigrationsApplied(MigrationsApplied { schema, .. })
            | CheckSpec::ColumnsUnreferenced(ColumnsUnreferenced { schema, .. })
            | CheckSpec::ConstraintExists(ConstraintSpec { schema, .. })
            | CheckSpec::ConstraintAbsent(ConstraintSpec { schema, .. })
            | CheckSpec::TriggerExists(TriggerSpec { schema, .. })
            | CheckSpec::TriggerAbsent(TriggerSpec { schema, .. })
            | CheckSpec::ViewExists(ViewSpec { schema, .. })
            | CheckSpec::ViewAbsent(ViewSpec { schema, .. })
            | CheckSpec::SequenceExists(SequenceRef { schema, .. })
            | CheckSpec::EnumValues(EnumValues { schema, .. })
            | CheckSpec::FunctionExists(FunctionSpec { schema, .. })
            | CheckSpec::FunctionAbsent(FunctionSpec { schema, .. }) => schema.as_deref(),
            CheckSpec::Privilege(p) => p.object().2,
            CheckSpec::Sql(_)
            | CheckSpec::CodeAbsent(_)
            | CheckSpec::CodePresent(_)
            | CheckSpec::PathExists(_)
            | CheckSpec::PathAbsent(_)
            | CheckSpec::ExtensionExists(_)
            | CheckSpec::SchemaExists(_)
            | CheckSpec::SchemaAbsent(_)
            | CheckSpec::RowsMatch(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Risk {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub description: String,
    /// Task ids, or `task-id/check-id`.
    pub watch: Vec<String>,
}
