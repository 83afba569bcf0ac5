//! Which statements of a fix cannot be proven: those the database refuses to run inside a
//! transaction (so a dry run could not roll them back), and those that would end or nest the
//! transaction remtrack opens itself. Pure: the words decide.

use crate::Backend;
use crate::check::ScriptStatement;

/// A statement a dry run will not run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untransactable {
    /// 1-based, as people count statements.
    pub number: usize,
    pub text: String,
    pub reason: String,
}

/// The statements of `script` that cannot run inside the fix's one transaction.
/// `server_version` is PostgreSQL's `server_version_num` (e.g. 150018), when known.
pub fn untransactable(
    script: &[ScriptStatement],
    backend: Backend,
    server_version: Option<u32>,
) -> Vec<Untransactable> {
    script
        .iter()
        .enumerate()
        .filter_map(|(at, statement)| {
            let reason = match backend {
                Backend::Postgres => postgres_reason(&statement.keywords, server_version),
                Backend::Sqlite => sqlite_reason(&statement.keywords),
            }?;
            Some(Untransactable {
                number: at + 1,
                text: statement.text.clone(),
                reason,
            })
        })
        .collect()
}

fn words(keywords: &[String]) -> Vec<&str> {
    keywords.iter().map(String::as_str).collect()
}

const ENDS_THE_TRANSACTION: &str = "it would end or nest the one transaction a fix runs in \
     (remtrack begins it, and commits it only once the checks pass): remove it from the fix";

fn postgres_reason(keywords: &[String], server_version: Option<u32>) -> Option<String> {
    let w = words(keywords);
    let cannot = |what: &str| Some(format!("{what} cannot run inside a transaction"));
    match w.as_slice() {
        [
            "begin" | "start" | "commit" | "end" | "rollback" | "abort" | "savepoint" | "release",
            ..,
        ]
        | ["prepare", "transaction", ..] => Some(ENDS_THE_TRANSACTION.into()),
        ["vacuum", ..] => cannot("VACUUM"),
        // pg_dump's scripts begin with set_config('search_path', '', false).
        _ if w.contains(&"set_config") => Some(
            "it calls set_config, which can move the search path or the role the checks \
             inside the transaction read with: leave it out (use SET LOCAL for other settings)"
                .into(),
        ),
        ["set" | "reset", rest @ ..] if changes_who_or_where(rest) => Some(
            "it changes the role or the search path the checks inside the transaction read \
             with, so they would judge something other than what is checked: set the role's \
             or the plan's search_path instead"
                .into(),
        ),
        ["create" | "drop", "database", ..] => cannot(&format!("{} DATABASE", w[0].to_uppercase())),
        ["create" | "drop", "tablespace", ..] => {
            cannot(&format!("{} TABLESPACE", w[0].to_uppercase()))
        }
        ["alter", "system", ..] => cannot("ALTER SYSTEM"),
        ["discard", "all", ..] => cannot("DISCARD ALL"),
        ["create" | "drop", "subscription", ..] => {
            cannot(&format!("{} SUBSCRIPTION", w[0].to_uppercase()))
        }
        ["reindex", "database" | "system", ..] => {
            cannot(&format!("REINDEX {}", w[1].to_uppercase()))
        }
        ["cluster"] | ["cluster", "verbose"] => cannot("CLUSTER without a table"),
        _ if w.contains(&"concurrently")
            && matches!(w.first(), Some(&("create" | "drop" | "reindex" | "alter"))) =>
        {
            let what = w
                .iter()
                .take_while(|word| **word != "concurrently")
                .take(3)
                .map(|word| word.to_uppercase())
                .collect::<Vec<_>>()
                .join(" ");
            Some(format!(
                "{what} … CONCURRENTLY cannot run inside a transaction; run it on its own \
                 (outside remtrack), then check again"
            ))
        }
        ["alter", "type", ..]
            if w.windows(2).any(|pair| pair == ["add", "value"])
                && server_version.is_some_and(|v| v < 120_000) =>
        {
            Some(
                "ALTER TYPE … ADD VALUE cannot run inside a transaction before PostgreSQL 12"
                    .into(),
            )
        }
        _ => None,
    }
}

/// `SET [LOCAL|SESSION] search_path|ROLE|SESSION AUTHORIZATION …`, `RESET ALL` and the like.
fn changes_who_or_where(rest: &[&str]) -> bool {
    let rest = match rest.first() {
        Some(&"local" | &"session") if rest.get(1) != Some(&"authorization") => &rest[1..],
        _ => rest,
    };
    matches!(
        rest.first(),
        Some(&("search_path" | "role" | "session" | "all"))
    )
}

fn sqlite_reason(keywords: &[String]) -> Option<String> {
    let w = words(keywords);
    let cannot = |what: &str| Some(format!("{what} cannot run inside a transaction on SQLite"));
    match w.as_slice() {
        [
            "begin" | "commit" | "end" | "rollback" | "savepoint" | "release",
            ..,
        ] => Some(ENDS_THE_TRANSACTION.into()),
        ["vacuum", ..] => cannot("VACUUM"),
        ["attach", ..] => cannot("ATTACH"),
        ["detach", ..] => cannot("DETACH"),
        ["pragma", "foreign_keys" | "journal_mode", ..] => Some(format!(
            "PRAGMA {} has no effect inside a transaction on SQLite, so a dry run could not \
             prove it",
            w[1]
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::split_script;

    fn refused(script: &str, backend: Backend, version: Option<u32>) -> Vec<(usize, String)> {
        untransactable(&split_script(script).unwrap(), backend, version)
            .into_iter()
            .map(|u| (u.number, u.reason))
            .collect()
    }

    #[test]
    fn concurrently_vacuum_and_transaction_control_are_refused_on_postgres() {
        let pg = |s| refused(s, Backend::Postgres, Some(150_000));
        let r = pg("ALTER TABLE a ADD COLUMN b int; CREATE INDEX CONCURRENTLY ix ON a (b)");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].0, 2);
        assert!(
            r[0].1
                .contains("CREATE INDEX … CONCURRENTLY cannot run inside a transaction")
        );
        assert!(
            pg("create unique index concurrently if not exists ix on a (b)")[0]
                .1
                .contains("CREATE UNIQUE INDEX")
        );
        assert_eq!(pg("DROP INDEX CONCURRENTLY ix").len(), 1);
        assert_eq!(pg("REINDEX TABLE CONCURRENTLY a").len(), 1);
        assert!(pg("VACUUM ANALYZE a")[0].1.contains("VACUUM cannot run"));
        for control in [
            "BEGIN",
            "COMMIT",
            "END",
            "ROLLBACK",
            "START TRANSACTION",
            "SAVEPOINT s",
        ] {
            assert!(pg(control)[0].1.contains("end or nest"), "{control}");
        }
        assert_eq!(
            pg("CREATE DATABASE x; DROP DATABASE x; ALTER SYSTEM SET a = 1").len(),
            3
        );
        for moves in [
            "SET search_path = public",
            "SET LOCAL search_path TO other",
            "SET ROLE app_owner",
            "SET SESSION AUTHORIZATION bob",
            "RESET ROLE",
            "RESET ALL",
            "SELECT pg_catalog.set_config('search_path', '', false)",
        ] {
            assert!(pg(moves)[0].1.contains("search path"), "{moves}");
        }
    }

    #[test]
    fn what_runs_in_a_transaction_is_not_refused() {
        let pg = |s| refused(s, Backend::Postgres, Some(150_000));
        for fine in [
            "ALTER TABLE a ADD COLUMN IF NOT EXISTS b varchar(50) DEFAULT 'vacuum'",
            "CREATE INDEX ix ON a (b)",
            "CREATE INDEX \"concurrently\" ON a (b)",
            "ALTER DATABASE app SET search_path = migration, public",
            "DO $$ BEGIN COMMIT; END $$",
            "ALTER TYPE mood ADD VALUE 'meh'",
            "-- VACUUM later\nDROP TABLE t",
            "SET LOCAL lock_timeout = '5s'",
            "SET CONSTRAINTS ALL DEFERRED",
        ] {
            assert_eq!(pg(fine), Vec::new(), "{fine}");
        }
    }

    #[test]
    fn adding_an_enum_value_is_refused_only_before_postgres_12() {
        let script = "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'meh'";
        assert_eq!(refused(script, Backend::Postgres, Some(110_022)).len(), 1);
        assert_eq!(
            refused(script, Backend::Postgres, Some(120_000)),
            Vec::new()
        );
        assert_eq!(refused(script, Backend::Postgres, None), Vec::new());
    }

    #[test]
    fn sqlite_refuses_what_it_cannot_run_in_a_transaction() {
        let lite = |s| refused(s, Backend::Sqlite, None);
        assert_eq!(lite("VACUUM").len(), 1);
        assert_eq!(lite("ATTACH 'x.db' AS x").len(), 1);
        assert!(lite("PRAGMA foreign_keys = OFF")[0].1.contains("no effect"));
        assert_eq!(lite("BEGIN; ALTER TABLE a DROP COLUMN b; COMMIT").len(), 2);
        assert_eq!(
            lite("ALTER TABLE a DROP COLUMN b; DROP INDEX IF EXISTS ix"),
            Vec::new()
        );
    }
}
