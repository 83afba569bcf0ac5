//! The schema vocabulary beyond tables and columns: constraints, enums, views, sequences,
//! extensions, schemas, functions, triggers, privileges and row-level facts. Field names are a
//! contract, like the rest of the plan format.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::DialectSql;

/// The kind of a table constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintType {
    PrimaryKey,
    ForeignKey,
    Unique,
    Check,
    Exclusion,
    NotNull,
}

impl ConstraintType {
    /// As people say it: `primary key`, `foreign key`, `NOT NULL`.
    pub fn noun(self) -> &'static str {
        match self {
            ConstraintType::PrimaryKey => "primary key",
            ConstraintType::ForeignKey => "foreign key",
            ConstraintType::Unique => "unique constraint",
            ConstraintType::Check => "check constraint",
            ConstraintType::Exclusion => "exclusion constraint",
            ConstraintType::NotNull => "NOT NULL constraint",
        }
    }
}

/// What a foreign key does when the row it references is deleted or updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReferentialAction {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl ReferentialAction {
    pub fn sql(self) -> &'static str {
        match self {
            ReferentialAction::NoAction => "NO ACTION",
            ReferentialAction::Restrict => "RESTRICT",
            ReferentialAction::Cascade => "CASCADE",
            ReferentialAction::SetNull => "SET NULL",
            ReferentialAction::SetDefault => "SET DEFAULT",
        }
    }
}

/// `constraint_exists` / `constraint_absent`: a constraint on a table, by type and any of its
/// name, columns (in order), referenced table, check expression (by meaning) and validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConstraintSpec {
    pub table: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(rename = "type")]
    pub constraint_type: ConstraintType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Foreign keys: the table (and columns, and actions) referenced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<References>,
    /// Check constraints: the expression, compared by meaning with the catalog's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// `true`: a constraint added `NOT VALID` and never validated does not count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validated: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct References {
    pub table: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_delete: Option<ReferentialAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_update: Option<ReferentialAction>,
}

/// How `enum_values` compares the labels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnumMatch {
    /// These labels, in this order, and no others.
    #[default]
    Exactly,
    /// At least these labels, in any order.
    Contains,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EnumValues {
    #[serde(rename = "type")]
    pub type_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub values: Vec<String>,
    #[serde(rename = "match", default)]
    pub match_: EnumMatch,
}

/// `view_exists` / `view_absent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ViewSpec {
    pub view: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// A materialized view rather than a plain one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub materialized: bool,
    /// Columns the view must show, in any order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SequenceRef {
    pub sequence: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExtensionSpec {
    pub extension: String,
    /// The lowest installed version that passes (`1.6` passes `1.10`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SchemaRef {
    pub schema: String,
}

/// `function_exists` / `function_absent`: functions and procedures by name and, optionally,
/// argument types (by meaning), result, language and `SECURITY DEFINER`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FunctionSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Input argument types in order (`[]` for none); any overload when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// The result as PostgreSQL states it: `integer`, `SETOF assets`, `trigger`, `void`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returns: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_definer: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TriggerSpec {
    pub table: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub name: String,
    /// The trigger function's name (`schema.name` or a name on the search path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// `true`: the trigger fires (enabled, replica or always); `false`: it is disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `privilege`: what a role may do to a table, schema, sequence or function. `schema`
/// qualifies the table, sequence or function when one is named, and is the object otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PrivilegeSpec {
    /// A role name, or `PUBLIC`.
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// `SELECT`, `INSERT`, …: `has: true` wants every one, `has: false` none of them.
    pub privileges: Vec<String>,
    pub has: bool,
}

/// What a privilege check is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrivilegeObject {
    Table,
    Sequence,
    Function,
    Schema,
}

impl PrivilegeObject {
    pub fn noun(self) -> &'static str {
        match self {
            PrivilegeObject::Table => "table",
            PrivilegeObject::Sequence => "sequence",
            PrivilegeObject::Function => "function",
            PrivilegeObject::Schema => "schema",
        }
    }

    /// The privileges PostgreSQL knows for this kind of object.
    pub fn privileges(self) -> &'static [&'static str] {
        match self {
            PrivilegeObject::Table => &[
                "SELECT",
                "INSERT",
                "UPDATE",
                "DELETE",
                "TRUNCATE",
                "REFERENCES",
                "TRIGGER",
            ],
            PrivilegeObject::Sequence => &["USAGE", "SELECT", "UPDATE"],
            PrivilegeObject::Function => &["EXECUTE"],
            PrivilegeObject::Schema => &["USAGE", "CREATE"],
        }
    }
}

impl PrivilegeSpec {
    /// The object and its name (with the schema that qualifies it, if any).
    pub fn object(&self) -> (PrivilegeObject, &str, Option<&str>) {
        let qualifier = self.schema.as_deref();
        if let Some(table) = &self.table {
            (PrivilegeObject::Table, table, qualifier)
        } else if let Some(sequence) = &self.sequence {
            (PrivilegeObject::Sequence, sequence, qualifier)
        } else if let Some(function) = &self.function {
            (PrivilegeObject::Function, function, qualifier)
        } else {
            (PrivilegeObject::Schema, qualifier.unwrap_or_default(), None)
        }
    }

    /// The privileges asked about, upper-cased, as PostgreSQL names them.
    pub fn privilege_names(&self) -> Vec<String> {
        self.privileges
            .iter()
            .map(|p| p.trim().to_ascii_uppercase())
            .collect()
    }
}

/// What `rows_match` expects: these rows, or none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ExpectedRows {
    /// `"empty"`: the query returns no rows.
    Empty(EmptyWord),
    /// Each row a list of values in column order (a one-column row may be the bare value).
    Rows(Vec<serde_json::Value>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmptyWord {
    Empty,
}

/// `rows_match`: a read-only query's rows against the rows the plan expects (in any order
/// unless `ordered`), or none at all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RowsMatch {
    pub query: DialectSql,
    pub expect: ExpectedRows,
    /// Compare in the order the query returns them (give it an ORDER BY).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ordered: bool,
}

/// More expected rows than this is a data export, not a check.
pub const MAX_EXPECTED_ROWS: usize = 1000;

impl RowsMatch {
    /// The rows expected, each as a list of values.
    pub fn expected_rows(&self) -> Vec<Vec<serde_json::Value>> {
        match &self.expect {
            ExpectedRows::Empty(_) => Vec::new(),
            ExpectedRows::Rows(rows) => rows
                .iter()
                .map(|row| match row {
                    serde_json::Value::Array(values) => values.clone(),
                    scalar => vec![scalar.clone()],
                })
                .collect(),
        }
    }

    /// How many rows to read: enough to show what differs, never the whole table.
    pub fn row_cap(&self) -> usize {
        self.expected_rows().len() + 6
    }
}

impl super::CheckSpec {
    /// What this check asks about that cannot exist on `backend`: such a check is an error
    /// there (never a pass or a fail), and `plan validate --backend` warns about it.
    pub fn unavailable_on(&self, backend: crate::Backend) -> Option<&'static str> {
        use super::CheckSpec as Spec;
        if backend != crate::Backend::Sqlite {
            return None;
        }
        match self {
            Spec::EnumValues(_) => Some("enum types"),
            Spec::SequenceExists(_) => Some("sequences"),
            Spec::ExtensionExists(_) => Some("extensions"),
            Spec::SchemaExists(_) | Spec::SchemaAbsent(_) => Some("schemas"),
            Spec::FunctionExists(_) | Spec::FunctionAbsent(_) => Some("SQL functions"),
            Spec::Privilege(_) => Some("privileges"),
            Spec::ConstraintExists(c) | Spec::ConstraintAbsent(c)
                if c.constraint_type == ConstraintType::Exclusion =>
            {
                Some("exclusion constraints")
            }
            Spec::ConstraintExists(c) if c.validated == Some(false) => {
                Some("constraints that are not validated (NOT VALID)")
            }
            Spec::TriggerExists(t) | Spec::TriggerAbsent(t) if t.function.is_some() => {
                Some("trigger functions (a SQLite trigger holds its statements)")
            }
            Spec::TriggerExists(t) if t.enabled == Some(false) => Some("disabled triggers"),
            Spec::ColumnExists(c) if c.identity.is_some() => Some("identity columns"),
            Spec::ColumnExists(c) if c.comment.is_some() => Some("column comments"),
            Spec::IndexExists(i) if i.include.is_some() => Some("INCLUDE columns"),
            Spec::IndexExists(i) if i.valid == Some(false) => Some("invalid indexes"),
            Spec::IndexExists(i)
                if i.method
                    .as_deref()
                    .is_some_and(|m| !m.eq_ignore_ascii_case("btree")) =>
            {
                Some("index methods other than btree")
            }
            _ => None,
        }
    }
}
