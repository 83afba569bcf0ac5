//! The embedded demo: a fresh SQLite database reproducing the seed report's "current database
//! reality", to check the shipped plan against in one command.

pub mod code;

use std::path::{Path, PathBuf};

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// The schema and rows of the seed's reality; valid SQL for SQLite and PostgreSQL alike.
pub const REALITY_SQL: &str = include_str!("reality.sql");

/// The plan shipped with remtrack (`plan.json`), which the demo checks by default.
pub const SHIPPED_PLAN: &str = include_str!("../../plan.json");

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{} already exists; remove it or choose another --db path (the demo never overwrites a file)", .0.display())]
    Exists(PathBuf),
    #[error("cannot create the demo database {}: {source}", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
}

/// Creates the demo database at `path` (which must not exist) and returns its `sqlite:` URL.
pub async fn build_demo_database(path: &Path) -> Result<String, DemoError> {
    if path.exists() {
        return Err(DemoError::Exists(path.to_path_buf()));
    }
    let create = |source| DemoError::Create {
        path: path.to_path_buf(),
        source,
    };
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .connect()
        .await
        .map_err(create)?;
    sqlx::raw_sql(REALITY_SQL)
        .execute(&mut conn)
        .await
        .map_err(create)?;
    conn.close().await.map_err(create)?;
    Ok(format!("sqlite:{}", path.display()))
}
