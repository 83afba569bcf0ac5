//! What one refresh learned about the database, before any check is judged.

use std::collections::HashMap;

use super::needs::DataItem;

/// What kind of relation a catalog entry is; only tables count for `table_exists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationKind {
    Table,
    PartitionedTable,
    View,
    MaterializedView,
    ForeignTable,
    Other,
}

impl RelationKind {
    pub fn is_table(self) -> bool {
        matches!(self, RelationKind::Table | RelationKind::PartitionedTable)
    }

    pub fn noun(self) -> &'static str {
        match self {
            RelationKind::Table => "table",
            RelationKind::PartitionedTable => "partitioned table",
            RelationKind::View => "view",
            RelationKind::MaterializedView => "materialized view",
            RelationKind::ForeignTable => "foreign table",
            RelationKind::Other => "relation",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    /// As the catalog spells it, e.g. `character varying(50)`.
    pub data_type: String,
    pub not_null: bool,
    /// As the catalog spells it, e.g. `'discovery'::character varying`.
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    pub name: String,
    /// Key columns in order; `None` for an expression.
    pub columns: Vec<Option<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    pub schema: String,
    pub name: String,
    pub kind: RelationKind,
    /// Whether the connected role may read its rows.
    pub readable: bool,
    pub columns: Vec<Column>,
    pub indexes: Vec<Index>,
}

/// The catalog entries for every relation whose name (in any case, any schema) the plan uses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SchemaSnapshot {
    /// Sorted by ASCII-lower-cased name, so a name and its case variants sit together.
    relations: Vec<Relation>,
}

impl SchemaSnapshot {
    pub fn new(mut relations: Vec<Relation>) -> SchemaSnapshot {
        relations.sort_by_cached_key(|r| r.name.to_ascii_lowercase());
        SchemaSnapshot { relations }
    }

    pub fn relations(&self) -> &[Relation] {
        &self.relations
    }

    /// Adds relations not already known (same schema and name).
    pub fn extend(&mut self, more: Vec<Relation>) {
        let new: Vec<Relation> = more
            .into_iter()
            .filter(|r| self.find(&r.schema, &r.name).is_none())
            .collect();
        let mut relations = std::mem::take(&mut self.relations);
        relations.extend(new);
        *self = SchemaSnapshot::new(relations);
    }

    /// Every relation whose name equals `name` ignoring ASCII case (a binary search: a refresh
    /// judges thousands of checks against hundreds of relations).
    fn same_name_any_case(&self, name: &str) -> &[Relation] {
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

    /// Whether a relation of exactly this name exists in any schema.
    pub fn has_name(&self, name: &str) -> bool {
        self.same_name_any_case(name).iter().any(|r| r.name == name)
    }

    pub fn find(&self, schema: &str, name: &str) -> Option<&Relation> {
        self.same_name_any_case(name)
            .iter()
            .find(|r| r.schema == schema && r.name == name)
    }

    /// The table `schema.name`, if one exists (not a view).
    pub fn table(&self, schema: &str, name: &str) -> Option<&Relation> {
        self.find(schema, name).filter(|r| r.kind.is_table())
    }

    /// Relations that a person may have meant: same name elsewhere, or other case.
    pub fn near_misses(&self, schema: &str, name: &str) -> Vec<&Relation> {
        self.same_name_any_case(name)
            .iter()
            .filter(|r| !(r.schema == schema && r.name == name && r.kind.is_table()))
            .collect()
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
    Error(String),
}
