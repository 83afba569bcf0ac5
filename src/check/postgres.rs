//! PostgreSQL: the catalog snapshot, the data query and `sql` checks, each in a READ ONLY
//! transaction that is rolled back.
//!
//! Names from the plan are only ever bound as parameters; where a statement must name a table
//! (row counts, migration versions) the server quotes it with `format('%I')`.

use serde_json::Value;
use sqlx::postgres::{PgPool, PgRow};
use sqlx::{Executor as _, PgConnection, Row};

use super::facts::{
    Column, DataFacts, Index, NamedType, Relation, RelationKind, SchemaSnapshot, SearchPath,
    SqlOutcome,
};
use super::needs::{DataItem, Needs};
use super::target::seconds;

/// Closes the relation subquery: one row even when no relation matched, so the search path
/// always arrives.
macro_rules! catalog_end {
    () => {
        ") r ON true"
    };
}

/// What is read of each relation; the two queries differ only in how they find them.
///
/// Every kind of relation is read, because every kind takes part in name resolution; columns
/// only of those that have them. The search path comes from the same statement: the session's
/// own (after the role's and database's settings, or the plan's override sent at connect),
/// `current_schemas(true)` being the order PostgreSQL really searches.
///
/// A default cannot refer to a column, so it is deparsed without the relation (`0`): that skips
/// a relation lookup per default and made the query a third faster on 5,000 tables. Generated
/// columns do refer to columns and keep the relation.
macro_rules! catalog_select {
    () => {
        r#"
SELECT p.effective_path, p.shown_path, p.named_types, r.*
  FROM (SELECT current_schemas(true)::text[] AS effective_path,
               current_schemas(false)::text[] AS shown_path,
               (SELECT json_agg(json_build_array(tn.nspname, t.typname, t.oid::int8, t.typarray::int8))
                  FROM pg_type t JOIN pg_namespace tn ON tn.oid = t.typnamespace
                 WHERE t.typname = ANY($3::text[])) AS named_types) p
  LEFT JOIN LATERAL (
SELECT n.nspname AS schema_name,
       c.relname AS rel_name,
       c.relkind::text AS rel_kind,
       has_schema_privilege(n.oid, 'USAGE') AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
         AND has_table_privilege(c.oid, 'SELECT') AS readable,
       CASE WHEN c.relkind IN ('r', 'p', 'v', 'm', 'f') THEN COALESCE((
         SELECT json_agg(json_build_array(a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                                          CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, 0)
                                               ELSE pg_get_expr(d.adbin, d.adrelid) END,
                                          a.atttypid::int8, a.attidentity <> '') ORDER BY a.attnum)
           FROM pg_attribute a
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       ), '[]'::json) ELSE '[]'::json END AS columns,
       CASE WHEN c.relname = ANY($2::text[]) THEN COALESCE((
         SELECT json_agg(json_build_array(i.relname, ARRAY(
                  SELECT a.attname
                    FROM unnest(x.indkey[0:x.indnkeyatts - 1]) WITH ORDINALITY AS k(attnum, ord)
                    LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                   ORDER BY k.ord)) ORDER BY i.relname)
           FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
          WHERE x.indrelid = c.oid
       ), '[]'::json) ELSE '[]'::json END AS indexes
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace"#
    };
}

/// Every relation named in `$1` (exactly, in any schema), with columns and index key columns,
/// and the search path they are resolved under.
const CATALOG_QUERY: &str = concat!(
    catalog_select!(),
    " WHERE c.relname = ANY($1::text[])",
    catalog_end!()
);

/// The same for relations whose `lower(relname)` is in `$1`: only for names not found exactly,
/// since no index serves it.
const CASE_VARIANTS_QUERY: &str = concat!(
    catalog_select!(),
    " WHERE lower(c.relname) = ANY($1::text[])",
    catalog_end!()
);

/// Row counts (no column) and column values, one row per item, in one statement.
const DATA_QUERY: &str = r#"
SELECT i.ord::int8 AS ord,
       (xpath('/table/row/v/text()', query_to_xml(
          CASE WHEN i.col IS NULL
               THEN format('SELECT count(*) AS v FROM %I.%I', i.sch, i.tab)
               ELSE format('SELECT %I::text AS v FROM %I.%I', i.col, i.sch, i.tab)
          END, false, false, '')))::text[] AS vals
  FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS i(sch, tab, col, ord)
"#;

/// The schema facts and data of one refresh, and how many queries they took.
pub(crate) async fn snapshot(
    pool: &PgPool,
    needs: &Needs,
    limits: super::Limits,
) -> Result<(SchemaSnapshot, DataFacts, usize), sqlx::Error> {
    let started = std::time::Instant::now();
    let mut tx = pool.begin_with("BEGIN READ ONLY").await?;
    tracing::debug!("connection ready after {:?}", started.elapsed());
    let rows = sqlx::query(CATALOG_QUERY)
        .bind(needs.relation_names.clone())
        .bind(needs.index_tables.clone())
        .bind(needs.type_names.clone())
        .fetch_all(&mut *tx)
        .await?;
    let mut schema = snapshot_from_rows(&rows)?;
    tracing::debug!(
        "catalog: {} relations after {:?}",
        schema.relations().len(),
        started.elapsed()
    );
    let mut queries = 1;
    let variants = needs.case_variants(&schema);
    if !variants.is_empty() {
        let rows = sqlx::query(CASE_VARIANTS_QUERY)
            .bind(variants)
            .bind(needs.index_tables.clone())
            .bind(Vec::<String>::new())
            .fetch_all(&mut *tx)
            .await?;
        queries += 1;
        schema.extend(relations_from_rows(&rows)?);
    }
    let items = needs.data_items(&schema);
    tracing::debug!("case variants read after {:?}", started.elapsed());
    let (data, data_queries) = read_data(&mut tx, &items, limits).await?;
    tracing::debug!("data read after {:?}", started.elapsed());
    tx.rollback().await?;
    Ok((schema, data, queries + data_queries))
}

/// The snapshot from the catalog query's rows: the search path and named types ride on every
/// row; a row without a relation only carries them.
fn snapshot_from_rows(rows: &[PgRow]) -> Result<SchemaSnapshot, sqlx::Error> {
    let Some(first) = rows.first() else {
        return Err(sqlx::Error::Protocol(
            "the catalog query returned no row".into(),
        ));
    };
    let search_path = SearchPath {
        effective: first.try_get("effective_path")?,
        shown: first.try_get("shown_path")?,
    };
    let named_types: Option<Value> = first.try_get("named_types")?;
    let mut schema = SchemaSnapshot::new(relations_from_rows(rows)?, search_path);
    schema.named_types = named_types
        .as_ref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| NamedType {
            schema: text_at(t, 0).unwrap_or_default(),
            name: text_at(t, 1).unwrap_or_default(),
            oid: oid_at(t, 2).unwrap_or_default(),
            array_oid: oid_at(t, 3).unwrap_or_default(),
        })
        .collect();
    Ok(schema)
}

fn relations_from_rows(rows: &[PgRow]) -> Result<Vec<Relation>, sqlx::Error> {
    let mut relations = Vec::with_capacity(rows.len());
    for row in rows {
        if row.try_get::<Option<String>, _>("schema_name")?.is_some() {
            relations.push(relation_from_row(row)?);
        }
    }
    Ok(relations)
}

fn relation_from_row(row: &PgRow) -> Result<Relation, sqlx::Error> {
    let kind: String = row.try_get("rel_kind")?;
    let columns: Value = row.try_get("columns")?;
    let indexes: Value = row.try_get("indexes")?;
    Ok(Relation {
        schema: row.try_get("schema_name")?,
        name: row.try_get("rel_name")?,
        kind: match kind.as_str() {
            "r" => RelationKind::Table,
            "p" => RelationKind::PartitionedTable,
            "v" => RelationKind::View,
            "m" => RelationKind::MaterializedView,
            "f" => RelationKind::ForeignTable,
            "S" => RelationKind::Sequence,
            "i" | "I" => RelationKind::Index,
            "c" => RelationKind::CompositeType,
            _ => RelationKind::Other,
        },
        readable: row.try_get("readable")?,
        columns: columns
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| Column {
                name: text_at(c, 0).unwrap_or_default(),
                data_type: text_at(c, 1).unwrap_or_default(),
                not_null: c.get(2).and_then(Value::as_bool).unwrap_or(false),
                default: text_at(c, 3),
                type_oid: oid_at(c, 4),
                identity: c.get(5).and_then(Value::as_bool).unwrap_or(false),
            })
            .collect(),
        indexes: indexes
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| Index {
                name: text_at(i, 0).unwrap_or_default(),
                columns: i
                    .get(1)
                    .and_then(Value::as_array)
                    .map(|cols| {
                        cols.iter()
                            .map(|c| c.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect(),
    })
}

fn oid_at(value: &Value, index: usize) -> Option<u32> {
    value
        .get(index)
        .and_then(Value::as_u64)
        .and_then(|oid| u32::try_from(oid).ok())
}

fn text_at(value: &Value, index: usize) -> Option<String> {
    value.get(index).and_then(Value::as_str).map(str::to_string)
}

/// Reads every data item in one statement; if that fails (a lock, a permission), item by item
/// under savepoints so one bad table costs only its own checks.
async fn read_data(
    conn: &mut PgConnection,
    items: &[DataItem],
    limits: super::Limits,
) -> Result<(DataFacts, usize), sqlx::Error> {
    let mut facts = DataFacts::default();
    if items.is_empty() {
        return Ok((facts, 0));
    }
    match data_query(conn, items).await {
        Ok(values) => {
            for (item, vals) in items.iter().zip(values) {
                facts.record(item, Ok(vals));
            }
        }
        Err(error) if is_connection_error(&error) => return Err(error),
        Err(_) => {
            // `Executor::execute` with a plain &str (not `raw_sql`, whose generic executor keeps a
            // spawned refresh from being provably `Send`) sends these as simple queries.
            conn.execute("ROLLBACK; BEGIN READ ONLY").await?;
            for item in items {
                conn.execute("SAVEPOINT remtrack_item").await?;
                match data_query(conn, std::slice::from_ref(item)).await {
                    Ok(mut values) => facts.record(item, Ok(values.pop().unwrap_or_default())),
                    Err(error) if is_connection_error(&error) => return Err(error),
                    Err(error) => {
                        conn.execute("ROLLBACK TO SAVEPOINT remtrack_item").await?;
                        facts.record(item, Err(describe_error(&error, limits)));
                    }
                }
            }
            return Ok((facts, 1 + items.len()));
        }
    }
    Ok((facts, 1))
}

async fn data_query(
    conn: &mut PgConnection,
    items: &[DataItem],
) -> Result<Vec<Vec<String>>, sqlx::Error> {
    // Owned values: binding borrowed ones makes the future's lifetimes too general to spawn.
    let schemas: Vec<String> = items.iter().map(|i| i.schema().to_string()).collect();
    let tables: Vec<String> = items.iter().map(|i| i.table().to_string()).collect();
    let columns: Vec<Option<String>> = items
        .iter()
        .map(|i| i.column().map(str::to_string))
        .collect();
    let rows = sqlx::query(DATA_QUERY)
        .bind(schemas)
        .bind(tables)
        .bind(columns)
        .fetch_all(&mut *conn)
        .await?;
    let mut values = vec![Vec::new(); items.len()];
    for row in rows {
        let ord: i64 = row.try_get("ord")?;
        let vals: Option<Vec<String>> = row.try_get("vals")?;
        if let Some(slot) = usize::try_from(ord - 1)
            .ok()
            .and_then(|i| values.get_mut(i))
        {
            *slot = vals
                .unwrap_or_default()
                .iter()
                .map(|v| unescape_xml(v))
                .collect();
        }
    }
    Ok(values)
}

/// Runs one screened `sql` check and returns its single value as JSON.
pub(crate) async fn run_sql(
    pool: &PgPool,
    body: &str,
    limits: super::Limits,
) -> Result<SqlOutcome, sqlx::Error> {
    let mut tx = pool.begin_with("BEGIN READ ONLY").await?;
    // The newlines keep a trailing `--` comment in the check from swallowing the parenthesis;
    // json (not jsonb) keeps duplicate column names, so `SELECT 1, 2` counts as two columns.
    let wrapped = format!(
        "SELECT (SELECT count(*) FROM json_each(row_to_json(remtrack_check))) AS n, \
                (SELECT value FROM json_each(row_to_json(remtrack_check)) LIMIT 1) AS v \
           FROM (\n{body}\n) AS remtrack_check LIMIT 2"
    );
    let result = sqlx::query(&wrapped)
        .persistent(false)
        .fetch_all(&mut *tx)
        .await;
    let outcome = match result {
        Ok(rows) => match rows.as_slice() {
            [] => SqlOutcome::Error("returned no rows, expected one row with one column".into()),
            [row] => {
                let columns: i64 = row.try_get("n")?;
                let value: Option<Value> = row.try_get("v")?;
                if columns == 1 {
                    SqlOutcome::Value(value.unwrap_or(Value::Null))
                } else {
                    SqlOutcome::Error(format!("returned {columns} columns, expected one"))
                }
            }
            _ => SqlOutcome::Error("returned more than one row, expected one".into()),
        },
        Err(error) if is_connection_error(&error) => return Err(error),
        Err(error) => SqlOutcome::Error(describe_error(&error, limits)),
    };
    // Dropping the transaction rolls it back; an explicit rollback reports a broken connection.
    let _ = tx.rollback().await;
    Ok(outcome)
}

/// Whether an error means the server or the connection is gone, rather than one query failing.
pub(crate) fn is_connection_error(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // Class 08: connection exception; 57P0x: admin shutdown, crash shutdown, cannot connect now.
            code.starts_with("08")
                || matches!(
                    code.as_ref(),
                    "57P01" | "57P02" | "57P03" | "3D000" | "28000" | "28P01"
                )
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_)
        | sqlx::Error::Configuration(_) => true,
        _ => false,
    }
}

/// One line for a query error, in the words a person expects.
pub(crate) fn describe_error(error: &sqlx::Error, limits: super::Limits) -> String {
    match error {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("57014") => format!("timed out after {}", seconds(limits.statement_timeout)),
            Some("55P03") => format!(
                "timed out after {} waiting for a lock",
                seconds(limits.lock_timeout)
            ),
            Some("25006") => format!(
                "the query tries to write, which a check may not do ({})",
                db.message()
            ),
            Some("42601") => format!(
                "syntax error: {} (a check must be a single SELECT)",
                db.message()
            ),
            _ => db.message().to_string(),
        },
        other => other.to_string(),
    }
}

fn unescape_xml(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#x0D;", "\r")
        .replace("&amp;", "&")
}
