//! Judging one check against the facts of a refresh: pure code, no I/O.

use serde_json::Value;

use super::facts::{DataFacts, Relation, SchemaSnapshot, SqlOutcome};
use super::normalize::{canonical_default, canonical_type, same_default, same_type};
use super::{CheckStatus, Verdict};
use crate::Backend;
use crate::plan::CheckSpec;

/// The verdict of `spec` given what the refresh found. `sql` is the outcome of the check's own
/// query when it is a `sql` check.
pub fn evaluate(
    spec: &CheckSpec,
    backend: Backend,
    schema: &SchemaSnapshot,
    data: &DataFacts,
    sql: Option<&SqlOutcome>,
) -> Verdict {
    let judge = Judge {
        backend,
        schema,
        data,
    };
    match spec {
        CheckSpec::TableExists { table, schema } => judge.table_exists(schema.as_deref(), table),
        CheckSpec::TableAbsent { table, schema } => judge.table_absent(schema.as_deref(), table),
        CheckSpec::ColumnExists {
            table,
            column,
            schema,
            data_type,
            nullable,
            default,
        } => judge.column_exists(
            schema.as_deref(),
            table,
            column,
            data_type.as_deref(),
            *nullable,
            default.as_deref(),
        ),
        CheckSpec::ColumnAbsent {
            table,
            column,
            schema,
        } => judge.column_absent(schema.as_deref(), table, column),
        CheckSpec::IndexExists {
            table,
            schema,
            columns,
            name,
        } => judge.index_exists(
            schema.as_deref(),
            table,
            columns.as_deref(),
            name.as_deref(),
        ),
        CheckSpec::RowCount {
            table,
            schema,
            equals,
            at_most,
            at_least,
        } => judge.row_count(schema.as_deref(), table, (*equals, *at_most, *at_least)),
        CheckSpec::MigrationVersion {
            revision,
            table,
            column,
            schema,
        } => judge.migration_version(
            schema.as_deref(),
            table
                .as_deref()
                .unwrap_or(crate::check::refresh::DEFAULT_MIGRATION_TABLE),
            column
                .as_deref()
                .unwrap_or(crate::check::refresh::DEFAULT_MIGRATION_COLUMN),
            revision,
        ),
        CheckSpec::Sql { expect, .. } => {
            sql_verdict(sql, expect.as_ref().unwrap_or(&Value::Bool(true)))
        }
    }
}

struct Judge<'a> {
    backend: Backend,
    schema: &'a SchemaSnapshot,
    data: &'a DataFacts,
}

impl Judge<'_> {
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

    fn table_exists(&self, schema: Option<&str>, table: &str) -> Verdict {
        match self.table(schema, table) {
            Ok(relation) => Verdict::pass(format!(
                "{} {} exists ({} columns)",
                relation.kind.noun(),
                self.display(&relation.schema, table),
                relation.columns.len()
            )),
            Err(evidence) => Verdict::fail(evidence),
        }
    }

    fn table_absent(&self, schema: Option<&str>, table: &str) -> Verdict {
        let schema_name = self.schema_name(schema);
        match self.table(schema, table) {
            Ok(relation) => {
                let rows = match self
                    .data
                    .row_counts
                    .get(&(relation.schema.clone(), table.to_string()))
                {
                    Some(Ok(count)) => format!(" with {}", rows(*count)),
                    _ => String::new(),
                };
                Verdict::fail(format!(
                    "table {} still exists{rows}",
                    self.display(schema_name, table)
                ))
            }
            Err(evidence) => Verdict::pass(evidence),
        }
    }

    fn column_exists(
        &self,
        schema: Option<&str>,
        table: &str,
        column: &str,
        data_type: Option<&str>,
        nullable: Option<bool>,
        default: Option<&str>,
    ) -> Verdict {
        let relation = match self.table(schema, table) {
            Ok(relation) => relation,
            Err(evidence) => return Verdict::fail(format!("column {column} missing: {evidence}")),
        };
        let table_name = self.display(&relation.schema, table);
        let Some(found) = relation.columns.iter().find(|c| c.name == column) else {
            let mut evidence = format!("column {column} missing from {table_name}");
            if let Some(other) = relation
                .columns
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(column))
            {
                evidence.push_str(&format!(
                    "; a column {} exists (names are case-sensitive)",
                    other.name
                ));
            }
            return Verdict::fail(evidence);
        };
        let mut problems = Vec::new();
        if let Some(expected) = data_type
            && !same_type(&found.data_type, expected)
        {
            problems.push(format!("type is {}, expected {expected}", found.data_type));
        }
        if let Some(expected) = nullable
            && expected == found.not_null
        {
            problems.push(if found.not_null {
                "column is NOT NULL, expected nullable".to_string()
            } else {
                "column is nullable, expected NOT NULL".to_string()
            });
        }
        if let Some(expected) = default {
            match &found.default {
                Some(actual) if same_default(actual, expected) => {}
                Some(actual) => problems.push(format!("default is {actual}, expected {expected}")),
                None => problems.push(format!("no default, expected {expected}")),
            }
        }
        let verdict = if problems.is_empty() {
            let mut described = found.data_type.clone();
            if let Some(default) = &found.default {
                described.push_str(&format!(", default {default}"));
            }
            if found.not_null {
                described.push_str(", not null");
            }
            Verdict::pass(format!("column {table_name}.{column} exists ({described})"))
        } else {
            Verdict::fail(format!("{table_name}.{column}: {}", problems.join("; ")))
        };
        let mut verdict = verdict
            .with_fact("type", found.data_type.clone())
            .with_fact("not_null", found.not_null)
            .with_fact("default", found.default.clone());
        if let Some(expected) = data_type {
            verdict = verdict.with_fact("expected_type", canonical_type(expected));
        }
        if let Some(expected) = default {
            verdict = verdict.with_fact("expected_default", canonical_default(expected));
        }
        verdict
    }

    fn column_absent(&self, schema: Option<&str>, table: &str, column: &str) -> Verdict {
        let relation = match self.table(schema, table) {
            Ok(relation) => relation,
            Err(evidence) => return Verdict::pass(format!("column {column} is gone: {evidence}")),
        };
        let table_name = self.display(&relation.schema, table);
        match relation.columns.iter().find(|c| c.name == column) {
            Some(found) => Verdict::fail(format!(
                "column {column} still exists in {table_name} ({})",
                found.data_type
            )),
            None => Verdict::pass(format!("column {column} is not in {table_name}")),
        }
    }

    fn index_exists(
        &self,
        schema: Option<&str>,
        table: &str,
        columns: Option<&[String]>,
        name: Option<&str>,
    ) -> Verdict {
        let relation = match self.table(schema, table) {
            Ok(relation) => relation,
            Err(evidence) => return Verdict::fail(evidence),
        };
        let table_name = self.display(&relation.schema, table);
        let describe = |index: &super::Index| {
            let columns: Vec<&str> = index
                .columns
                .iter()
                .map(|c| c.as_deref().unwrap_or("(expression)"))
                .collect();
            format!("{} ({})", index.name, columns.join(", "))
        };
        let found = relation.indexes.iter().find(|index| match (name, columns) {
            (Some(name), _) => index.name == name,
            (None, Some(wanted)) => {
                wanted.len() <= index.columns.len()
                    && wanted
                        .iter()
                        .zip(&index.columns)
                        .all(|(w, have)| have.as_deref() == Some(w.as_str()))
            }
            (None, None) => false,
        });
        let wanted = match (name, columns) {
            (Some(name), _) => format!("no index {name} on {table_name}"),
            (None, columns) => format!(
                "no index on {table_name} leading with ({})",
                columns.map(|c| c.join(", ")).unwrap_or_default()
            ),
        };
        match found {
            Some(index) => Verdict::pass(format!("index {} on {table_name}", describe(index))),
            None if relation.indexes.is_empty() => {
                Verdict::fail(format!("{wanted}; it has no indexes"))
            }
            None => {
                let existing: Vec<String> = relation.indexes.iter().map(describe).collect();
                Verdict::fail(format!("{wanted}; indexes: {}", existing.join(", ")))
            }
        }
    }

    fn row_count(
        &self,
        schema: Option<&str>,
        table: &str,
        bounds: (Option<u64>, Option<u64>, Option<u64>),
    ) -> Verdict {
        let relation = match self.table(schema, table) {
            Ok(relation) => relation,
            Err(evidence) => return Verdict::error(format!("cannot count rows: {evidence}")),
        };
        if !relation.readable {
            return Verdict::error(format!(
                "permission denied for table {}",
                self.display(&relation.schema, table)
            ));
        }
        let count = match self
            .data
            .row_counts
            .get(&(relation.schema.clone(), table.to_string()))
        {
            Some(Ok(count)) => *count,
            Some(Err(reason)) => return Verdict::error(reason.clone()),
            None => return Verdict::error("row count was not read in this refresh"),
        };
        let (equals, at_most, at_least) = bounds;
        let mut expected = Vec::new();
        let mut ok = true;
        if let Some(n) = equals {
            ok &= count == n;
            expected.push(format!("exactly {n}"));
        }
        if let Some(n) = at_most {
            ok &= count <= n;
            expected.push(format!("at most {n}"));
        }
        if let Some(n) = at_least {
            ok &= count >= n;
            expected.push(format!("at least {n}"));
        }
        let evidence = format!(
            "{} in {}",
            rows(count),
            self.display(&relation.schema, table)
        );
        let verdict = if ok {
            Verdict::pass(evidence)
        } else {
            Verdict::fail(format!("{evidence}, expected {}", expected.join(" and ")))
        };
        verdict.with_fact("rows", count)
    }

    fn migration_version(
        &self,
        schema: Option<&str>,
        table: &str,
        column: &str,
        revision: &str,
    ) -> Verdict {
        let relation = match self.table(schema, table) {
            Ok(relation) => relation,
            Err(evidence) => {
                return Verdict::fail(format!("revision {revision} not recorded: {evidence}"));
            }
        };
        let table_name = self.display(&relation.schema, table);
        if !relation.columns.iter().any(|c| c.name == column) {
            return Verdict::error(format!(
                "column {column} missing from migration table {table_name}"
            ));
        }
        if !relation.readable {
            return Verdict::error(format!("permission denied for table {table_name}"));
        }
        let key = (
            relation.schema.clone(),
            table.to_string(),
            column.to_string(),
        );
        let versions = match self.data.migration_versions.get(&key) {
            Some(Ok(versions)) => versions,
            Some(Err(reason)) => return Verdict::error(reason.clone()),
            None => return Verdict::error("migration versions were not read in this refresh"),
        };
        let verdict = if versions.iter().any(|v| v == revision) {
            Verdict::pass(format!(
                "revision {revision} applied ({table_name}: {})",
                versions.join(", ")
            ))
        } else if versions.is_empty() {
            Verdict::fail(format!(
                "revision {revision} not applied; {table_name} is empty"
            ))
        } else {
            Verdict::fail(format!(
                "revision {revision} not applied; {table_name} holds {}",
                versions.join(", ")
            ))
        };
        verdict.with_fact("versions", versions.clone())
    }
}

fn sql_verdict(outcome: Option<&SqlOutcome>, expect: &Value) -> Verdict {
    match outcome {
        None => Verdict::error("query was not run in this refresh"),
        Some(SqlOutcome::Error(reason)) => Verdict::error(reason.clone()),
        Some(SqlOutcome::Value(actual)) => {
            // SQLite has no booleans: show its 0/1 as the boolean the check expects.
            let actual = match (actual, expect) {
                (Value::Number(n), Value::Bool(_))
                    if n.as_f64() == Some(0.0) || n.as_f64() == Some(1.0) =>
                {
                    Value::Bool(n.as_f64() == Some(1.0))
                }
                _ => actual.clone(),
            };
            let actual = &actual;
            let shown = show_value(actual);
            let verdict = if values_match(actual, expect) {
                Verdict::pass(format!("returned {shown}"))
            } else {
                Verdict::fail(format!("returned {shown}, expected {}", show_value(expect)))
            };
            verdict.with_fact("value", actual.clone())
        }
    }
}

/// Equality by value: numbers numerically, and SQLite's 0/1 as booleans.
pub(crate) fn values_match(actual: &Value, expect: &Value) -> bool {
    match (actual, expect) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Number(n), Value::Bool(b)) | (Value::Bool(b), Value::Number(n)) => {
            n.as_f64() == Some(if *b { 1.0 } else { 0.0 })
        }
        (Value::String(s), Value::Number(n)) | (Value::Number(n), Value::String(s)) => {
            s.parse::<f64>().ok() == n.as_f64()
        }
        _ => actual == expect,
    }
}

fn show_value(value: &Value) -> String {
    match value {
        Value::String(text) => format!("'{text}'"),
        other => other.to_string(),
    }
}

fn rows(count: u64) -> String {
    if count == 1 {
        "1 row".into()
    } else {
        format!("{count} rows")
    }
}

impl CheckStatus {
    pub fn is_pass(self) -> bool {
        self == CheckStatus::Pass
    }
}
