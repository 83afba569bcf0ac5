//! The database being checked: connecting to it read-only, with the limits every query runs under.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

use crate::Backend;
use crate::redact::redact_url;

/// Time limits for every statement a refresh sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
    pub connect_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            statement_timeout: Duration::from_secs(5),
            lock_timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// A duration as people write it in messages: `5 s`, `0.5 s`.
pub(crate) fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs:.1} s")
    }
}

/// Why the target database could not be used at all (as opposed to one check failing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("bad database URL {url}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The server answered and said no: a wrong password, a missing database, a role that may
    /// not connect. Not an outage: retrying would only trip lock-outs and alerts.
    #[error("{url} refused the connection: {reason}")]
    Refused { url: String, reason: String },
}

impl TargetError {
    /// Whether trying again later may help: not when the server refused us.
    pub fn is_refused(&self) -> bool {
        matches!(self, TargetError::Refused { .. })
    }

    /// Why, without the URL (which the message repeats).
    pub fn reason(&self) -> &str {
        match self {
            TargetError::BadUrl { reason, .. }
            | TargetError::Unreachable { reason, .. }
            | TargetError::Refused { reason, .. } => reason,
        }
    }
}

/// A connection pool to the database under check, opened read-only.
#[derive(Debug, Clone)]
pub enum Target {
    Postgres {
        pool: PgPool,
        url: String,
        limits: Limits,
    },
    Sqlite {
        pool: SqlitePool,
        url: String,
        limits: Limits,
    },
}

/// How many `sql` checks run at once on PostgreSQL, beside the catalog connection.
const SQL_CHECK_CONNECTIONS: u32 = 3;

/// libpq accepts `postgres://user@/db?host=/run/postgresql` (a user, no host, the socket as a
/// parameter); the URL parser under sqlx wants a host after `@`. The `host` parameter names the
/// socket either way, so a placeholder host changes nothing else.
fn with_socket_host(url: &str) -> std::borrow::Cow<'_, str> {
    let has_host_parameter = url
        .split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|pair| pair.starts_with("host=")));
    match url.split_once("://") {
        Some((scheme, rest)) if has_host_parameter => match rest.split_once("@/") {
            Some((user, path)) if !user.contains('/') => {
                format!("{scheme}://{user}@localhost/{path}").into()
            }
            _ => url.into(),
        },
        _ => url.into(),
    }
}

/// `"migration","public"` as a startup option: each schema a quoted identifier (so no name is
/// read as SQL or as a list separator), and the backslash escapes PostgreSQL's option splitter
/// needs before white space and backslashes.
pub(crate) fn startup_search_path(path: &[String]) -> String {
    let list = path
        .iter()
        .map(|schema| format!("\"{}\"", schema.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(",");
    let mut escaped = String::with_capacity(list.len());
    for c in list.chars() {
        if c.is_whitespace() || c == '\\' {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// libpq's `host=… dbname=…` form, as psql takes it, as the URL the driver reads; a URL as it is.
pub(crate) fn as_url(url: &str) -> Result<std::borrow::Cow<'_, str>, TargetError> {
    if super::conninfo::is_conninfo(url) {
        super::conninfo::to_url(url)
            .map(std::borrow::Cow::Owned)
            .map_err(|reason| TargetError::BadUrl {
                url: "(key=value connection string)".into(),
                reason,
            })
    } else {
        Ok(url.into())
    }
}

/// The driver's options for a PostgreSQL URL, before any session setting; errors redacted.
pub(crate) fn pg_options(url: &str) -> Result<PgConnectOptions, TargetError> {
    with_socket_host(url)
        .parse()
        .map_err(|e: sqlx::Error| TargetError::BadUrl {
            url: redact_url(url),
            reason: crate::redact::redact_text(&e.to_string(), url),
        })
}

impl Target {
    /// Parses `url` and prepares a pool. Connections are made lazily, so a database that is down
    /// now can still be checked once it comes back.
    pub fn open(url: &str, limits: Limits) -> Result<Target, TargetError> {
        Target::open_with(url, limits, None)
    }

    /// As [`Target::open`], with the search path the checking session resolves names in
    /// (PostgreSQL; SQLite resolves in `main`). It is sent at connect, so it costs no round trip
    /// and `sql` checks see the same names as the catalog snapshot.
    pub fn open_with(
        url: &str,
        limits: Limits,
        search_path: Option<&[String]>,
    ) -> Result<Target, TargetError> {
        let converted = as_url(url)?;
        let url = converted.as_ref();
        let shown = redact_url(url);
        let bad = |reason: String| TargetError::BadUrl {
            url: shown.clone(),
            reason,
        };
        match Backend::from_url(url) {
            Some(Backend::Postgres) => {
                let options = pg_options(url)?;
                let mut settings = vec![
                    ("default_transaction_read_only", "on".to_string()),
                    (
                        "statement_timeout",
                        limits.statement_timeout.as_millis().to_string(),
                    ),
                    ("lock_timeout", limits.lock_timeout.as_millis().to_string()),
                    ("idle_in_transaction_session_timeout", "60000".to_string()),
                    // The catalog statement is long, and the planner's guesses for its unnest
                    // arrays can put its cost over jit_optimize_above_cost: compiling it then
                    // took 4 s of a 5 s timeout on 5,000 tables, to save nothing.
                    ("jit", "off".to_string()),
                ];
                if let Some(path) = search_path {
                    settings.push(("search_path", startup_search_path(path)));
                }
                let options = options.application_name("remtrack").options(settings);
                let pool = PgPoolOptions::new()
                    .max_connections(1 + SQL_CHECK_CONNECTIONS)
                    .min_connections(0)
                    .acquire_timeout(limits.connect_timeout)
                    .idle_timeout(Duration::from_secs(300))
                    .test_before_acquire(true)
                    .connect_lazy_with(options);
                Ok(Target::Postgres {
                    pool,
                    url: shown,
                    limits,
                })
            }
            Some(Backend::Sqlite) => {
                let options: SqliteConnectOptions =
                    url.parse().map_err(|e: sqlx::Error| bad(e.to_string()))?;
                let options = options
                    .read_only(true)
                    .create_if_missing(false)
                    .busy_timeout(limits.lock_timeout)
                    .pragma("query_only", "ON");
                let pool = SqlitePoolOptions::new()
                    .max_connections(1 + SQL_CHECK_CONNECTIONS)
                    .min_connections(0)
                    .acquire_timeout(limits.connect_timeout)
                    .connect_lazy_with(options);
                Ok(Target::Sqlite {
                    pool,
                    url: shown,
                    limits,
                })
            }
            None => Err(bad(
                "expected a postgres://, postgresql:// or sqlite: URL".into()
            )),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Target::Postgres { .. } => Backend::Postgres,
            Target::Sqlite { .. } => Backend::Sqlite,
        }
    }

    /// The URL with any password replaced by `***`.
    pub fn display_url(&self) -> &str {
        match self {
            Target::Postgres { url, .. } | Target::Sqlite { url, .. } => url,
        }
    }

    pub fn limits(&self) -> Limits {
        match self {
            Target::Postgres { limits, .. } | Target::Sqlite { limits, .. } => *limits,
        }
    }

    /// Connects once, directly, and says why that fails, if it does. The pool retries a refused
    /// connection until its timeout (the server may be starting) and then reports only that it
    /// timed out; one direct attempt gets the reason ("Connection refused", an auth error) at once.
    pub(crate) async fn probe(&self) -> Result<(), sqlx::Error> {
        use sqlx::{ConnectOptions as _, Connection as _};
        let attempt = async {
            match self {
                Target::Postgres { pool, .. } => {
                    pool.connect_options().connect().await?.close().await
                }
                Target::Sqlite { pool, .. } => {
                    pool.connect_options().connect().await?.close().await
                }
            }
        };
        tokio::time::timeout(self.limits().connect_timeout, attempt)
            .await
            .unwrap_or(Err(sqlx::Error::PoolTimedOut))
    }

    /// What the server at the target's address says before it is asked anything, when it is
    /// not PostgreSQL (PostgreSQL never speaks first): `SSH-2.0-OpenSSH_9.2`. `None` when it
    /// says nothing, is not TCP, or cannot be reached.
    pub(crate) async fn stranger_greeting(&self) -> Option<String> {
        let Target::Postgres { pool, .. } = self else {
            return None;
        };
        let options = pool.connect_options();
        let (host, port) = (options.get_host().to_string(), options.get_port());
        if host.starts_with('/') {
            return None;
        }
        let sniff = async {
            use tokio::io::AsyncReadExt as _;
            let mut stream = tokio::net::TcpStream::connect((host.as_str(), port))
                .await
                .ok()?;
            let mut bytes = [0u8; 64];
            let read = stream.read(&mut bytes).await.ok()?;
            (read > 0)
                .then(|| crate::printable::one_line(String::from_utf8_lossy(&bytes[..read]).trim()))
        };
        tokio::time::timeout(Duration::from_millis(500), sniff)
            .await
            .ok()
            .flatten()
    }

    /// Whether the pool holds no connection yet (first use, or all closed).
    pub(crate) fn is_cold(&self) -> bool {
        match self {
            Target::Postgres { pool, .. } => pool.size() == 0,
            Target::Sqlite { pool, .. } => pool.size() == 0,
        }
    }

    pub async fn close(&self) {
        match self {
            Target::Postgres { pool, .. } => pool.close().await,
            Target::Sqlite { pool, .. } => pool.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_socket_host;

    #[test]
    fn a_user_without_a_host_before_a_socket_parameter_gets_a_placeholder_host() {
        assert_eq!(
            with_socket_host("postgres://ana@/app?host=/run/postgresql"),
            "postgres://ana@localhost/app?host=/run/postgresql"
        );
        assert_eq!(
            with_socket_host("postgresql://ana:pw@/app?sslmode=disable&host=/tmp"),
            "postgresql://ana:pw@localhost/app?sslmode=disable&host=/tmp"
        );
        for unchanged in [
            "postgres://ana@db/app?host=/tmp",
            "postgres://ana@/app",
            "postgresql:///app?host=/tmp",
        ] {
            assert_eq!(with_socket_host(unchanged), unchanged);
        }
    }
}
