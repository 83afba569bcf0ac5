//! Judging each check against the facts of a refresh: pure code, no I/O, one file per family.
//!
//! A judge takes its check's named spec and the [`Facts`] and returns a [`Verdict`] a person can
//! read: what was found, and what was expected when they differ.

mod code;
mod column_type;
mod columns;
mod constraints;
mod data;
mod indexes;
mod migrations;
mod objects;
mod privileges;
mod routines;
mod rows;
mod sql;
mod tables;
pub(crate) use constraints::mentions;
#[cfg(test)]
mod tests;

use super::Verdict;
use super::code::CodeFacts;
use super::facts::{DataFacts, Relation, Resolved, SchemaSnapshot, SqlOutcome};
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
    if let Some(verdict) = cannot_tell(spec, facts) {
        return verdict;
    }
    match spec {
        CheckSpec::TableExists(table) => tables::table_exists(facts, table),
        CheckSpec::TableAbsent(table) => tables::table_absent(facts, table),
        CheckSpec::ColumnExists(column) => columns::column_exists(facts, column),
        CheckSpec::ColumnAbsent(column) => columns::column_absent(facts, column),
        CheckSpec::IndexExists(index) => indexes::index_exists(facts, index),
        CheckSpec::RowCount(count) => data::row_count(facts, count),
        CheckSpec::MigrationVersion(migration) => data::migration_version(facts, migration),
        CheckSpec::Sql(check) => sql::sql_verdict(sql, check, facts.backend),
        CheckSpec::RowsMatch(check) => rows::rows_match(sql, check, facts.backend),
        CheckSpec::ConstraintExists(spec) => constraints::constraint_exists(facts, spec),
        CheckSpec::ConstraintAbsent(spec) => constraints::constraint_absent(facts, spec),
        CheckSpec::EnumValues(spec) => objects::enum_values(facts, spec),
        CheckSpec::ViewExists(spec) => objects::view_exists(facts, spec),
        CheckSpec::ViewAbsent(spec) => objects::view_absent(facts, spec),
        CheckSpec::SequenceExists(spec) => objects::sequence_exists(facts, spec),
        CheckSpec::ExtensionExists(spec) => objects::extension_exists(facts, spec),
        CheckSpec::SchemaExists(spec) => objects::schema_exists(facts, spec),
        CheckSpec::SchemaAbsent(spec) => objects::schema_absent(facts, spec),
        CheckSpec::FunctionExists(spec) => routines::function_exists(facts, spec),
        CheckSpec::FunctionAbsent(spec) => routines::function_absent(facts, spec),
        CheckSpec::TriggerExists(spec) => routines::trigger_exists(facts, spec),
        CheckSpec::TriggerAbsent(spec) => routines::trigger_absent(facts, spec),
        CheckSpec::Privilege(spec) => privileges::privilege(facts, spec),
        CheckSpec::CodeAbsent(_)
        | CheckSpec::CodePresent(_)
        | CheckSpec::PathExists(_)
        | CheckSpec::PathAbsent(_) => {
            Verdict::error("a code check was judged against the database (a remtrack bug)")
        }
        CheckSpec::MigrationsApplied(_) | CheckSpec::ColumnsUnreferenced(_) => {
            Verdict::error("the code was not read for this check (a remtrack bug)")
        }
    }
}

/// The verdict of a check that reads the database and the files together (migration files
/// against their registry); `None` for any other check.
/// What stops any database check from being judged: a kind the backend does not have, or a
/// name that resolves in a schema this role may not use. Shared by every judge that reads the
/// database, so that none can call such a name absent.
fn cannot_tell(spec: &CheckSpec, facts: &Facts<'_>) -> Option<Verdict> {
    if let Some(what) = spec.unavailable_on(facts.backend) {
        return Some(Verdict::error(format!(
            "not available on {}: {what} do not exist there",
            facts.backend.display_name()
        )));
    }
    let name = match spec {
        CheckSpec::MigrationVersion(migration) => Some(migration.migration_table()),
        other => other.table(),
    };
    let name = name.filter(|_| spec.schema().is_none())?;
    facts.hidden_by_privilege(name).map(Verdict::error)
}

pub(crate) fn judge_with_files(
    spec: &CheckSpec,
    facts: &Facts<'_>,
    code: &CodeFacts,
) -> Option<Verdict> {
    let reads_files = matches!(
        spec,
        CheckSpec::MigrationsApplied(_) | CheckSpec::ColumnsUnreferenced(_)
    ) || matches!(spec, CheckSpec::MigrationVersion(version) if version.dir.is_some());
    if reads_files && let Some(verdict) = cannot_tell(spec, facts) {
        return Some(verdict);
    }
    match spec {
        CheckSpec::MigrationsApplied(applied) => {
            Some(migrations::migrations_applied(facts, code, applied))
        }
        CheckSpec::ColumnsUnreferenced(columns) => {
            Some(code::columns_unreferenced(facts, code, columns))
        }
        CheckSpec::MigrationVersion(version) => version
            .dir
            .as_deref()
            .map(|dir| migrations::migration_version_in_files(facts, code, version, dir)),
        _ => None,
    }
}

/// The verdict of a code check given what the code pass found; `None` for a database check.
pub(crate) fn judge_code(spec: &CheckSpec, code: &CodeFacts) -> Option<Verdict> {
    Some(match spec {
        CheckSpec::CodeAbsent(search) => code::code_absent(code, search),
        CheckSpec::CodePresent(search) => code::code_present(code, search),
        CheckSpec::PathExists(path) => code::path_exists(code, &path.path),
        CheckSpec::PathAbsent(path) => code::path_absent(code, &path.path),
        _ => return None,
    })
}

impl<'a> Facts<'a> {
    /// `schema.name` on PostgreSQL, where the schema is part of what was found; on SQLite only
    /// outside `main`.
    fn display(&self, schema: &str, name: &str) -> String {
        if self.backend == Backend::Sqlite && schema == self.backend.default_schema() {
            name.to_string()
        } else {
            format!("{schema}.{name}")
        }
    }

    fn shown(&self, relation: &Relation) -> String {
        self.display(&relation.schema, &relation.name)
    }

    /// Where a name was looked up, for evidence: `on the search path (migration, public)` or
    /// `in schema legacy`.
    fn looked_in(&self, schema: Option<&str>) -> String {
        match schema {
            Some(schema) => format!("in schema {schema}"),
            // One file, no search path: SQLite looks in `main`.
            None if self.backend == Backend::Sqlite => "in main".to_string(),
            None => format!("on the search path ({})", self.schema.search_path.display()),
        }
    }

    /// Of these schemas (each holding something of the name looked for), the one an
    /// unqualified name resolves to: the first on the search path.
    fn first_on_path<'s>(&self, schemas: impl IntoIterator<Item = &'s str>) -> Option<&'s str> {
        let path = &self.schema.search_path;
        schemas
            .into_iter()
            .filter_map(|schema| Some((path.position(schema)?, schema)))
            .min_by_key(|(at, _)| *at)
            .map(|(_, schema)| schema)
    }

    fn resolve(&self, schema: Option<&str>, name: &str) -> Resolved<'a> {
        self.schema.resolve(schema, name)
    }

    /// The table a check names, or why there is none: nothing of that name where PostgreSQL
    /// looks (with what exists elsewhere), or the name means something that is not a table.
    fn table(&self, schema: Option<&str>, table: &str) -> Result<&'a Relation, String> {
        match self.resolve(schema, table) {
            Resolved::Relation(relation) if relation.kind.is_table() => Ok(relation),
            Resolved::Relation(relation) => Err(self.not_a_table(schema, table, relation)),
            Resolved::Nothing => Err(self.missing_table(schema, table)),
        }
    }

    fn not_a_table(&self, schema: Option<&str>, name: &str, relation: &Relation) -> String {
        let shown = self.shown(relation);
        let mut evidence = if shown == name {
            format!("{name} is a {}, not a table", relation.kind.noun())
        } else {
            format!(
                "{name} is the {} {shown}, not a table",
                relation.kind.noun()
            )
        };
        for hidden in self.hidden_by(schema, relation) {
            evidence.push_str(&format!(
                "; the {} {} later on the search path is hidden by it",
                hidden.kind.noun(),
                self.shown(hidden)
            ));
        }
        evidence
    }

    /// What a name found on the search path hides; nothing for a check that names its schema.
    fn hidden_by(&self, schema: Option<&str>, relation: &Relation) -> Vec<&'a Relation> {
        match schema {
            Some(_) => Vec::new(),
            None => self.schema.hidden_by(relation).collect(),
        }
    }

    fn missing_table(&self, schema: Option<&str>, table: &str) -> String {
        self.missing("table", schema, table)
    }

    /// `no view v on the search path (app, public)`, with what a person may have meant.
    fn missing(&self, noun: &str, schema: Option<&str>, name: &str) -> String {
        let mut evidence = format!("no {noun} {name} {}", self.looked_in(schema));
        let hints = self.elsewhere(schema, name, true);
        if !hints.is_empty() {
            evidence.push_str("; ");
            evidence.push_str(&hints.join("; "));
        }
        evidence
    }

    /// What a person may have meant: the same name in another case, and (`with_namesakes`) the
    /// same name outside where it was looked up.
    fn elsewhere(&self, schema: Option<&str>, name: &str, with_namesakes: bool) -> Vec<String> {
        let looked_here = |r: &Relation| match schema {
            Some(schema) => r.schema == schema,
            None => self.schema.search_path.effective.contains(&r.schema),
        };
        self.schema
            .same_name_any_case(name)
            .iter()
            .filter(|r| r.name != name || (with_namesakes && !looked_here(r)))
            .map(|r| {
                let noun = r.kind.noun();
                if r.name != name {
                    format!(
                        "a {noun} {} exists (names are case-sensitive)",
                        self.shown(r)
                    )
                } else if schema.is_none() {
                    format!("a {noun} {} exists outside the search path", self.shown(r))
                } else {
                    format!("a {noun} {} exists in schema {}", r.name, r.schema)
                }
            })
            .collect()
    }

    /// Why nothing can be said of an unqualified `name`: the path names a schema this role may
    /// not use, and a relation of that name is there. PostgreSQL leaves that schema out of this
    /// role's path, so the name means something else (or nothing) here than for the
    /// application; without this, a dropped-table check would pass on a table the role simply
    /// cannot see.
    fn hidden_by_privilege(&self, name: &str) -> Option<String> {
        if self.schema.search_path.unusable.is_empty() {
            return None;
        }
        let there = self
            .schema
            .same_name(name)
            .find(|r| self.schema.search_path.unusable.contains(&r.schema))?;
        Some(self.unusable_schema_holds(&there.schema, there.kind.noun(), &self.shown(there)))
    }

    /// The same for what is not a relation (functions, types): `None` when no schema the role
    /// may not use holds one of `schemas`.
    fn hidden_in_unusable<'s>(
        &self,
        noun: &str,
        name: &str,
        mut schemas: impl Iterator<Item = &'s str>,
    ) -> Option<String> {
        let unusable = &self.schema.search_path.unusable;
        let schema = schemas.find(|s| unusable.iter().any(|u| u == s))?;
        Some(self.unusable_schema_holds(schema, noun, &format!("{schema}.{name}")))
    }

    fn unusable_schema_holds(&self, schema: &str, noun: &str, shown: &str) -> String {
        format!(
            "cannot tell: the search path names schema {schema}, which this role may not use (no \
             USAGE), and a {noun} {shown} is there; grant USAGE on schema {schema}, or name the \
             schema in the check"
        )
    }

    /// Evidence that nothing answers to `name` where PostgreSQL looks, and the warning when a
    /// relation of exactly that name exists off the search path (said once, in the warning).
    fn absent(&self, schema: Option<&str>, name: &str) -> (String, Option<String>) {
        let mut evidence = format!("no {name} {}", self.looked_in(schema));
        let warning = self.off_path_warning(schema, name);
        let hints = self.elsewhere(schema, name, warning.is_none());
        if !hints.is_empty() {
            evidence.push_str("; ");
            evidence.push_str(&hints.join("; "));
        }
        (evidence, warning)
    }

    /// Relations of exactly this name that a check which found nothing did not look at: an
    /// absent check still passes, but a person should know.
    fn off_path_warning(&self, schema: Option<&str>, name: &str) -> Option<String> {
        if schema.is_some() {
            return None;
        }
        let outside: Vec<String> = self
            .schema
            .off_path(name)
            .map(|r| format!("{} {}", r.kind.noun(), self.shown(r)))
            .collect();
        (!outside.is_empty()).then(|| {
            format!(
                "no {name} on the search path ({}), but {} exists outside it",
                self.schema.search_path.display(),
                outside.join(" and ")
            )
        })
    }
}

/// A relation's columns and their types, for comparing expressions on it.
fn column_types(relation: &Relation) -> Vec<(&str, &str)> {
    relation
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.data_type.as_str()))
        .collect()
}

fn rows(count: u64) -> String {
    if count == 1 {
        "1 row".into()
    } else {
        format!("{count} rows")
    }
}
