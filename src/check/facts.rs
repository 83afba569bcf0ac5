//! What one refresh learned about the database, before any check is judged.

use std::collections::HashMap;

use super::needs::DataItem;

/// What kind of relation a catalog entry is; only tables count for `table_exists`, but every
/// kind takes part in name resolution, as in PostgreSQL (a sequence `assets` earlier on the
/// search path hides a table `assets` later on it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RelationKind {
    Table,
    PartitionedTable,
    View,
    MaterializedView,
    ForeignTable,
    Sequence,
    Index,
    CompositeType,
    #[default]
    Other,
}

impl RelationKind {
    pub fn is_table(self) -> bool {
        matches!(self, RelationKind::Table | RelationKind::PartitionedTable)
    }

    /// Whether it has rows one may be granted to read: tables, views, foreign tables.
    pub fn is_readable_kind(self) -> bool {
        matches!(
            self,
            RelationKind::Table
                | RelationKind::PartitionedTable
                | RelationKind::View
                | RelationKind::MaterializedView
                | RelationKind::ForeignTable
        )
    }

    pub fn noun(self) -> &'static str {
        match self {
            RelationKind::Table => "table",
            RelationKind::PartitionedTable => "partitioned table",
            RelationKind::View => "view",
            RelationKind::MaterializedView => "materialized view",
            RelationKind::ForeignTable => "foreign table",
            RelationKind::Sequence => "sequence",
            RelationKind::Index => "index",
            RelationKind::CompositeType => "composite type",
            RelationKind::Other => "relation",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Column {
    pub name: String,
    /// As the catalog spells it, e.g. `character varying(50)` (`format_type`: qualified by its
    /// schema only when that schema is not on the search path).
    pub data_type: String,
    pub not_null: bool,
    /// As the catalog spells it, e.g. `'discovery'::character varying`.
    pub default: Option<String>,
    /// The type's oid (PostgreSQL), to tell `public.citext` from `legacy.citext`.
    pub type_oid: Option<u32>,
    /// `GENERATED … AS IDENTITY`: the column takes its values from a sequence.
    pub identity: bool,
    /// How an identity column takes its values (`None` when not known or not one).
    pub identity_kind: Option<crate::plan::Identity>,
    /// A generated column: `default` holds its expression, which is not a default.
    pub generated: bool,
    /// Collation and comment: read only for the columns of tables a check asks about.
    pub details: Option<ColumnDetails>,
}

/// What only some checks ask of a column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnDetails {
    /// `None`: the type's default collation.
    pub collation: Option<String>,
    pub comment: Option<String>,
}

/// A table constraint as the catalog keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    pub name: String,
    pub constraint_type: crate::plan::ConstraintType,
    /// The constrained columns, in order.
    pub columns: Vec<String>,
    /// Foreign keys: `(schema, table)` referenced, its columns, and the actions.
    pub references: Option<ForeignKeyTarget>,
    /// Check constraints: the expression as the catalog prints it.
    pub expression: Option<String>,
    pub validated: bool,
    /// The whole definition as the catalog prints it, for evidence.
    pub definition: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKeyTarget {
    pub schema: String,
    pub table: String,
    pub columns: Vec<String>,
    pub on_delete: crate::plan::ReferentialAction,
    pub on_update: crate::plan::ReferentialAction,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    pub name: String,
    /// `(schema, name)` of the function it runs (PostgreSQL).
    pub function: Option<(String, String)>,
    pub enabled: bool,
}

/// A type of a name an `enum_values` check uses, in any schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeEntry {
    pub schema: String,
    pub name: String,
    /// `enum`, `domain`, `composite`, `base`, …
    pub kind: String,
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    pub name: String,
    /// The installed version, `None` when not installed.
    pub installed: Option<String>,
    pub schema: Option<String>,
    /// The version `CREATE EXTENSION` would install, when the server has it.
    pub available: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaEntry {
    pub name: String,
    pub owner: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub schema: String,
    pub name: String,
    /// `function`, `procedure`, `aggregate`, `window function`.
    pub kind: String,
    /// Input argument types as the catalog formats them.
    pub args: Vec<String>,
    /// `integer`, `SETOF assets`, `trigger`, `TABLE(id integer)`.
    pub result: String,
    pub language: String,
    pub security_definer: bool,
}

/// What a role holds on one object of the name a `privilege` check asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: String,
    pub object: crate::plan::PrivilegeObject,
    pub schema: String,
    pub name: String,
    /// A function's argument types, to tell overloads apart.
    pub signature: Option<String>,
    /// Of the privileges asked about, the ones the role holds (directly, through a role it
    /// belongs to, or through PUBLIC), upper-case.
    pub held: Vec<String>,
    pub owner: String,
    /// Of the privileges asked about, those the role holds on at least one column of a table.
    pub on_some_column: Vec<String>,
}

/// A type the plan names with its schema (`public.citext`), as the catalog knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedType {
    pub schema: String,
    pub name: String,
    pub oid: u32,
    /// The oid of its array type (`citext[]`), 0 when it has none.
    pub array_oid: u32,
}

/// The schemas a name without one is looked up in, in order, as the checking session sees them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchPath {
    /// Every schema searched, in order, implicit ones included (`pg_catalog`, the session's
    /// temporary schema): `current_schemas(true)`.
    pub effective: Vec<String>,
    /// The path as people set it, of schemas that exist: `current_schemas(false)`.
    pub shown: Vec<String>,
    /// Schemas the path names that exist but the role may not use (no USAGE): PostgreSQL leaves
    /// them out of the path, so what is in them cannot be seen, present or absent.
    pub unusable: Vec<String>,
}

impl SearchPath {
    pub fn of(schemas: &[&str]) -> SearchPath {
        let schemas: Vec<String> = schemas.iter().map(|s| s.to_string()).collect();
        SearchPath {
            effective: schemas.clone(),
            shown: schemas,
            unusable: Vec::new(),
        }
    }

    /// `migration, public` for evidence and headers.
    pub fn display(&self) -> String {
        if self.shown.is_empty() {
            "empty".to_string()
        } else {
            self.shown.join(", ")
        }
    }

    /// Where `schema` stands on the path, `None` when it is not on it.
    pub(crate) fn position(&self, schema: &str) -> Option<usize> {
        self.effective.iter().position(|s| s == schema)
    }
}

/// What a name means on the search path, or in the schema a check names.
#[derive(Debug, Clone, Copy)]
pub enum Resolved<'a> {
    /// The name means this relation (of any kind).
    Relation(&'a Relation),
    /// Nothing of that name where PostgreSQL would look.
    Nothing,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Index {
    pub name: String,
    /// Key columns in order; `None` for an expression.
    pub columns: Vec<Option<String>>,
    /// False for an index a failed `CREATE INDEX CONCURRENTLY` left behind: it is not used.
    pub valid: bool,
    pub unique: bool,
    pub primary: bool,
    /// A partial index's predicate as the catalog prints it.
    pub predicate: Option<String>,
    /// `btree`, `gin`, …
    pub method: String,
    /// `INCLUDE` columns, in order.
    pub include: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Relation {
    pub schema: String,
    pub name: String,
    pub kind: RelationKind,
    /// Whether the connected role may read its rows.
    pub readable: bool,
    pub columns: Vec<Column>,
    pub indexes: Vec<Index>,
    /// Read only for tables a constraint or trigger check names.
    pub constraints: Vec<Constraint>,
    pub triggers: Vec<Trigger>,
    /// A view's definition, read only for views a check names.
    pub definition: Option<String>,
    /// SQLite: why the table's CREATE statement could not be read, when it could not; its check
    /// constraints, collations, generated expressions and key names are then unknown.
    pub unreadable_sql: Option<String>,
}

/// The catalog entries for every relation whose name (in any case, any schema) the plan uses,
/// and the search path they were read under.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SchemaSnapshot {
    /// Sorted by ASCII-lower-cased name, so a name and its case variants sit together.
    relations: Vec<Relation>,
    pub search_path: SearchPath,
    /// Types the plan names with a schema.
    pub named_types: Vec<NamedType>,
    /// The rest of the vocabulary, each read only for the names the plan uses.
    pub types: Vec<TypeEntry>,
    pub extensions: Vec<Extension>,
    pub schemas: Vec<SchemaEntry>,
    pub functions: Vec<Function>,
    pub grants: Vec<Grant>,
    /// The roles privilege checks name that exist (`PUBLIC` always does).
    pub roles: Vec<String>,
}

impl SchemaSnapshot {
    pub fn new(mut relations: Vec<Relation>, search_path: SearchPath) -> SchemaSnapshot {
        relations.sort_by_cached_key(|r| r.name.to_ascii_lowercase());
        SchemaSnapshot {
            relations,
            search_path,
            ..SchemaSnapshot::default()
        }
    }

    /// What `name` means: in `schema` when the check names one, else the first schema on the
    /// search path holding a relation of exactly that name, as PostgreSQL resolves it.
    pub fn resolve<'a>(&'a self, schema: Option<&str>, name: &str) -> Resolved<'a> {
        let found = match schema {
            Some(schema) => self.find(schema, name),
            None => self
                .same_name(name)
                .filter_map(|r| Some((self.search_path.position(&r.schema)?, r)))
                .min_by_key(|(position, _)| *position)
                .map(|(_, r)| r),
        };
        found.map_or(Resolved::Nothing, Resolved::Relation)
    }

    /// Relations of exactly this name on the search path that `resolved` hides (later on it).
    pub fn hidden_by<'a>(&'a self, resolved: &Relation) -> impl Iterator<Item = &'a Relation> {
        let (name, schema) = (resolved.name.clone(), resolved.schema.clone());
        let at = self.search_path.position(&schema);
        self.same_name_any_case(&name).iter().filter(move |r| {
            r.name == name
                && r.schema != schema
                && self
                    .search_path
                    .position(&r.schema)
                    .is_some_and(|p| Some(p) > at)
        })
    }

    /// Relations of exactly this name in schemas off the search path.
    pub fn off_path<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Relation> {
        self.same_name(name)
            .filter(|r| self.search_path.position(&r.schema).is_none())
    }

    /// Every relation of exactly this name, in any schema.
    pub(crate) fn same_name<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Relation> {
        self.same_name_any_case(name)
            .iter()
            .filter(move |r| r.name == name)
    }

    pub fn relations(&self) -> &[Relation] {
        &self.relations
    }

    /// Every relation whose name equals `name` ignoring ASCII case (a binary search: a refresh
    /// judges thousands of checks against hundreds of relations).
    pub(crate) fn same_name_any_case(&self, name: &str) -> &[Relation] {
        let key: Vec<u8> = name.bytes().map(|b| b.to_ascii_lowercase()).collect();
        let start = self.relations.partition_point(|r| {
            r.name
                .bytes()
                .map(|b| b.to_ascii_lowercase())
                .lt(key.iter().copied())
        });
        let end = start
            + self.relations[start..]
                .iter()
                .take_while(|r| r.name.eq_ignore_ascii_case(name))
                .count();
        &self.relations[start..end]
    }

    pub fn find(&self, schema: &str, name: &str) -> Option<&Relation> {
        self.same_name_any_case(name)
            .iter()
            .find(|r| r.schema == schema && r.name == name)
    }
}

/// Row counts and migration versions: keyed by the relation they were read from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataFacts {
    /// `(schema, table)` to the row count, or why it could not be read.
    pub row_counts: HashMap<(String, String), Result<u64, String>>,
    /// `(schema, table, column)` to the values it holds, or why they could not be read.
    pub migration_versions: HashMap<(String, String, String), Result<Vec<String>, String>>,
}

impl DataFacts {
    pub(crate) fn record(&mut self, item: &DataItem, values: Result<Vec<String>, String>) {
        let key = (item.schema().to_string(), item.table().to_string());
        match item.column() {
            None => {
                let count = values.and_then(|values| {
                    values
                        .first()
                        .and_then(|v| v.parse::<u64>().ok())
                        .ok_or_else(|| "row count not returned".to_string())
                });
                self.row_counts.insert(key, count);
            }
            Some(column) => {
                self.migration_versions
                    .insert((key.0, key.1, column.to_string()), values);
            }
        }
    }
}

/// What a `sql` check's query returned.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlOutcome {
    Value(serde_json::Value),
    /// A `rows_match` query's rows (each its values in column order), at most as many as
    /// were asked for.
    Rows(Vec<Vec<serde_json::Value>>),
    Error(String),
}

/// One screened query to run: a `sql` check's single value, or up to `rows` rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryJob {
    pub body: String,
    pub rows: Option<usize>,
}
