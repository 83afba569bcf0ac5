//! The database a fix is written to: its own connection from its own URL (`--apply-url`,
//! `REMTRACK_APPLY_URL`), never the checks' read-only pool, with timeouts on every statement.

use std::time::Duration;

use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions as _, Connection as _};

use crate::Backend;
use crate::check::{Limits, TargetError, as_url, pg_options, startup_search_path};
use crate::redact::redact_url;

/// Where a fix may be written, not yet connected.
#[derive(Clone)]
pub struct WriteTarget {
    /// Kept whole to connect; shown only through [`WriteTarget::display_url`].
    url: String,
    shown: String,
    backend: Backend,
    limits: FixLimits,
    search_path: Option<Vec<String>>,
}

/// The time limits a fix runs under: longer statements than a check's (a migration may rewrite
/// a table), a short wait for locks (an application holding one must not be queued behind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixLimits {
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
    pub connect_timeout: Duration,
}

impl Default for FixLimits {
    fn default() -> Self {
        FixLimits {
            statement_timeout: Duration::from_secs(60),
            lock_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

impl FixLimits {
    /// The limits the checks inside the fix's transaction run under.
    pub fn for_checks(self) -> Limits {
        Limits {
            statement_timeout: self.statement_timeout,
            lock_timeout: self.lock_timeout,
            connect_timeout: self.connect_timeout,
        }
    }
}

/// One open write connection.
pub enum WriteConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// The name the fix's session carries on the server (`pg_stat_activity.application_name`), so
/// that someone else trying the same fix is told who holds it. PostgreSQL keeps 63 bytes.
pub fn session_name(actor: &str, applying: bool) -> String {
    let verb = if applying { "applying" } else { "dry run" };
    let mut name = format!("remtrack fix ({verb}) by {actor}");
    while name.len() > 63 {
        name.pop();
    }
    name
}

impl std::fmt::Debug for WriteTarget {
    /// Never the password: debug output reaches logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteTarget")
            .field("url", &self.shown)
            .field("backend", &self.backend)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl WriteTarget {
    /// Checks the URL; connects nothing yet.
    pub fn open(
        url: &str,
        limits: FixLimits,
        search_path: Option<&[String]>,
    ) -> Result<WriteTarget, TargetError> {
        let url = as_url(url)?.into_owned();
        let shown = redact_url(&url);
        let backend = Backend::from_url(&url).ok_or_else(|| TargetError::BadUrl {
            url: shown.clone(),
            reason: "expected a postgres://, postgresql:// or sqlite: URL".into(),
        })?;
        if backend == Backend::Postgres {
            pg_options(&url)?;
        }
        Ok(WriteTarget {
            url,
            shown,
            backend,
            limits,
            search_path: search_path.map(<[String]>::to_vec),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn limits(&self) -> FixLimits {
        self.limits
    }

    /// The URL with any password replaced by `***`.
    pub fn display_url(&self) -> &str {
        &self.shown
    }

    /// `text` with the URL's password (and secret parameters) replaced, for messages that may
    /// echo the URL.
    pub fn redact(&self, text: &str) -> String {
        crate::redact::redact_text(text, &self.url)
    }

    /// Which database this is, as marks and events name it.
    pub fn identity(&self) -> String {
        crate::identity::database_identity(&self.url)
    }

    /// One connection, writable, named after `actor`.
    pub async fn connect(
        &self,
        actor: &str,
        applying: bool,
    ) -> Result<WriteConnection, sqlx::Error> {
        let attempt = async {
            match self.backend {
                Backend::Postgres => {
                    let mut settings = vec![
                        // A role or database may default to read-only; a fix must not inherit it.
                        ("default_transaction_read_only", "off".to_string()),
                        (
                            "statement_timeout",
                            self.limits.statement_timeout.as_millis().to_string(),
                        ),
                        (
                            "lock_timeout",
                            self.limits.lock_timeout.as_millis().to_string(),
                        ),
                        // A process stopped mid-fix (a laptop shut) must not hold its locks.
                        ("idle_in_transaction_session_timeout", "60000".to_string()),
                        ("jit", "off".to_string()),
                    ];
                    if let Some(path) = &self.search_path {
                        settings.push(("search_path", startup_search_path(path)));
                    }
                    let options = pg_options(&self.url)
                        .map_err(|error| sqlx::Error::Configuration(error.to_string().into()))?
                        .application_name(&session_name(actor, applying))
                        .options(settings);
                    PgConnection::connect_with(&options)
                        .await
                        .map(WriteConnection::Postgres)
                }
                Backend::Sqlite => {
                    let options: SqliteConnectOptions = self.url.parse()?;
                    let options = options
                        .create_if_missing(false)
                        .busy_timeout(self.limits.lock_timeout);
                    options.connect().await.map(WriteConnection::Sqlite)
                }
            }
        };
        tokio::time::timeout(self.limits.connect_timeout, attempt)
            .await
            .unwrap_or(Err(sqlx::Error::PoolTimedOut))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_name_says_who_and_fits_the_server() {
        assert_eq!(session_name("ana", true), "remtrack fix (applying) by ana");
        assert_eq!(session_name("ana", false), "remtrack fix (dry run) by ana");
        assert!(session_name(&"é".repeat(80), true).len() <= 63);
    }

    #[test]
    fn a_password_in_the_url_is_never_shown() {
        let target = WriteTarget::open(
            "postgres://fixer:s3cret@db.example/app",
            FixLimits::default(),
            None,
        )
        .unwrap();
        assert!(!target.display_url().contains("s3cret"));
        assert!(!format!("{target:?}").contains("s3cret"));
        assert_eq!(
            target.redact("password authentication failed: s3cret"),
            "password authentication failed: ***"
        );
    }
}
