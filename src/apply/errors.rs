//! Errors of a fix run in the words a person reads: whether the connection is gone, and what a
//! statement's failure, a timeout or a busy database mean. [`reason`] is the driver's raw
//! message: callers redact it ([`super::WriteTarget::redact`]); [`describe`] redacts itself.

use super::write_target::WriteTarget;
use crate::Backend;

/// Whether the connection is gone (rather than one statement failing).
pub(super) fn is_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
}

pub(super) fn reason(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => db.message().to_string(),
        sqlx::Error::PoolTimedOut => "timed out connecting".into(),
        other => other.to_string(),
    }
}

/// Why the fix's transaction could not begin: on SQLite, mostly another writer (BEGIN IMMEDIATE
/// waits for it as long as the lock timeout).
pub(super) fn cannot_begin(error: &sqlx::Error, target: &WriteTarget) -> String {
    let busy = match error {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            // SQLITE_BUSY and SQLITE_LOCKED, with their extended codes.
            .is_some_and(|code| matches!(code & 0xff, 5 | 6)),
        _ => false,
    };
    if target.backend() == Backend::Sqlite && busy {
        format!(
            "another connection is writing to this database and did not finish within the lock \
             timeout ({}); SQLite allows one writer at a time: try again when it is done ({})",
            crate::check::seconds(target.limits().lock_timeout),
            reason(error)
        )
    } else {
        format!(
            "the transaction could not begin: {}",
            describe(error, target)
        )
    }
}

/// A statement's error as a person reads it: the server's message, with what the timeouts mean.
pub(super) fn describe(error: &sqlx::Error, target: &WriteTarget) -> String {
    let limits = target.limits();
    let text = match error {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            // SQLITE_INTERRUPT: only the statement timeout's progress handler interrupts.
            Some("57014") | Some("9") => format!(
                "it ran longer than the statement timeout ({})",
                crate::check::seconds(limits.statement_timeout)
            ),
            Some("55P03") => format!(
                "it waited longer than the lock timeout ({}) for a lock another session holds",
                crate::check::seconds(limits.lock_timeout)
            ),
            _ => db.message().to_string(),
        },
        sqlx::Error::Protocol(message) => message.clone(),
        other => other.to_string(),
    };
    crate::printable::one_line(&target.redact(&text))
}
