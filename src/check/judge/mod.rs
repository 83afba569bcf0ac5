//! Judging each check against the facts of a refresh: pure code, no I/O, one file per family.
//!
//! A judge takes its check's named spec and the [`Facts`] and returns a [`Verdict`] a person can
//! read: what was found, and what was expected when they differ.

mod columns;
mod data;
mod indexes;
mod sql;
mod tables;
#[cfg(test)]
mod tests;

use super::Verdict;
use super::facts::{DataFacts, Relation, SchemaSnapshot, SqlOutcome};
use crate::Backend;
use crate::plan::CheckSpec;

/// Everything a refresh learned, as the judges see it.
pub(crate) struct Facts<'a> {
    pub backend: Backend,
    pub schema: &'a SchemaSnapshot,
    pub data: &'a DataFacts,
}

/// The verdict of `spec` given what the refresh found. `sql` is the outcome of the check's own
/// query when it is a `sql` check.
pub(crate) fn judge(spec: &CheckSpec, facts: &Facts<'_>, sql: Option<&SqlOutcome>) -> Verdict {
    match spec {
        CheckSpec::TableExists(table) => tables::table_exists(facts, table),
        CheckSpec::TableAbsent(table) => tables::table_absent(facts, table),
        CheckSpec::ColumnExists(column) => columns::column_exists(facts, column),
        CheckSpec::ColumnAbsent(column) => columns::column_absent(facts, column),
        CheckSpec::IndexExists(index) => indexes::index_exists(facts, index),
        CheckSpec::RowCount(count) => data::row_count(facts, count),
        CheckSpec::MigrationVersion(migration) => data::migration_version(facts, migration),
        CheckSpec::Sql(check) => sql::sql_verdict(sql, check),
    }
}

impl Facts<'_> {
    fn schema_name<'s>(&self, schema: Option<&'s str>) -> &'s str {
        schema.unwrap_or(self.backend.default_schema())
    }

    /// `name`, qualified by its schema when that is not the default one.
    fn display(&self, schema: &str, name: &str) -> String {
        if schema == self.backend.default_schema() {
            name.to_string()
        } else {
            format!("{schema}.{name}")
        }
    }

    fn missing_table(&self, schema: &str, table: &str) -> String {
        let mut evidence = format!("table {} does not exist", self.display(schema, table));
        let hints: Vec<String> = self
            .schema
            .near_misses(schema, table)
            .iter()
            .map(|r| {
                let noun = r.kind.noun();
                if r.schema != schema {
                    format!("a {noun} {} exists in schema {}", r.name, r.schema)
                } else if r.name != table {
                    format!("a {noun} {} exists (names are case-sensitive)", r.name)
                } else {
                    format!("{} is a {noun}, not a table", r.name)
                }
            })
            .collect();
        if !hints.is_empty() {
            evidence.push_str("; ");
            evidence.push_str(&hints.join("; "));
        }
        evidence
    }

    fn table(&self, schema: Option<&str>, table: &str) -> Result<&Relation, String> {
        let schema = self.schema_name(schema);
        self.schema
            .table(schema, table)
            .ok_or_else(|| self.missing_table(schema, table))
    }
}

fn rows(count: u64) -> String {
    if count == 1 {
        "1 row".into()
    } else {
        format!("{count} rows")
    }
}
