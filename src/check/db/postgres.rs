//! PostgreSQL: the catalog snapshot, the data query and `sql` checks, each in a READ ONLY
//! transaction that is rolled back.
//!
//! Names from the plan are only ever bound as parameters; where a statement must name a table
//! (row counts, migration versions) the server quotes it with `format('%I')`.

use serde_json::Value;
use sqlx::postgres::{PgPool, PgRow};
use sqlx::{Executor as _, PgConnection, Row};

use super::pg_catalog::{CATALOG_QUERY, snapshot_from_rows};
use super::target::seconds;
use crate::check::facts::{DataFacts, QueryJob, SchemaSnapshot, SqlOutcome};
use crate::check::needs::{DataItem, Needs};

/// Row counts (no column) and column values, one row per item, in one statement.
const DATA_QUERY: &str = r#"
SELECT i.ord::int8 AS ord,
       (xpath('/table/row/v/text()', query_to_xml(
          CASE WHEN i.col IS NULL
               THEN format('SELECT count(*) AS v FROM %I.%I', i.sch, i.tab)
               -- Several columns of a registry row, each quoted, joined by U+241F (U+2400 for NULL).
               WHEN strpos(i.col, chr(9247)) > 0
               THEN format('SELECT concat_ws(chr(9247), %s) AS v FROM %I.%I',
                      (SELECT string_agg(format('coalesce(%I::text, chr(9216))', c), ', ' ORDER BY n)
                         FROM unnest(string_to_array(i.col, chr(9247))) WITH ORDINALITY AS u(c, n)),
                      i.sch, i.tab)
               ELSE format('SELECT %I::text AS v FROM %I.%I', i.col, i.sch, i.tab)
          END, false, false, '')))::text[] AS vals
  FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS i(sch, tab, col, ord)
"#;

/// The schema facts and data of one refresh, and how many queries they took: a READ ONLY
/// transaction of the pool's, rolled back.
pub(crate) async fn snapshot(
    pool: &PgPool,
    needs: &Needs,
    limits: crate::check::Limits,
) -> Result<(SchemaSnapshot, DataFacts, usize), sqlx::Error> {
    let started = std::time::Instant::now();
    let mut tx = pool.begin_with("BEGIN READ ONLY").await?;
    tracing::debug!("connection ready after {:?}", started.elapsed());
    let snapshot = snapshot_in(&mut tx, needs, limits, Restart::NewReadOnlyTransaction).await?;
    tx.rollback().await?;
    Ok(snapshot)
}

/// How to go on after a failed statement has aborted the transaction the reads are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Restart {
    /// The reads own the transaction: roll it back and begin a new READ ONLY one.
    NewReadOnlyTransaction,
    /// The reads are a guest in someone else's transaction (a dry run's, which holds the fix's
    /// changes): go back to the savepoint it set before them, never further.
    ToSavepoint(&'static str),
}

impl Restart {
    fn statement(self) -> String {
        match self {
            Restart::NewReadOnlyTransaction => "ROLLBACK; BEGIN READ ONLY".into(),
            // The rollback lifts the read-only setting made inside the savepoint: set it again.
            Restart::ToSavepoint(name) => format!(
                "ROLLBACK TO SAVEPOINT {name}; {}",
                crate::check::in_transaction::READ_ONLY
            ),
        }
    }
}

/// The schema facts and data, read on a connection already in a transaction, and how many
/// queries they took (transaction control aside).
pub(crate) async fn snapshot_in(
    conn: &mut PgConnection,
    needs: &Needs,
    limits: crate::check::Limits,
    restart: Restart,
) -> Result<(SchemaSnapshot, DataFacts, usize), sqlx::Error> {
    let started = std::time::Instant::now();
    let variants = needs.case_variants();
    let rows = sqlx::query(CATALOG_QUERY)
        .bind(needs.relation_names.clone())
        .bind(needs.index_tables.clone())
        .bind(needs.type_names.clone())
        .bind(needs.detail_tables.clone())
        .bind(needs.view_names.clone())
        .bind(needs.constraint_tables.clone())
        .bind(needs.vocabulary.to_json())
        .bind(variants.from)
        .bind(variants.to)
        .bind(variants.names)
        .bind(variants.lowered_a)
        .bind(variants.lowered_b)
        .bind(variants.owner)
        .fetch_all(&mut *conn)
        .await?;
    tracing::debug!(
        "catalog: {} rows fetched after {:?}",
        rows.len(),
        started.elapsed()
    );
    let schema = snapshot_from_rows(&rows)?;
    tracing::debug!(
        "catalog: {} relations after {:?}",
        schema.relations().len(),
        started.elapsed()
    );
    let items = needs.data_items(&schema);
    let (data, data_queries) = read_data(conn, &items, limits, restart).await?;
    tracing::debug!("data read after {:?}", started.elapsed());
    // One catalog statement, then the data.
    Ok((schema, data, 1 + data_queries))
}

/// Reads every data item in one statement; if that fails (a lock, a permission), item by item
/// under savepoints so one bad table costs only its own checks.
async fn read_data(
    conn: &mut PgConnection,
    items: &[DataItem],
    limits: crate::check::Limits,
    restart: Restart,
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
            conn.execute(restart.statement().as_str()).await?;
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

/// One screened `sql` check as a subquery yielding how many columns its row has (`n`) and the
/// first column's value as JSON (`v`), at most two rows. The newlines keep a trailing `--`
/// comment in the check from swallowing the parenthesis; json (not jsonb) keeps duplicate column
/// names, so `SELECT 1, 2` counts as two columns.
///
/// A `rows_match` query yields one row, `n` null and `v` its first rows in the order returned,
/// each as the array of its values (again json, so duplicate names keep their places).
fn wrapped(ord: usize, job: &QueryJob) -> String {
    let body = &job.body;
    match job.rows {
        None => format!(
            "SELECT {ord}::int8 AS ord, \
                    (SELECT count(*) FROM json_each(row_to_json(remtrack_check))) AS n, \
                    (SELECT value FROM json_each(row_to_json(remtrack_check)) LIMIT 1) AS v \
               FROM (\n{body}\n) AS remtrack_check LIMIT 2"
        ),
        Some(cap) => format!(
            "SELECT {ord}::int8 AS ord, NULL::int8 AS n, \
                    (SELECT coalesce(json_agg((SELECT json_agg(value) \
                                                 FROM json_each(row_to_json(remtrack_rows.r))) \
                                              ORDER BY remtrack_rows.remtrack_at), '[]'::json) \
                       FROM (SELECT remtrack_row AS r, row_number() OVER () AS remtrack_at \
                               FROM (\n{body}\n) AS remtrack_row LIMIT {cap}) AS remtrack_rows) AS v"
        ),
    }
}

/// The outcome of one check from the rows its wrapped query returned.
fn outcome_of(rows: &[&PgRow]) -> Result<SqlOutcome, sqlx::Error> {
    Ok(match rows {
        [] => SqlOutcome::Error("returned no rows, expected one row with one column".into()),
        [row] => {
            let columns: Option<i64> = row.try_get("n")?;
            let value: Option<Value> = row.try_get("v")?;
            match columns {
                None => SqlOutcome::Rows(
                    value
                        .and_then(|v| match v {
                            Value::Array(rows) => Some(rows),
                            _ => None,
                        })
                        .unwrap_or_default()
                        .into_iter()
                        .map(|row| match row {
                            Value::Array(values) => values,
                            other => vec![other],
                        })
                        .collect(),
                ),
                Some(1) => SqlOutcome::Value(value.unwrap_or(Value::Null)),
                Some(columns) => {
                    SqlOutcome::Error(format!("returned {columns} columns, expected one"))
                }
            }
        }
        _ => SqlOutcome::Error("returned more than one row, expected one".into()),
    })
}

/// Runs one screened `sql` check and returns its single value as JSON.
pub(crate) async fn run_sql(
    pool: &PgPool,
    job: &QueryJob,
    limits: crate::check::Limits,
) -> Result<SqlOutcome, sqlx::Error> {
    let mut tx = pool.begin_with("BEGIN READ ONLY").await?;
    let outcome = run_sql_on(&mut tx, job, limits).await?;
    // Dropping the transaction rolls it back; an explicit rollback reports a broken connection.
    let _ = tx.rollback().await;
    Ok(outcome)
}

/// Runs one screened `sql` check on a connection in a transaction; a failed query leaves that
/// transaction aborted, for the caller to roll back (or back to its savepoint).
pub(crate) async fn run_sql_on(
    conn: &mut PgConnection,
    job: &QueryJob,
    limits: crate::check::Limits,
) -> Result<SqlOutcome, sqlx::Error> {
    let result = sqlx::query(&wrapped(0, job))
        .persistent(false)
        .fetch_all(&mut *conn)
        .await;
    Ok(match result {
        Ok(rows) => outcome_of(&rows.iter().collect::<Vec<_>>())?,
        Err(error) if is_connection_error(&error) => return Err(error),
        Err(error) => SqlOutcome::Error(describe_error(&error, limits)),
    })
}

/// Runs every screened `sql` check in one statement, each in its own subquery. `None` when the
/// statement fails (one check's error, a lock, a timeout): the caller then runs them one by
/// one, so that each check gets its own verdict.
pub(crate) async fn run_sql_batch(
    pool: &PgPool,
    bodies: &[QueryJob],
) -> Result<Option<Vec<SqlOutcome>>, sqlx::Error> {
    let mut tx = pool.begin_with("BEGIN READ ONLY").await?;
    let outcomes = run_sql_batch_on(&mut tx, bodies).await;
    let _ = tx.rollback().await;
    outcomes
}

/// [`run_sql_batch`] on a connection in a transaction; a `None` leaves that transaction aborted.
pub(crate) async fn run_sql_batch_on(
    conn: &mut PgConnection,
    bodies: &[QueryJob],
) -> Result<Option<Vec<SqlOutcome>>, sqlx::Error> {
    let statement = bodies
        .iter()
        .enumerate()
        .map(|(ord, job)| format!("({})", wrapped(ord, job)))
        .collect::<Vec<_>>()
        .join("\nUNION ALL\n");
    let result = sqlx::query(&statement)
        .persistent(false)
        .fetch_all(&mut *conn)
        .await;
    let rows = match result {
        Ok(rows) => rows,
        Err(error) if is_connection_error(&error) => return Err(error),
        Err(error) => {
            tracing::debug!("sql checks in one statement failed ({error}); running each alone");
            return Ok(None);
        }
    };
    let mut by_check: Vec<Vec<&PgRow>> = vec![Vec::new(); bodies.len()];
    for row in &rows {
        let ord: i64 = row.try_get("ord")?;
        if let Some(slot) = usize::try_from(ord).ok().and_then(|i| by_check.get_mut(i)) {
            slot.push(row);
        }
    }
    by_check
        .iter()
        .map(|rows| outcome_of(rows))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
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
pub(crate) fn describe_error(error: &sqlx::Error, limits: crate::check::Limits) -> String {
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
