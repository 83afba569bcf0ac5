//! SQLite: the same snapshot from `sqlite_master` and the table-valued pragmas, on a connection
//! opened read-only with `query_only`.
//!
//! SQLite cannot quote a name on the server, so statements that must name a table use only names
//! taken from the catalog itself (never the plan's text), quoted with `"` doubled.

use serde_json::Value;
use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};
use sqlx::{Row, TypeInfo, ValueRef};

use crate::check::facts::{
    Column, DataFacts, Index, QueryJob, Relation, RelationKind, SchemaSnapshot, SearchPath,
    SqlOutcome,
};
use crate::check::needs::Needs;

/// `table_xinfo` rather than `table_info`: it lists generated columns too (hidden 2 and 3);
/// hidden 1 is a virtual table's hidden column, which no query sees.
const COLUMNS_QUERY: &str = r#"
SELECT m.name AS rel_name, m.type AS rel_type, p.name AS col_name, p.type AS col_type,
       p."notnull" AS not_null, p.dflt_value AS dflt, p.pk AS pk, p.hidden AS hidden
  FROM sqlite_master AS m
  LEFT JOIN pragma_table_xinfo(m.name) AS p ON p.hidden IS NOT 1
 WHERE m.type IN ('table', 'view')
   AND (m.name IN (SELECT value FROM json_each(?1)) OR lower(m.name) IN (SELECT value FROM json_each(?1)))
 ORDER BY m.name, p.cid
"#;

const INDEXES_QUERY: &str = r#"
SELECT m.name AS rel_name, il.name AS index_name, ii.name AS col_name, il."unique" AS is_unique,
       il.origin AS origin, il.partial AS partial,
       (SELECT x.sql FROM sqlite_master AS x WHERE x.type = 'index' AND x.name = il.name) AS index_sql
  FROM sqlite_master AS m
  JOIN pragma_index_list(m.name) AS il
  JOIN pragma_index_info(il.name) AS ii
 WHERE m.type = 'table'
   AND (m.name IN (SELECT value FROM json_each(?1)) OR lower(m.name) IN (SELECT value FROM json_each(?1)))
 ORDER BY m.name, il.name, ii.seqno
"#;

/// The SQL of each table, view and trigger on the tables named, and every foreign key of
/// those tables: what SQLite keeps of constraints, triggers and view definitions.
const OBJECTS_QUERY: &str = r#"
SELECT 'o' AS row_kind, m.type AS object_type, m.name AS object_name, m.tbl_name AS rel_name,
       m.sql AS object_sql, NULL AS fk_id, NULL AS ref_table, NULL AS from_col, NULL AS to_col,
       NULL AS on_update, NULL AS on_delete
  FROM sqlite_master AS m
 WHERE m.type IN ('table', 'view', 'trigger')
   AND (m.tbl_name IN (SELECT value FROM json_each(?1)) OR lower(m.tbl_name) IN (SELECT value FROM json_each(?1)))
UNION ALL
SELECT 'f', NULL, NULL, m.name, NULL, f.id, f."table", f."from", f."to", f.on_update, f.on_delete
  FROM sqlite_master AS m
  JOIN pragma_foreign_key_list(m.name) AS f
 WHERE m.type = 'table'
   AND (m.name IN (SELECT value FROM json_each(?1)) OR lower(m.name) IN (SELECT value FROM json_each(?1)))
"#;

/// The schema facts and data of one refresh, and how many queries they took.
pub(crate) async fn snapshot(
    pool: &SqlitePool,
    needs: &Needs,
) -> Result<(SchemaSnapshot, DataFacts, usize), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    snapshot_in(&mut conn, needs).await
}

/// [`snapshot`] on a connection of the caller's, perhaps inside its transaction (a dry run's,
/// whose changes the reads then see).
pub(crate) async fn snapshot_in(
    conn: &mut SqliteConnection,
    needs: &Needs,
) -> Result<(SchemaSnapshot, DataFacts, usize), sqlx::Error> {
    let names = Value::from(needs.all_spellings()).to_string();
    let column_rows = sqlx::query(COLUMNS_QUERY)
        .bind(&names)
        .fetch_all(&mut *conn)
        .await?;
    let index_rows = sqlx::query(INDEXES_QUERY)
        .bind(&names)
        .fetch_all(&mut *conn)
        .await?;
    let mut queries = 2;
    let mut relations = relations_from_rows(&column_rows, &index_rows)?;
    if !(needs.constraint_tables.is_empty()
        && needs.view_names.is_empty()
        && needs.detail_tables.is_empty())
    {
        let object_rows = sqlx::query(OBJECTS_QUERY)
            .bind(&names)
            .fetch_all(&mut *conn)
            .await?;
        queries += 1;
        super::sqlite_objects::add_objects(&mut relations, &object_rows)?;
    }
    // A read-only connection to one file has no temporary or attached schemas: names resolve
    // in `main`.
    let schema = SchemaSnapshot::new(relations, SearchPath::of(&["main"]));

    let items = needs.data_items(&schema);
    let mut data = DataFacts::default();
    if !items.is_empty() {
        queries += 1;
        // Names come from the catalog snapshot: `data_items` only yields relations found there.
        let selects: Vec<String> = items
            .iter()
            .map(|item| match item.column() {
                None => format!("(SELECT json_array(count(*)) FROM {})", quote(item.table())),
                // Several columns of a registry row, joined as on PostgreSQL.
                Some(columns) if columns.contains(crate::plan::REGISTRY_FIELDS) => format!(
                    "(SELECT json_group_array({}) FROM {})",
                    columns
                        .split(crate::plan::REGISTRY_FIELDS)
                        .map(|c| format!(
                            "coalesce(CAST({} AS TEXT), '{}')",
                            quote(c),
                            crate::plan::REGISTRY_NULL
                        ))
                        .collect::<Vec<_>>()
                        .join(&format!(" || '{}' || ", crate::plan::REGISTRY_FIELDS)),
                    quote(item.table())
                ),
                Some(column) => format!(
                    "(SELECT json_group_array(CAST({} AS TEXT)) FROM {})",
                    quote(column),
                    quote(item.table())
                ),
            })
            .collect();
        let statement = format!("SELECT {}", selects.join(", "));
        let row = sqlx::query(&statement)
            .persistent(false)
            .fetch_one(&mut *conn)
            .await;
        match row {
            Ok(row) => {
                for (index, item) in items.iter().enumerate() {
                    let text: String = row.try_get(index)?;
                    let values: Vec<Value> = serde_json::from_str(&text).unwrap_or_default();
                    let values = values
                        .into_iter()
                        .map(|v| match v {
                            Value::String(s) => s,
                            other => other.to_string(),
                        })
                        .collect();
                    data.record(item, Ok(values));
                }
            }
            Err(error) => {
                for item in &items {
                    data.record(item, Err(error.to_string()));
                }
            }
        }
    }
    Ok((schema, data, queries))
}

fn relations_from_rows(
    columns: &[SqliteRow],
    indexes: &[SqliteRow],
) -> Result<Vec<Relation>, sqlx::Error> {
    let mut relations: Vec<Relation> = Vec::new();
    let mut primary_keys: Vec<(String, i64, String)> = Vec::new();
    for row in columns {
        let name: String = row.try_get("rel_name")?;
        if relations.last().is_none_or(|r| r.name != name) {
            let kind: String = row.try_get("rel_type")?;
            relations.push(Relation {
                schema: "main".into(),
                name: name.clone(),
                kind: if kind == "view" {
                    RelationKind::View
                } else {
                    RelationKind::Table
                },
                readable: true,
                ..Relation::default()
            });
        }
        let column: Option<String> = row.try_get("col_name")?;
        if let (Some(column), Some(relation)) = (column, relations.last_mut()) {
            let not_null: i64 = row.try_get("not_null")?;
            let pk: i64 = row.try_get::<Option<i64>, _>("pk")?.unwrap_or(0);
            let hidden: i64 = row.try_get::<Option<i64>, _>("hidden")?.unwrap_or(0);
            if pk > 0 {
                primary_keys.push((relation.name.clone(), pk, column.clone()));
            }
            relation.columns.push(Column {
                name: column,
                data_type: row
                    .try_get::<Option<String>, _>("col_type")?
                    .unwrap_or_default(),
                not_null: not_null != 0,
                default: row.try_get("dflt")?,
                // 2: generated virtual, 3: generated stored; the expression comes from the SQL.
                generated: hidden >= 2,
                ..Column::default()
            });
        }
    }
    // The primary key as a constraint (its name, if any, comes from the table's SQL later).
    primary_keys.sort();
    for relation in &mut relations {
        let columns: Vec<String> = primary_keys
            .iter()
            .filter(|(table, _, _)| table == &relation.name)
            .map(|(_, _, column)| column.clone())
            .collect();
        if !columns.is_empty() && relation.kind == RelationKind::Table {
            relation.constraints.push(crate::check::facts::Constraint {
                name: String::new(),
                constraint_type: crate::plan::ConstraintType::PrimaryKey,
                definition: format!("PRIMARY KEY ({})", columns.join(", ")),
                columns,
                references: None,
                expression: None,
                validated: true,
            });
        }
    }
    for row in indexes {
        let table: String = row.try_get("rel_name")?;
        let index: String = row.try_get("index_name")?;
        let column: Option<String> = row.try_get("col_name")?;
        let Some(relation) = relations.iter_mut().find(|r| r.name == table) else {
            continue;
        };
        match relation.indexes.last_mut() {
            Some(last) if last.name == index => last.columns.push(column),
            _ => {
                let origin: String = row.try_get("origin")?;
                let partial: i64 = row.try_get("partial")?;
                let sql: Option<String> = row.try_get("index_sql")?;
                let unique: i64 = row.try_get("is_unique")?;
                relation.indexes.push(Index {
                    name: index,
                    columns: vec![column],
                    valid: true,
                    unique: unique != 0,
                    primary: origin == "pk",
                    predicate: sql
                        .filter(|_| partial != 0)
                        .and_then(|sql| super::sqlite_ddl::index_predicate(&sql)),
                    method: "btree".into(),
                    include: Vec::new(),
                })
            }
        }
    }
    Ok(relations)
}

/// Runs one screened `sql` check and returns its single value, or a `rows_match` query's
/// first rows.
pub(crate) async fn run_sql(pool: &SqlitePool, job: &QueryJob) -> Result<SqlOutcome, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    run_sql_on(&mut conn, job).await
}

/// [`run_sql`] on a connection of the caller's.
pub(crate) async fn run_sql_on(
    conn: &mut SqliteConnection,
    job: &QueryJob,
) -> Result<SqlOutcome, sqlx::Error> {
    let limit = job.rows.unwrap_or(2);
    let wrapped = format!("SELECT * FROM (\n{}\n) LIMIT {limit}", job.body);
    let rows = match sqlx::query(&wrapped)
        .persistent(false)
        .fetch_all(&mut *conn)
        .await
    {
        Ok(rows) => rows,
        Err(sqlx::Error::Database(db)) => {
            let message = db.message();
            let outcome = if message.contains("readonly") || message.contains("query_only") {
                format!("the query tries to write, which a check may not do ({message})")
            } else {
                message.to_string()
            };
            return Ok(SqlOutcome::Error(outcome));
        }
        Err(other) => return Err(other),
    };
    if job.rows.is_some() {
        return Ok(SqlOutcome::Rows(
            rows.iter()
                .map(|row| {
                    (0..row.columns().len())
                        .map(|at| value_of(row, at))
                        .collect()
                })
                .collect::<Result<_, _>>()?,
        ));
    }
    Ok(match rows.as_slice() {
        [] => SqlOutcome::Error("returned no rows, expected one row with one column".into()),
        [row] if row.columns().len() != 1 => SqlOutcome::Error(format!(
            "returned {} columns, expected one",
            row.columns().len()
        )),
        [row] => SqlOutcome::Value(value_of(row, 0)?),
        _ => SqlOutcome::Error("returned more than one row, expected one".into()),
    })
}

fn value_of(row: &SqliteRow, at: usize) -> Result<Value, sqlx::Error> {
    let raw = row.try_get_raw(at)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let type_name = raw.type_info().name().to_string();
    Ok(match type_name.as_str() {
        "INTEGER" | "BOOLEAN" => Value::from(row.try_get::<i64, _>(at)?),
        "REAL" | "NUMERIC" => Value::from(row.try_get::<f64, _>(at)?),
        "BLOB" => Value::from(format!("<{} bytes>", row.try_get::<Vec<u8>, _>(at)?.len())),
        _ => Value::from(row.try_get::<String, _>(at)?),
    })
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quoting_doubles_embedded_quotes() {
        assert_eq!(quote("we\"ird"), "\"we\"\"ird\"");
    }
}
