//! One refresh: work out what the plan needs to know, ask the database, judge every check.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use time::OffsetDateTime;

use super::facts::{DataFacts, SchemaSnapshot, SqlOutcome};
use super::target::{Target, TargetError};
use super::{TaskVerdicts, Verdicts, evaluate, postgres, screen_check_sql, sqlite};
use crate::Backend;
use crate::plan::{Check, CheckSpec, Plan};

pub(crate) const DEFAULT_MIGRATION_TABLE: &str = "alembic_version";
pub(crate) const DEFAULT_MIGRATION_COLUMN: &str = "version_num";

/// The result of one refresh.
#[derive(Debug, Clone, PartialEq)]
pub struct Refresh {
    pub verdicts: Verdicts,
    pub checked_at: OffsetDateTime,
    pub duration: Duration,
    /// Queries sent to the target (transaction control aside), for the curious and the benchmark.
    pub queries: usize,
}

/// What a refresh must read, gathered from every check and guard in the plan.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    /// The names of every relation the plan mentions, as written (looked up in every schema).
    pub relation_names: Vec<String>,
    /// Tables whose indexes the plan asks about; only theirs are read.
    pub index_tables: Vec<String>,
    row_counts: BTreeSet<(String, String)>,
    migrations: BTreeSet<(String, String, String)>,
}

impl Needs {
    /// Names the exact lookup found in no schema, lower-cased, to look up once more ignoring
    /// case, so that "a table Foo exists (names are case-sensitive)" can be reported. Only these
    /// go through `lower(relname)`, which no catalog index serves.
    pub(crate) fn case_variants(&self, found: &SchemaSnapshot) -> Vec<String> {
        self.relation_names
            .iter()
            .filter(|name| !found.has_name(name))
            .flat_map(|name| lower_spellings(name))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
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

impl Needs {
    pub fn of(plan: &Plan, backend: Backend) -> Needs {
        let mut needs = Needs::default();
        let mut names = BTreeSet::new();
        let mut index_tables = BTreeSet::new();
        let default_schema = backend.default_schema();
        for check in all_checks(plan) {
            let schema =
                |s: &Option<String>| s.clone().unwrap_or_else(|| default_schema.to_string());
            match &check.spec {
                CheckSpec::TableExists { table, .. }
                | CheckSpec::TableAbsent { table, .. }
                | CheckSpec::ColumnExists { table, .. }
                | CheckSpec::ColumnAbsent { table, .. } => {
                    names.insert(table.clone());
                }
                CheckSpec::IndexExists { table, .. } => {
                    names.insert(table.clone());
                    index_tables.insert(table.clone());
                }
                CheckSpec::RowCount {
                    table, schema: s, ..
                } => {
                    names.insert(table.clone());
                    needs.row_counts.insert((schema(s), table.clone()));
                }
                CheckSpec::MigrationVersion {
                    table,
                    column,
                    schema: s,
                    ..
                } => {
                    let table = table
                        .clone()
                        .unwrap_or_else(|| DEFAULT_MIGRATION_TABLE.into());
                    let column = column
                        .clone()
                        .unwrap_or_else(|| DEFAULT_MIGRATION_COLUMN.into());
                    names.insert(table.clone());
                    needs.migrations.insert((schema(s), table, column));
                }
                CheckSpec::Sql { .. } => {}
            }
        }
        // `table_absent` evidence mentions how many rows are left, when the table is readable.
        for check in all_checks(plan) {
            if let CheckSpec::TableAbsent { table, schema } = &check.spec {
                needs.row_counts.insert((
                    schema.clone().unwrap_or_else(|| default_schema.into()),
                    table.clone(),
                ));
            }
        }
        needs.relation_names = names.into_iter().collect();
        needs.index_tables = index_tables.into_iter().collect();
        needs
    }

    /// The data to read, limited to readable tables (and existing columns) found in the catalog,
    /// so that every name sent is one the database itself reported.
    pub(crate) fn data_items(&self, snapshot: &SchemaSnapshot) -> Vec<DataItem> {
        let counts = self.row_counts.iter().filter_map(|(schema, table)| {
            let relation = snapshot.table(schema, table).filter(|r| r.readable)?;
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
                let relation = snapshot.table(schema, table).filter(|r| r.readable)?;
                let column = relation.columns.iter().find(|c| &c.name == column)?;
                Some(DataItem {
                    schema: relation.schema.clone(),
                    table: relation.name.clone(),
                    column: Some(column.name.clone()),
                })
            });
        counts.chain(versions).collect()
    }
}

impl DataFacts {
    pub(crate) fn record(&mut self, item: &DataItem, values: Result<Vec<String>, String>) {
        let key = (item.schema.clone(), item.table.clone());
        match &item.column {
            None => {
                let count = values.and_then(|values| {
                    values
                        .first()
                        .and_then(|v| v.parse::<u64>().ok())
                        .ok_or_else(|| "row count not returned".to_string())
                });
                self.row_counts.insert(key, count);
            }
            Some(column) => {
                self.migration_versions
                    .insert((key.0, key.1, column.clone()), values);
            }
        }
    }
}

/// Every check and guard in the plan, in plan order.
fn all_checks(plan: &Plan) -> impl Iterator<Item = &Check> {
    plan.tasks.iter().flat_map(|task| {
        task.checks
            .iter()
            .chain(task.fix.iter().flat_map(|fix| fix.guards.iter()))
    })
}

/// Checks the whole plan against the target: one catalog snapshot, one data query, then the `sql`
/// checks concurrently on the pool. Fails only when the database cannot be used at all.
pub async fn refresh(plan: &Plan, target: &Target) -> Result<Refresh, TargetError> {
    let started = Instant::now();
    let checked_at = OffsetDateTime::now_utc();
    let backend = target.backend();
    let limits = target.limits();
    let needs = Needs::of(plan, backend);
    // A server that stops answering mid-query must not hang the refresh past its own limits.
    let deadline = limits.connect_timeout + limits.statement_timeout * 2 + Duration::from_secs(1);
    let unreachable = |reason: String| TargetError::Unreachable {
        url: target.display_url().to_string(),
        reason,
    };

    // A pool with no connection yet would retry a refused one for the whole connect timeout;
    // one direct attempt first says at once why the database cannot be reached.
    if target.is_cold()
        && let Err(error) = target.probe().await
    {
        return Err(unreachable(connection_reason(&error)));
    }
    let snapshot = async {
        let started = Instant::now();
        let snapshot = match target {
            Target::Postgres { pool, .. } => postgres::snapshot(pool, &needs, limits).await,
            Target::Sqlite { pool, .. } => sqlite::snapshot(pool, &needs).await,
        };
        tracing::debug!("catalog and data read in {:?}", started.elapsed());
        snapshot
    };
    // Owned inputs keep each job's future free of borrowed lifetimes, so a refresh can run on
    // a spawned task.
    let sql_jobs: Vec<_> = sql_checks(plan)
        .map(|check| run_sql_check(target.clone(), check.spec.clone()))
        .collect();
    let (snapshot, sql_results) = tokio::time::timeout(deadline, async {
        // After the snapshot, not beside it: on a small server the catalog query is CPU-bound,
        // and `sql` checks competing with it made the whole refresh slower, not faster.
        let snapshot = snapshot.await;
        // A database that could not give the snapshot is not asked again for each `sql` check:
        // each would wait out its own connect timeout before the refresh could say "offline".
        let sql_results = if snapshot.is_ok() {
            join_all(sql_jobs).await
        } else {
            Vec::new()
        };
        (snapshot, sql_results)
    })
    .await
    .map_err(|_| unreachable(format!("no answer within {}", postgres::seconds(deadline))))?;
    let (schema, data, statements) = match snapshot {
        Ok(snapshot) => snapshot,
        Err(sqlx::Error::PoolTimedOut) => {
            let reason = match target.probe().await {
                Err(error) => connection_reason(&error),
                Ok(()) => connection_reason(&sqlx::Error::PoolTimedOut),
            };
            return Err(unreachable(reason));
        }
        Err(error) => return Err(unreachable(connection_reason(&error))),
    };
    let mut sql_outcomes = Vec::with_capacity(sql_results.len());
    for result in sql_results {
        sql_outcomes.push(result.map_err(|error| unreachable(connection_reason(&error)))?);
    }

    tracing::debug!("all queries answered after {:?}", started.elapsed());
    let mut sql_outcomes = sql_outcomes.into_iter();
    let mut judge = |check: &Check| {
        let sql = matches!(check.spec, CheckSpec::Sql { .. })
            .then(|| sql_outcomes.next())
            .flatten();
        evaluate(&check.spec, backend, &schema, &data, sql.as_ref())
    };
    let verdicts = Verdicts {
        tasks: plan
            .tasks
            .iter()
            .map(|task| TaskVerdicts {
                checks: task.checks.iter().map(&mut judge).collect(),
                guards: task
                    .fix
                    .iter()
                    .flat_map(|fix| fix.guards.iter())
                    .map(&mut judge)
                    .collect(),
            })
            .collect(),
    };
    tracing::debug!("judged after {:?}", started.elapsed());
    Ok(Refresh {
        verdicts,
        checked_at,
        duration: started.elapsed(),
        queries: statements + sql_checks(plan).count(),
    })
}

fn sql_checks(plan: &Plan) -> impl Iterator<Item = &Check> {
    all_checks(plan).filter(|check| matches!(check.spec, CheckSpec::Sql { .. }))
}

async fn run_sql_check(target: Target, spec: CheckSpec) -> Result<SqlOutcome, sqlx::Error> {
    let CheckSpec::Sql { query, .. } = &spec else {
        return Ok(SqlOutcome::Error("not a sql check".into()));
    };
    let backend = target.backend();
    let Some(text) = query.for_backend(backend) else {
        return Ok(SqlOutcome::Error(format!(
            "no query for {}",
            backend.name()
        )));
    };
    let body = match screen_check_sql(text, backend) {
        Ok(body) => body,
        Err(rejection) => return Ok(SqlOutcome::Error(rejection.to_string())),
    };
    match &target {
        Target::Postgres { pool, limits, .. } => postgres::run_sql(pool, &body, *limits).await,
        Target::Sqlite { pool, limits, .. } => {
            match tokio::time::timeout(limits.statement_timeout, sqlite::run_sql(pool, &body)).await
            {
                Ok(outcome) => outcome,
                Err(_) => Ok(SqlOutcome::Error(format!(
                    "timed out after {}",
                    postgres::seconds(limits.statement_timeout)
                ))),
            }
        }
    }
}

fn connection_reason(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::PoolTimedOut => "timed out connecting".into(),
        sqlx::Error::Database(db) => db.message().to_string(),
        sqlx::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}
