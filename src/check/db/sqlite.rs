//! SQLite: the same snapshot from `sqlite_master` and the table-valued pragmas, on a connection
//! opened read-only with `query_only`.
//!
//! SQLite cannot quote a name on the server, so statements that must name a table use only names
//! taken from the catalog itself (never the plan's text), quoted with `"` doubled.

use serde_json::Value;
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{Row, TypeInfo, ValueRef};

use crate::check::facts::{
    Column, DataFacts, Index, Relation, RelationKind, SchemaSnapshot, SearchPath, SqlOutcome,
};
use crate::check::needs::Needs;

const COLUMNS_QUERY: &str = r#"
SELECT m.name AS rel_name, m.type AS rel_type, p.name AS col_name, p.type AS col_type,
       p."notnull" AS not_null, p.dflt_value AS dflt
  FROM sqlite_master AS m
  LEFT JOIN pragma_table_info(m.name) AS p
 WHERE m.type IN ('table', 'view')
   AND (m.name IN (SELECT value FROM json_each(?1)) OR lower(m.name) IN (SELECT value FROM json_each(?1)))
 ORDER BY m.name, p.cid
"#;

const INDEXES_QUERY: &str = r#"
SELECT m.name AS rel_name, il.name AS index_name, ii.name AS col_name
  FROM sqlite_master AS m
  JOIN pragma_index_list(m.name) AS il
  JOIN pragma_index_info(il.name) AS ii
 WHERE m.type = 'table'
   AND (m.name IN (SELECT value FROM json_each(?1)) OR lower(m.name) IN (SELECT value FROM json_each(?1)))
 ORDER BY m.name, il.name, ii.seqno
"#;

/// The schema facts and data of one refresh, and how many queries they took.
pub(crate) async fn snapshot(
    pool: &SqlitePool,
    needs: &Needs,
) -> Result<(SchemaSnapshot, DataFacts, usize), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let names = Value::from(needs.all_spellings()).to_string();
    let column_rows = sqlx::query(COLUMNS_QUERY)
        .bind(&names)
        .fetch_all(&mut *conn)
        .await?;
    let index_rows = sqlx::query(INDEXES_QUERY)
        .bind(&names)
        .fetch_all(&mut *conn)
        .await?;
    // A read-only connection to one file has no temporary or attached schemas: names resolve
    // in `main`.
    let schema = SchemaSnapshot::new(
        relations_from_rows(&column_rows, &index_rows)?,
        SearchPath::of(&["main"]),
    );

    let items = needs.data_items(&schema);
    let mut data = DataFacts::default();
    let mut queries = 2;
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
                columns: Vec::new(),
                indexes: Vec::new(),
            });
        }
        let column: Option<String> = row.try_get("col_name")?;
        if let (Some(column), Some(relation)) = (column, relations.last_mut()) {
            let not_null: i64 = row.try_get("not_null")?;
            relation.columns.push(Column {
                name: column,
                data_type: row
                    .try_get::<Option<String>, _>("col_type")?
                    .unwrap_or_default(),
                not_null: not_null != 0,
                default: row.try_get("dflt")?,
                ..Column::default()
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
            _ => relation.indexes.push(Index {
                name: index,
                columns: vec![column],
                valid: true,
            }),
        }
    }
    Ok(relations)
}

/// Runs one screened `sql` check and returns its single value.
pub(crate) async fn run_sql(pool: &SqlitePool, body: &str) -> Result<SqlOutcome, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let wrapped = format!("SELECT * FROM (\n{body}\n) LIMIT 2");
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
    Ok(match rows.as_slice() {
        [] => SqlOutcome::Error("returned no rows, expected one row with one column".into()),
        [row] if row.columns().len() != 1 => SqlOutcome::Error(format!(
            "returned {} columns, expected one",
            row.columns().len()
        )),
        [row] => SqlOutcome::Value(value_of(row)?),
        _ => SqlOutcome::Error("returned more than one row, expected one".into()),
    })
}

fn value_of(row: &SqliteRow) -> Result<Value, sqlx::Error> {
    let raw = row.try_get_raw(0)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let type_name = raw.type_info().name().to_string();
    Ok(match type_name.as_str() {
        "INTEGER" | "BOOLEAN" => Value::from(row.try_get::<i64, _>(0)?),
        "REAL" | "NUMERIC" => Value::from(row.try_get::<f64, _>(0)?),
        "BLOB" => Value::from(format!("<{} bytes>", row.try_get::<Vec<u8>, _>(0)?.len())),
        _ => Value::from(row.try_get::<String, _>(0)?),
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
