//! SQLite's constraints, triggers, view definitions and column details, put together from the
//! pragmas (foreign keys, unique indexes) and the SQL text `sqlite_master` keeps.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::sqlite_ddl::table_ddl;
use crate::check::facts::{ColumnDetails, Constraint, ForeignKeyTarget, Relation, Trigger};
use crate::plan::{ConstraintType, ReferentialAction};

fn action(text: Option<&str>) -> ReferentialAction {
    match text.unwrap_or_default().to_ascii_uppercase().as_str() {
        "CASCADE" => ReferentialAction::Cascade,
        "SET NULL" => ReferentialAction::SetNull,
        "SET DEFAULT" => ReferentialAction::SetDefault,
        "RESTRICT" => ReferentialAction::Restrict,
        _ => ReferentialAction::NoAction,
    }
}

/// A foreign key from its pragma rows (one per column pair).
struct ForeignKey {
    table: String,
    id: i64,
    columns: Vec<String>,
    target: String,
    target_columns: Vec<Option<String>>,
    on_update: ReferentialAction,
    on_delete: ReferentialAction,
}

pub(super) fn add_objects(
    relations: &mut [Relation],
    rows: &[SqliteRow],
) -> Result<(), sqlx::Error> {
    let mut keys: Vec<ForeignKey> = Vec::new();
    let mut key_names: Vec<(String, KeyName)> = Vec::new();
    for row in rows {
        let kind: String = row.try_get("row_kind")?;
        let table: String = row.try_get("rel_name")?;
        if kind == "f" {
            let id: i64 = row.try_get("fk_id")?;
            let from: String = row.try_get("from_col")?;
            let to: Option<String> = row.try_get("to_col")?;
            match keys.iter_mut().find(|k| k.table == table && k.id == id) {
                Some(key) => {
                    key.columns.push(from);
                    key.target_columns.push(to);
                }
                None => keys.push(ForeignKey {
                    table,
                    id,
                    columns: vec![from],
                    target: row.try_get("ref_table")?,
                    target_columns: vec![to],
                    on_update: action(row.try_get::<Option<String>, _>("on_update")?.as_deref()),
                    on_delete: action(row.try_get::<Option<String>, _>("on_delete")?.as_deref()),
                }),
            }
            continue;
        }
        let object_type: String = row.try_get("object_type")?;
        let name: String = row.try_get("object_name")?;
        let sql: Option<String> = row.try_get("object_sql")?;
        match object_type.as_str() {
            "trigger" => {
                // A trigger's table is kept as its CREATE TRIGGER spelled it; SQLite matches
                // names without regard to ASCII case.
                if let Some(relation) = relations
                    .iter_mut()
                    .find(|r| r.name.eq_ignore_ascii_case(&table))
                {
                    relation.triggers.push(Trigger {
                        name,
                        function: None,
                        enabled: true,
                    });
                }
            }
            "view" => {
                if let Some(relation) = relations.iter_mut().find(|r| r.name == name) {
                    relation.definition = sql;
                }
            }
            _ => {
                if let (Some(relation), Some(sql)) =
                    (relations.iter_mut().find(|r| r.name == name), sql)
                {
                    for key_name in add_table_sql(relation, &sql) {
                        key_names.push((relation.name.clone(), key_name));
                    }
                }
            }
        }
    }
    // A key naming no target columns references the target's primary key.
    let primary_keys: Vec<(String, Vec<String>)> = relations
        .iter()
        .flat_map(|r| {
            r.constraints
                .iter()
                .filter(|c| c.constraint_type == ConstraintType::PrimaryKey)
                .map(|c| (r.name.clone(), c.columns.clone()))
        })
        .collect();
    for mut key in keys {
        // The key keeps the target as its REFERENCES clause spelled it; SQLite matches names
        // without regard to ASCII case, so it is the relation (and columns) of that name.
        let target = relations
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(&key.target));
        let canonical_column = |column: String| {
            target
                .and_then(|t| {
                    t.columns
                        .iter()
                        .find(|c| c.name.eq_ignore_ascii_case(&column))
                })
                .map_or(column, |c| c.name.clone())
        };
        let target_columns: Vec<String> = if key.target_columns.iter().all(Option::is_some) {
            key.target_columns
                .into_iter()
                .flatten()
                .map(canonical_column)
                .collect()
        } else {
            primary_keys
                .iter()
                .find(|(table, _)| table.eq_ignore_ascii_case(&key.target))
                .map(|(_, columns)| columns.clone())
                .unwrap_or_default()
        };
        if let Some(target) = target {
            key.target = target.name.clone();
        }
        let Some(relation) = relations.iter_mut().find(|r| r.name == key.table) else {
            continue;
        };
        relation.constraints.push(Constraint {
            name: String::new(),
            constraint_type: ConstraintType::ForeignKey,
            definition: format!(
                "FOREIGN KEY ({}) REFERENCES {}({}) ON UPDATE {} ON DELETE {}",
                key.columns.join(", "),
                key.target,
                target_columns.join(", "),
                key.on_update.sql(),
                key.on_delete.sql()
            ),
            columns: key.columns,
            references: Some(ForeignKeyTarget {
                schema: "main".into(),
                table: key.target,
                columns: target_columns,
                on_delete: key.on_delete,
                on_update: key.on_update,
            }),
            expression: None,
            validated: true,
        });
    }
    for relation in relations.iter_mut() {
        let uniques: Vec<Constraint> = relation
            .indexes
            .iter()
            .filter(|index| {
                index.unique && !index.primary && index.name.starts_with("sqlite_autoindex_")
            })
            .map(|index| {
                let columns: Vec<String> = index.columns.iter().flatten().cloned().collect();
                Constraint {
                    name: String::new(),
                    constraint_type: ConstraintType::Unique,
                    definition: format!("UNIQUE ({})", columns.join(", ")),
                    columns,
                    references: None,
                    expression: None,
                    validated: true,
                }
            })
            .collect();
        relation.constraints.extend(uniques);
        let table = relation.name.clone();
        let names = key_names
            .iter()
            .filter(|(named, _)| named == &table)
            .map(|(_, name)| name);
        name_constraints(relation, names);
    }
    Ok(())
}

/// A key's name as the table's SQL gives it: kind (`p`, `u`, `f`), columns, name.
type KeyName = (char, Vec<String>, String);

/// Check constraints, generated expressions and collations from a table's SQL; returns the
/// names it gives its keys, for [`name_constraints`] once the keys are read.
fn add_table_sql(relation: &mut Relation, sql: &str) -> Vec<KeyName> {
    let ddl = table_ddl(sql);
    relation.unreadable_sql = ddl.unreadable.clone();
    for column in &mut relation.columns {
        if column.generated {
            column.default = ddl.generated.get(&column.name).cloned();
        }
        column.details = Some(ColumnDetails {
            collation: ddl.collations.get(&column.name).cloned(),
            comment: None,
        });
    }
    let names: Vec<String> = relation.columns.iter().map(|c| c.name.clone()).collect();
    for check in ddl.checks {
        let columns = match check.column {
            Some(column) => vec![column],
            // The columns a table constraint's expression mentions, in table order.
            None => names
                .iter()
                .filter(|name| crate::check::judge::mentions(&check.expression, name))
                .cloned()
                .collect(),
        };
        relation.constraints.push(Constraint {
            name: check.name.unwrap_or_default(),
            constraint_type: ConstraintType::Check,
            definition: format!("CHECK ({})", check.expression),
            columns,
            references: None,
            expression: Some(check.expression),
            validated: true,
        });
    }
    ddl.names
}

/// SQLite keeps a key's name only in the table's SQL: give it to the key with those columns.
fn name_constraints<'a>(relation: &mut Relation, names: impl Iterator<Item = &'a KeyName>) {
    for (kind, columns, name) in names {
        let wanted = match *kind {
            'p' => ConstraintType::PrimaryKey,
            'u' => ConstraintType::Unique,
            _ => ConstraintType::ForeignKey,
        };
        if let Some(constraint) = relation.constraints.iter_mut().find(|c| {
            c.constraint_type == wanted
                && c.name.is_empty()
                && c.columns.len() == columns.len()
                && c.columns
                    .iter()
                    .zip(columns)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b.trim_matches('"')))
        }) {
            constraint.name = name.clone();
        }
    }
}
