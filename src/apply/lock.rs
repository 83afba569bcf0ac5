//! One fix of a task at a time per database: PostgreSQL's advisory lock, keyed by the task id,
//! and who holds it, from the session name [`super::session_name`] gave.

use sha2::{Digest as _, Sha256};

use super::write_target::WriteConnection;

/// PostgreSQL's advisory lock for one task's fix, in this database: `None` once taken (it ends
/// with the transaction), else who holds it.
pub(super) async fn take_lock(
    conn: &mut WriteConnection,
    task_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let WriteConnection::Postgres(pg) = conn else {
        // SQLite: BEGIN IMMEDIATE already made this the only writer.
        return Ok(None);
    };
    let key = lock_key(task_id);
    let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(key)
        .fetch_one(&mut *pg)
        .await?;
    if taken {
        return Ok(None);
    }
    let holder: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT a.application_name, a.usename::text
           FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND l.classid::int8 = ($1 >> 32) & 4294967295 AND l.objid::int8 = $1 & 4294967295
            AND l.objsubid = 1
          LIMIT 1",
    )
    .bind(key)
    .fetch_optional(&mut *pg)
    .await?;
    let who = match holder {
        Some((Some(name), _)) if name.starts_with("remtrack fix") => {
            holder_words(&name).unwrap_or(name)
        }
        Some((_, Some(role))) => format!("a session of role {role} holds it"),
        _ => "another session holds it".into(),
    };
    Ok(Some(format!(
        "another fix of {task_id} is running on this database: {who}; try again when it is done"
    )))
}

/// `ana is applying it`, from the session name [`super::session_name`] gave.
fn holder_words(session: &str) -> Option<String> {
    let rest = session.strip_prefix("remtrack fix (")?;
    let (doing, who) = rest.split_once(") by ")?;
    Some(match doing {
        "applying" => format!("{who} is applying it"),
        _ => format!("{who} is dry-running it"),
    })
}

/// The advisory lock's key: the same for every remtrack, derived from the task id.
fn lock_key(task_id: &str) -> i64 {
    let digest = Sha256::digest(format!("remtrack fix {task_id}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::{holder_words, lock_key};

    #[test]
    fn every_task_has_its_own_lock_and_every_remtrack_the_same() {
        assert_eq!(
            lock_key("master-flow-columns"),
            lock_key("master-flow-columns")
        );
        assert_ne!(
            lock_key("master-flow-columns"),
            lock_key("drop-discovery-assets")
        );
    }

    #[test]
    fn the_holder_is_named_as_people_say_it() {
        assert_eq!(
            holder_words("remtrack fix (applying) by ana").as_deref(),
            Some("ana is applying it")
        );
        assert_eq!(
            holder_words("remtrack fix (dry run) by bob").as_deref(),
            Some("bob is dry-running it")
        );
    }
}
