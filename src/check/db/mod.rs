//! The database as a source of facts: the connection (`target`), the catalog and data read on
//! PostgreSQL (`postgres`, `pg_catalog`) and SQLite (`sqlite`), and libpq's connection strings.
//! Everything here only reads: read-only transactions, timeouts, names bound as parameters.

pub mod conninfo;
pub(super) mod pg_catalog;
mod pg_vocabulary;
pub(super) mod postgres;
pub(super) mod sqlite;
mod sqlite_ddl;
mod sqlite_objects;
pub(super) mod target;
