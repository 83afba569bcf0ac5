//! What a refresh must read, gathered from every check and guard of the plan: the relation
//! names to look up in the catalog, the tables whose indexes matter, and the data items (row
//! counts, migration versions) to read once the catalog has said which tables exist.

use std::collections::{BTreeMap, BTreeSet};

use super::default_expr::sequences_named;
use super::facts::{Relation, Resolved, SchemaSnapshot};
use super::sqltype::{SqlType, parse_type};
use crate::plan::{CheckSpec, ColumnRef, Plan, PrivilegeObject, TableRef};

/// The name part of `schema.name` (a trigger's function may be written either way).
pub(crate) fn unqualified(name: &str) -> String {
    name.rsplit_once('.')
        .map_or(name, |(_, last)| last)
        .to_string()
}

/// What a refresh must read, gathered from every check and guard in the plan.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    /// The names of every relation the plan mentions, as written (looked up in every schema).
    pub relation_names: Vec<String>,
    /// Tables whose indexes the plan asks about; only theirs are read.
    pub index_tables: Vec<String>,
    /// Type names the plan qualifies with a schema (`public.citext`): their oids are read so
    /// that a column's type can be told from a same-named type in another schema.
    pub type_names: Vec<String>,
    /// Tables whose columns' collations and comments a check asks about.
    pub detail_tables: Vec<String>,
    /// Views whose definitions a check shows.
    pub view_names: Vec<String>,
    /// Tables whose constraints and triggers a check asks about.
    pub constraint_tables: Vec<String>,
    /// Types, extensions, schemas, functions, roles and grants the plan names (PostgreSQL),
    /// as the catalog statement's JSON parameter.
    pub vocabulary: Vocabulary,
    /// `(schema as the check names it, table)`: resolved against the catalog before reading.
    row_counts: BTreeSet<(Option<String>, String)>,
    migrations: BTreeSet<(Option<String>, String, String)>,
}

impl Needs {
    /// Every name's case variants, for the catalog statement to look up once more ignoring
    /// case the names it finds in no schema, so that "a table Foo exists (names are
    /// case-sensitive)" can be reported. The server decides which names are missing, so the
    /// look-up costs no second statement; only those go through `lower(relname)`, which no
    /// catalog index serves, within the ranges of their first two letters' cases.
    pub(crate) fn case_variants(&self) -> CaseVariants {
        let mut variants = CaseVariants::default();
        for (at, name) in self.relation_names.iter().enumerate() {
            let [lower_a, lower_b] = lower_spellings(name);
            variants.names.push(name.clone());
            variants.lowered_a.push(lower_a);
            variants.lowered_b.push(lower_b);
            for (from, to) in prefix_ranges(name) {
                variants.from.push(from);
                variants.to.push(to);
                // 1-based, as `WITH ORDINALITY` numbers the names.
                variants.owner.push(at as i64 + 1);
            }
        }
        variants
    }

    /// Every spelling to match in one query where a case-insensitive scan is cheap (SQLite).
    pub(crate) fn all_spellings(&self) -> Vec<String> {
        self.relation_names
            .iter()
            .flat_map(|name| [name.clone()].into_iter().chain(lower_spellings(name)))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }
}

/// Each name with its lower-case spellings, and the `[from, to)` ranges of `relname` (the
/// case variants of its first two letters) its case variants lie in, each with the position of
/// its name: the catalog's name index narrows the scan that `lower()` alone would make of all
/// of `pg_class`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CaseVariants {
    pub names: Vec<String>,
    pub lowered_a: Vec<String>,
    pub lowered_b: Vec<String>,
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub owner: Vec<i64>,
}

/// `[from, to)` byte ranges holding every spelling of `name` that differs only in the case of
/// its first two characters (`relname` sorts bytewise, as the C collation of `name` does).
fn prefix_ranges(name: &str) -> Vec<(String, String)> {
    let mut prefixes = vec![String::new()];
    for c in name.chars().take(2) {
        let mut cases: Vec<String> = vec![
            c.to_string(),
            c.to_lowercase().collect(),
            c.to_uppercase().collect(),
        ];
        cases.sort();
        cases.dedup();
        prefixes = prefixes
            .iter()
            .flat_map(|p| cases.iter().map(move |c| format!("{p}{c}")))
            .collect();
    }
    prefixes
        .into_iter()
        .filter_map(|prefix| {
            let mut chars: Vec<char> = prefix.chars().collect();
            let last = chars.pop()?;
            let next = char::from_u32(u32::from(last) + 1)?;
            chars.push(next);
            Some((prefix, chars.into_iter().collect()))
        })
        .collect()
}

/// How the catalog may lower-case `name`: `lower()` changes only ASCII letters under the C
/// collation and every letter under others.
fn lower_spellings(name: &str) -> [String; 2] {
    [name.to_lowercase(), name.to_ascii_lowercase()]
}

/// One value list to read: a row count (no column) or the values of a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DataItem {
    schema: String,
    table: String,
    column: Option<String>,
}

impl DataItem {
    pub fn schema(&self) -> &str {
        &self.schema
    }
    pub fn table(&self) -> &str {
        &self.table
    }
    pub fn column(&self) -> Option<&str> {
        self.column.as_deref()
    }
}

/// The names of the vocabulary the plan uses, by what they name.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Vocabulary {
    pub types: BTreeSet<String>,
    pub extensions: BTreeSet<String>,
    pub schemas: BTreeSet<String>,
    pub functions: BTreeSet<String>,
    pub roles: BTreeSet<String>,
    /// `[role, object kind, name, [privileges]]`, privileges only from the known list.
    pub grants: BTreeSet<(String, String, String, Vec<String>)>,
}

impl Vocabulary {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

impl Needs {
    pub fn of(plan: &Plan) -> Needs {
        let mut needs = Needs::default();
        let mut names = BTreeSet::new();
        let mut index_tables = BTreeSet::new();
        let mut type_names = BTreeSet::new();
        let mut detail_tables = BTreeSet::new();
        let mut view_names = BTreeSet::new();
        let mut constraint_tables = BTreeSet::new();
        let mut grants: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
        for check in plan.all_checks() {
            match &check.spec {
                CheckSpec::TableExists(TableRef { table, .. })
                | CheckSpec::ColumnAbsent(ColumnRef { table, .. }) => {
                    names.insert(table.clone());
                }
                // Its evidence mentions how many rows are left, when the table is readable.
                CheckSpec::TableAbsent(TableRef { table, schema }) => {
                    names.insert(table.clone());
                    needs.row_counts.insert((schema.clone(), table.clone()));
                }
                CheckSpec::ColumnExists(column) => {
                    names.insert(column.table.clone());
                    // SQLite keeps a generated column's expression only in the table's SQL.
                    if column.collation.is_some()
                        || column.comment.is_some()
                        || column.generated.is_some()
                    {
                        detail_tables.insert(column.table.clone());
                    }
                    // A type named with its schema is told from its namesakes by oid.
                    if let Some(Ok(SqlType {
                        schema: Some(_),
                        name,
                        ..
                    })) = column.data_type.as_deref().map(parse_type)
                    {
                        type_names.insert(name);
                    }
                    // `nextval('s')` is resolved to compare it with the catalog's `nextval`.
                    if let Some(default) = &column.default {
                        names.extend(sequences_named(default));
                    }
                }
                CheckSpec::IndexExists(index) => {
                    names.insert(index.table.clone());
                    index_tables.insert(index.table.clone());
                }
                CheckSpec::RowCount(count) => {
                    names.insert(count.table.clone());
                    needs
                        .row_counts
                        .insert((count.schema.clone(), count.table.clone()));
                }
                CheckSpec::MigrationVersion(migration) => {
                    let table = migration.migration_table().to_string();
                    names.insert(table.clone());
                    needs.migrations.insert((
                        migration.schema.clone(),
                        table,
                        migration.migration_column().to_string(),
                    ));
                }
                CheckSpec::MigrationsApplied(applied) => {
                    let table = applied.registry_table().to_string();
                    names.insert(table.clone());
                    for column in applied.registry_columns() {
                        needs.migrations.insert((
                            applied.registry_schema().map(str::to_string),
                            table.clone(),
                            column.to_string(),
                        ));
                    }
                }
                CheckSpec::ColumnsUnreferenced(columns) => {
                    names.insert(columns.table.clone());
                }
                CheckSpec::ConstraintExists(constraint)
                | CheckSpec::ConstraintAbsent(constraint) => {
                    names.insert(constraint.table.clone());
                    constraint_tables.insert(constraint.table.clone());
                    // A unique index that is no constraint is pointed out when one is asked.
                    if constraint.constraint_type == crate::plan::ConstraintType::Unique {
                        index_tables.insert(constraint.table.clone());
                    }
                    if let Some(references) = &constraint.references {
                        names.insert(references.table.clone());
                    }
                }
                CheckSpec::TriggerExists(trigger) | CheckSpec::TriggerAbsent(trigger) => {
                    names.insert(trigger.table.clone());
                    constraint_tables.insert(trigger.table.clone());
                    if let Some(function) = &trigger.function {
                        needs.vocabulary.functions.insert(unqualified(function));
                    }
                }
                CheckSpec::ViewExists(view) | CheckSpec::ViewAbsent(view) => {
                    names.insert(view.view.clone());
                    view_names.insert(view.view.clone());
                }
                CheckSpec::SequenceExists(sequence) => {
                    names.insert(sequence.sequence.clone());
                }
                CheckSpec::EnumValues(enumeration) => {
                    needs.vocabulary.types.insert(enumeration.type_name.clone());
                }
                CheckSpec::ExtensionExists(extension) => {
                    needs
                        .vocabulary
                        .extensions
                        .insert(extension.extension.clone());
                }
                CheckSpec::SchemaExists(schema) | CheckSpec::SchemaAbsent(schema) => {
                    needs.vocabulary.schemas.insert(schema.schema.clone());
                }
                CheckSpec::FunctionExists(function) | CheckSpec::FunctionAbsent(function) => {
                    needs.vocabulary.functions.insert(function.name.clone());
                    // A type named with its schema is found where it lives, as for columns.
                    for written in function.args.iter().flatten().chain(&function.returns) {
                        if let Ok(SqlType {
                            schema: Some(_),
                            name,
                            ..
                        }) = parse_type(
                            written
                                .trim_start_matches("SETOF ")
                                .trim_start_matches("setof "),
                        ) {
                            type_names.insert(name);
                        }
                    }
                }
                CheckSpec::Privilege(privilege) => {
                    let (object, name, _) = privilege.object();
                    if matches!(object, PrivilegeObject::Table | PrivilegeObject::Sequence) {
                        names.insert(name.to_string());
                    }
                    if object == PrivilegeObject::Function {
                        needs.vocabulary.functions.insert(name.to_string());
                    }
                    if object == PrivilegeObject::Schema {
                        needs.vocabulary.schemas.insert(name.to_string());
                    }
                    // PostgreSQL spells the pseudo-role in lower case only.
                    let role = if privilege.role.eq_ignore_ascii_case("public") {
                        "public".to_string()
                    } else {
                        privilege.role.clone()
                    };
                    // Only privileges PostgreSQL knows for the object reach the server: an
                    // unknown one would fail the whole catalog statement.
                    let known: Vec<String> = privilege
                        .privilege_names()
                        .into_iter()
                        .filter(|p| object.privileges().contains(&p.as_str()))
                        .collect();
                    needs.vocabulary.roles.insert(role.clone());
                    // One row per role and object, with every privilege any check asks.
                    grants
                        .entry((role, object.noun().to_string(), name.to_string()))
                        .or_default()
                        .extend(known);
                }
                CheckSpec::RowsMatch(_) => {}
                // The code is read by the code pass, not by the database.
                CheckSpec::Sql(_)
                | CheckSpec::CodeAbsent(_)
                | CheckSpec::CodePresent(_)
                | CheckSpec::PathExists(_)
                | CheckSpec::PathAbsent(_) => {}
            }
        }
        needs.relation_names = names.into_iter().collect();
        needs.index_tables = index_tables.into_iter().collect();
        needs.type_names = type_names.into_iter().collect();
        needs.detail_tables = detail_tables.into_iter().collect();
        needs.view_names = view_names.into_iter().collect();
        needs.constraint_tables = constraint_tables.into_iter().collect();
        needs.vocabulary.grants = grants
            .into_iter()
            .map(|((role, kind, name), privileges)| {
                (role, kind, name, privileges.into_iter().collect())
            })
            .collect();
        needs
    }

    /// The data to read, limited to readable tables (and existing columns) found in the catalog,
    /// so that every name sent is one the database itself reported.
    pub(crate) fn data_items(&self, snapshot: &SchemaSnapshot) -> Vec<DataItem> {
        let counts = self.row_counts.iter().filter_map(|(schema, table)| {
            let relation = readable_table(snapshot, schema.as_deref(), table)?;
            Some(DataItem {
                schema: relation.schema.clone(),
                table: relation.name.clone(),
                column: None,
            })
        });
        let versions = self
            .migrations
            .iter()
            .filter_map(|(schema, table, column)| {
                let relation = readable_table(snapshot, schema.as_deref(), table)?;
                // Several columns read together (a registry row): every one must exist.
                let every_column_exists = column
                    .split(crate::plan::REGISTRY_FIELDS)
                    .all(|part| relation.columns.iter().any(|c| c.name == part));
                every_column_exists.then(|| DataItem {
                    schema: relation.schema.clone(),
                    table: relation.name.clone(),
                    column: Some(column.clone()),
                })
            });
        counts.chain(versions).collect()
    }
}

/// The table a check's name resolves to, when the role may read it.
fn readable_table<'a>(
    snapshot: &'a SchemaSnapshot,
    schema: Option<&str>,
    table: &str,
) -> Option<&'a Relation> {
    match snapshot.resolve(schema, table) {
        Resolved::Relation(relation) if relation.kind.is_table() && relation.readable => {
            Some(relation)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_ranges;

    #[test]
    fn case_variant_ranges_cover_every_case_of_the_first_two_letters() {
        let ranges = prefix_ranges("mixedcase");
        let covered = |name: &str| {
            ranges
                .iter()
                .any(|(from, to)| name >= from.as_str() && name < to.as_str())
        };
        for name in ["MixedCase", "mixedcase", "MIXEDCASE", "mIxedCase"] {
            assert!(covered(name), "{name} in {ranges:?}");
        }
        for name in ["other", "Maxed", "nixedcase"] {
            assert!(!covered(name), "{name} in {ranges:?}");
        }
        assert_eq!(prefix_ranges("_t").len(), 2, "{:?}", prefix_ranges("_t"));
        assert!(prefix_ranges("Äpfel").iter().any(|(from, _)| from == "äp"));
    }
}
