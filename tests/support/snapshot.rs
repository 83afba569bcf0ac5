//! What a database holds, as text two moments can be compared by: every relation, column (type,
//! nullability, default), index, constraint and comment, and the rows of every table. A fix
//! that was rolled back must leave the same text behind; one that was committed must not.

use std::path::Path;

use sha2::{Digest as _, Sha256};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _, PgConnection, Row as _};

/// Every schema but the server's own.
const USER_SCHEMAS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'";

/// The schema and rows of the PostgreSQL database at `url`, one sorted line per fact.
pub async fn pg_snapshot(url: &str) -> String {
    let query = format!(
        "WITH rels AS (
             SELECT c.oid, n.nspname, c.relname, c.relkind
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE {USER_SCHEMAS})
         SELECT line FROM (
             SELECT format('relation %I.%I (%s)', nspname, relname, relkind) AS line FROM rels
             UNION ALL
             SELECT format('column %I.%I.%I %s%s%s', r.nspname, r.relname, a.attname,
                           format_type(a.atttypid, a.atttypmod),
                           CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
                           coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), ''))
               FROM rels r
               JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
               LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             UNION ALL
             SELECT format('index %I.%I%s: %s', r.nspname, r.relname,
                           CASE WHEN i.indisvalid THEN '' ELSE ' (invalid)' END,
                           pg_get_indexdef(i.indexrelid))
               FROM pg_index i JOIN rels r ON r.oid = i.indexrelid
             UNION ALL
             SELECT format('constraint %I.%I on %s: %s', n.nspname, co.conname,
                           co.conrelid::regclass, pg_get_constraintdef(co.oid))
               FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace
              WHERE {USER_SCHEMAS}
             UNION ALL
             SELECT format('comment %I.%I: %s', nspname, relname, obj_description(oid, 'pg_class'))
               FROM rels WHERE obj_description(oid, 'pg_class') IS NOT NULL
             UNION ALL
             SELECT format('rows %I.%I %s', nspname, relname,
                           (xpath('/row/n/text()', query_to_xml(
                               format('SELECT count(*) AS n FROM %I.%I', nspname, relname),
                               false, true, '')))[1]::text)
               FROM rels WHERE relkind IN ('r', 'p')
         ) facts ORDER BY line"
    );
    let mut conn = PgConnection::connect(url).await.unwrap();
    let lines: Vec<String> = sqlx::query_scalar(&query)
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    lines.join("\n")
}

/// The same for the SQLite file at `path`: `sqlite_master` and the rows of every table. The
/// connection may write (a hot journal left by a killed writer is rolled back on opening, as
/// any next connection would) but only reads.
pub async fn sqlite_snapshot(path: &Path) -> String {
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .connect()
        .await
        .unwrap();
    let mut lines = Vec::new();
    let objects = sqlx::query(
        "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for object in &objects {
        let (kind, name, table, sql): (String, String, String, String) =
            (object.get(0), object.get(1), object.get(2), object.get(3));
        lines.push(format!("{kind} {name} on {table}: {sql}"));
        if kind == "table" {
            let rows: i64 = sqlx::query_scalar(&format!(
                "SELECT count(*) FROM \"{}\"",
                name.replace('"', "\"\"")
            ))
            .fetch_one(&mut conn)
            .await
            .unwrap();
            lines.push(format!("rows {name} {rows}"));
        }
    }
    conn.close().await.unwrap();
    lines.join("\n")
}

/// The sha256 of the file's bytes.
pub fn file_sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Sha256::digest(&bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A SQLite file's journal, present while a write transaction is under way (or was cut off).
pub fn sqlite_journal(path: &Path) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-journal");
    name.into()
}
