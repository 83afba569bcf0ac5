//! Screening the text of a `sql` check before it is sent: one statement, no side-effect functions.
//!
//! The real guarantees are the READ ONLY transaction that is always rolled back, and a read-only
//! role (README: "Least privilege"). This screen adds a clear verdict for what a read-only
//! transaction would still allow: functions that act on the server rather than on data.

use crate::Backend;

/// Why a `sql` check's text is not sent to the database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlRejection {
    #[error("the query is empty")]
    Empty,
    #[error("multi-statement query rejected: a check runs exactly one SELECT")]
    MultipleStatements,
    #[error("the query calls {0}(), which acts on the server; checks must only read")]
    SideEffectFunction(String),
    #[error("the query has an unterminated {0}")]
    Unterminated(&'static str),
    #[error("a check must be one SELECT (or VALUES, TABLE, WITH … SELECT); this query {0}")]
    NotAQuery(String),
    #[error("the query's parentheses do not balance")]
    Unbalanced,
    #[error("the query spells a name or string in Unicode escapes (U&), which a check may not")]
    UnicodeEscape,
}

/// Functions a READ ONLY transaction still lets run that change or disturb the server, or that run
/// SQL given as text (which would slip past this screen).
const DENIED_POSTGRES_FUNCTIONS: &[&str] = &[
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_promote",
    "pg_wal_replay_pause",
    "pg_wal_replay_resume",
    "pg_log_backend_memory_contexts",
    "set_config",
    "nextval",
    "setval",
    "txid_current",
    "pg_current_xact_id",
    "pg_notify",
    "pg_logical_emit_message",
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_stat_file",
    "pg_stat_reset",
    "pg_stat_reset_shared",
    "pg_stat_reset_single_table_counters",
    "pg_stat_reset_single_function_counters",
    "pg_stat_reset_slru",
    "pg_stat_reset_replication_slot",
    "pg_stat_statements_reset",
    "pg_import_system_collations",
    "query_to_xml",
    "query_to_xmlschema",
    "query_to_xml_and_xmlschema",
    "cursor_to_xml",
    "dblink",
    "dblink_exec",
    "dblink_connect",
    "dblink_send_query",
    "lo_create",
    "lo_creat",
    "lo_import",
    "lo_export",
    "lo_unlink",
    "lo_from_bytea",
    "lo_put",
    "lo_open",
    "lowrite",
    "lo_truncate",
];

const DENIED_FUNCTION_PREFIXES: &[&str] = &[
    "pg_advisory",
    "pg_try_advisory",
    "pg_create_",
    "pg_drop_replication",
    "pg_replication_origin",
    "pg_file_",
];

const DENIED_SQLITE_FUNCTIONS: &[&str] = &["load_extension", "writefile", "readfile", "edit"];

/// Returns the single statement to run (without a trailing `;`), or why it must not run.
pub fn screen_check_sql(text: &str, backend: Backend) -> Result<String, SqlRejection> {
    let tokens = lex(text)?;
    let mut statement_end = None;
    for token in &tokens {
        match token {
            Token::Semicolon(at) if statement_end.is_none() => statement_end = Some(*at),
            Token::Semicolon(_) => {}
            _ if statement_end.is_some() => return Err(SqlRejection::MultipleStatements),
            _ => {}
        }
    }
    if tokens.iter().all(|t| matches!(t, Token::Semicolon(_))) {
        return Err(SqlRejection::Empty);
    }
    if tokens.contains(&Token::UnicodeEscape) {
        return Err(SqlRejection::UnicodeEscape);
    }
    // Each check runs as a subquery, and several share one statement: a body that closed its
    // own parenthesis could reach out of it.
    let mut depth = 0i64;
    for token in &tokens {
        match token {
            Token::OpenParen => depth += 1,
            Token::CloseParen => {
                depth -= 1;
                if depth < 0 {
                    return Err(SqlRejection::Unbalanced);
                }
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(SqlRejection::Unbalanced);
    }
    let words: Vec<String> = tokens
        .iter()
        .filter_map(|t| match t {
            Token::Word(w) | Token::Quoted(w) => Some(w.to_lowercase()),
            Token::OpenParen => Some("(".into()),
            _ => None,
        })
        // `AS MATERIALIZED (…)` and `AS NOT MATERIALIZED (…)` are CTEs all the same.
        .filter(|w| w != "materialized" && w != "not")
        .collect();
    match words.first().map(String::as_str) {
        Some("select" | "values" | "with" | "table" | "(") => {}
        Some(other) => {
            return Err(SqlRejection::NotAQuery(format!(
                "starts with {}",
                other.to_uppercase()
            )));
        }
        None => {}
    }
    // `WITH gone AS (DELETE … RETURNING …) SELECT …` writes; a check only reads.
    for window in words.windows(3) {
        if let [as_, open, verb] = window
            && as_ == "as"
            && open == "("
            && matches!(verb.as_str(), "insert" | "update" | "delete" | "merge")
        {
            return Err(SqlRejection::NotAQuery(format!(
                "has {} in a WITH clause",
                verb.to_uppercase()
            )));
        }
    }
    let denied: &[&str] = match backend {
        Backend::Postgres => DENIED_POSTGRES_FUNCTIONS,
        Backend::Sqlite => DENIED_SQLITE_FUNCTIONS,
    };
    for pair in tokens.windows(2) {
        if let [Token::Word(name) | Token::Quoted(name), Token::OpenParen] = pair {
            let lowered = name.to_lowercase();
            let prefixed = backend == Backend::Postgres
                && DENIED_FUNCTION_PREFIXES
                    .iter()
                    .any(|p| lowered.starts_with(p));
            if denied.contains(&lowered.as_str()) || prefixed {
                return Err(SqlRejection::SideEffectFunction(lowered));
            }
        }
    }
    let body = match statement_end {
        Some(end) => &text[..end],
        None => text,
    };
    Ok(body.trim().to_string())
}

/// One statement of a script, as written (comments kept, the `;` not), with its keywords.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptStatement {
    pub text: String,
    /// Its unquoted words, lowercased, in order: what classifies it (`create`, `index`,
    /// `concurrently`…). Words in strings, comments and quoted names are not among them.
    pub keywords: Vec<String>,
}

/// Splits a script (a fix) into its statements at the semicolons outside strings, comments,
/// dollar quotes and the `BEGIN … END` bodies of `CREATE TRIGGER` (SQLite) and `BEGIN ATOMIC`
/// (PostgreSQL). Pieces holding only comments are dropped.
pub fn split_script(text: &str) -> Result<Vec<ScriptStatement>, SqlRejection> {
    let tokens = lex(text)?;
    let mut statements = Vec::new();
    let mut start = 0;
    let mut keywords: Vec<String> = Vec::new();
    let mut has_tokens = false;
    // Semicolons inside parentheses (a rule's actions) do not end a statement, nor do those
    // inside the body of a SQLite `CREATE TRIGGER … BEGIN … END` or a PostgreSQL `BEGIN
    // ATOMIC … END`, where CASE … END nests. Only those two open a body: `begin` is also a
    // plain name (a column), and a body opened by it would swallow the rest of the script.
    let mut parens = 0usize;
    let mut body = 0usize;
    let mut finish = |end: usize, keywords: &mut Vec<String>, has_tokens: &mut bool| {
        if *has_tokens {
            statements.push(ScriptStatement {
                text: text[start..end].trim().to_string(),
                keywords: std::mem::take(keywords),
            });
        }
        keywords.clear();
        *has_tokens = false;
        start = end + 1;
    };
    for token in &tokens {
        match token {
            Token::Semicolon(at) if parens == 0 && body == 0 => {
                finish(*at, &mut keywords, &mut has_tokens)
            }
            Token::Semicolon(_) => {}
            Token::OpenParen => {
                has_tokens = true;
                parens += 1;
            }
            Token::CloseParen => {
                has_tokens = true;
                parens = parens.saturating_sub(1);
            }
            Token::Word(word) => {
                has_tokens = true;
                let word = word.to_lowercase();
                match word.as_str() {
                    "begin" if body == 0 && parens == 0 && is_create_trigger(&keywords) => body = 1,
                    "atomic"
                        if body == 0
                            && keywords.last().is_some_and(|last| last == "begin")
                            && keywords.first().is_some_and(|first| first == "create") =>
                    {
                        body = 1
                    }
                    "case" if body > 0 => body += 1,
                    "end" if body > 0 => body -= 1,
                    _ => {}
                }
                keywords.push(word);
            }
            _ => has_tokens = true,
        }
    }
    finish(text.len(), &mut keywords, &mut has_tokens);
    Ok(statements)
}

/// `CREATE [TEMP|TEMPORARY] TRIGGER`, as far as the words go.
fn is_create_trigger(keywords: &[String]) -> bool {
    let mut words = keywords.iter().map(String::as_str);
    words.next() == Some("create")
        && words.find(|w| !matches!(*w, "temp" | "temporary" | "or" | "replace" | "constraint"))
            == Some("trigger")
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    /// A `"quoted"` name: never a keyword.
    Quoted(String),
    OpenParen,
    CloseParen,
    /// `U&` before a quote: a name or string in Unicode escapes, which could spell a denied
    /// function (`U&"\0070g_terminate_backend"`) past this screen.
    UnicodeEscape,
    Semicolon(usize),
    Other,
}

/// A small SQL lexer: enough to see statements, names and calls outside strings and comments.
fn lex(text: &str) -> Result<Vec<Token>, SqlRejection> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b if b.is_ascii_whitespace() => i += 1,
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let mut depth = 1;
                i += 2;
                while depth > 0 {
                    if i + 1 >= bytes.len() {
                        return Err(SqlRejection::Unterminated("comment"));
                    }
                    match (bytes[i], bytes[i + 1]) {
                        (b'/', b'*') => {
                            depth += 1;
                            i += 2
                        }
                        (b'*', b'/') => {
                            depth -= 1;
                            i += 2
                        }
                        _ => i += 1,
                    }
                }
            }
            b'\'' => {
                let backslash_escapes = i > 0 && matches!(bytes[i - 1], b'e' | b'E');
                i = end_of_quoted(bytes, i, b'\'', backslash_escapes)
                    .ok_or(SqlRejection::Unterminated("string"))?;
                tokens.push(Token::Other);
            }
            b'"' => {
                let end = end_of_quoted(bytes, i, b'"', false)
                    .ok_or(SqlRejection::Unterminated("quoted name"))?;
                tokens.push(Token::Quoted(text[i + 1..end - 1].replace("\"\"", "\"")));
                i = end;
            }
            b'$' => match dollar_tag(&text[i..]) {
                Some(tag) => {
                    let body_start = i + tag.len();
                    let close = text[body_start..]
                        .find(tag)
                        .ok_or(SqlRejection::Unterminated("dollar-quoted string"))?;
                    i = body_start + close + tag.len();
                    tokens.push(Token::Other);
                }
                None => {
                    i += 1;
                    tokens.push(Token::Other);
                }
            },
            b'(' => {
                tokens.push(Token::OpenParen);
                i += 1;
            }
            b')' => {
                tokens.push(Token::CloseParen);
                i += 1;
            }
            b'u' | b'U'
                if bytes.get(i + 1) == Some(&b'&')
                    && matches!(bytes.get(i + 2), Some(b'"' | b'\'')) =>
            {
                tokens.push(Token::UnicodeEscape);
                i += 2;
            }
            b';' => {
                tokens.push(Token::Semicolon(i));
                i += 1;
            }
            b if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 => {
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || matches!(bytes[i], b'_' | b'$')
                        || bytes[i] >= 0x80)
                {
                    i += 1;
                }
                tokens.push(Token::Word(text[start..i].to_string()));
            }
            _ => {
                tokens.push(Token::Other);
                i += 1;
            }
        }
    }
    Ok(tokens)
}

/// The index just past the closing quote of the quoted run starting at `start`.
fn end_of_quoted(bytes: &[u8], start: usize, quote: u8, backslash_escapes: bool) -> Option<usize> {
    let mut i = start + 1;
    while i < bytes.len() {
        if backslash_escapes && bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

/// `$tag$` or `$$` at the start of `text`.
fn dollar_tag(text: &str) -> Option<&str> {
    let rest = &text[1..];
    let end = rest.find('$')?;
    let tag = &rest[..end];
    let valid = tag.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !tag.starts_with(|c: char| c.is_ascii_digit());
    valid.then(|| &text[..end + 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(script: &str) -> Vec<String> {
        split_script(script)
            .unwrap()
            .into_iter()
            .map(|s| s.text)
            .collect()
    }

    #[test]
    fn a_script_splits_at_semicolons_outside_strings_comments_and_bodies() {
        assert_eq!(
            texts("ALTER TABLE a ADD COLUMN b int;\n-- next\nDROP TABLE c;"),
            ["ALTER TABLE a ADD COLUMN b int", "-- next\nDROP TABLE c"]
        );
        assert_eq!(texts("SELECT ';'; SELECT 2"), ["SELECT ';'", "SELECT 2"]);
        assert_eq!(
            texts("DO $$ BEGIN PERFORM 1; PERFORM 2; END $$; SELECT 1;"),
            ["DO $$ BEGIN PERFORM 1; PERFORM 2; END $$", "SELECT 1"]
        );
        assert_eq!(
            texts(
                "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET n = CASE WHEN 1 THEN 2 END; \
                 DELETE FROM c; END; DROP TABLE d"
            ),
            [
                "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET n = CASE WHEN 1 THEN 2 END; \
                 DELETE FROM c; END",
                "DROP TABLE d"
            ]
        );
        assert_eq!(
            texts(
                "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END; SELECT 3"
            ),
            [
                "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END",
                "SELECT 3"
            ]
        );
        assert_eq!(texts("-- only a comment\n;  ;"), Vec::<String>::new());
        // `begin` as a name opens nothing: the COMMIT after it stays a statement of its own.
        assert_eq!(
            texts(
                "CREATE TABLE periods (id int, begin date);\nCOMMIT;\nCREATE TABLE leaked (id int);"
            ),
            [
                "CREATE TABLE periods (id int, begin date)",
                "COMMIT",
                "CREATE TABLE leaked (id int)"
            ]
        );
        assert_eq!(
            texts(
                "CREATE TABLE t (begin int, \"end\" int); CREATE INDEX ix ON t (begin); DROP TABLE u"
            ),
            [
                "CREATE TABLE t (begin int, \"end\" int)",
                "CREATE INDEX ix ON t (begin)",
                "DROP TABLE u"
            ]
        );
        // A rule's actions, in parentheses, are one statement.
        assert_eq!(
            texts(
                "CREATE RULE r AS ON INSERT TO a DO ALSO (INSERT INTO b VALUES (1); INSERT INTO c VALUES (2)); SELECT 1"
            ),
            [
                "CREATE RULE r AS ON INSERT TO a DO ALSO (INSERT INTO b VALUES (1); INSERT INTO c VALUES (2))",
                "SELECT 1"
            ]
        );
        // A quoted "end" is a name, not the end of a body.
        assert_eq!(
            texts(
                "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET \"end\" = 1; END; SELECT 1"
            ),
            [
                "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET \"end\" = 1; END",
                "SELECT 1"
            ]
        );
    }

    #[test]
    fn a_statement_keeps_its_keywords_but_not_its_strings_or_quoted_names() {
        let statements =
            split_script("CREATE INDEX CONCURRENTLY \"Concurrently\" ON t (c) WHERE c <> 'vacuum'")
                .unwrap();
        assert_eq!(
            statements[0].keywords,
            [
                "create",
                "index",
                "concurrently",
                "on",
                "t",
                "c",
                "where",
                "c"
            ]
        );
    }

    fn screen(sql: &str) -> Result<String, SqlRejection> {
        screen_check_sql(sql, Backend::Postgres)
    }

    #[test]
    fn one_statement_passes_with_its_trailing_semicolon_removed() {
        assert_eq!(screen("SELECT 1;").as_deref(), Ok("SELECT 1"));
        assert_eq!(
            screen("  SELECT ';' -- ;\n ; ;").as_deref(),
            Ok("SELECT ';' -- ;")
        );
    }

    #[test]
    fn a_second_statement_is_rejected() {
        assert_eq!(
            screen("SELECT 1; DROP TABLE x"),
            Err(SqlRejection::MultipleStatements)
        );
        assert_eq!(
            screen("SELECT 1;/* */ SELECT 2"),
            Err(SqlRejection::MultipleStatements)
        );
    }

    #[test]
    fn semicolons_inside_strings_comments_and_dollar_quotes_are_not_statements() {
        assert!(screen("SELECT 'a;b', \"x;y\", $q$ ; $q$ /* ; */").is_ok());
        assert!(screen("SELECT E'it\\'s; fine'").is_ok());
    }

    #[test]
    fn side_effect_functions_are_rejected_in_any_spelling() {
        for sql in [
            "SELECT pg_terminate_backend(123)",
            "select PG_CATALOG.pg_terminate_backend (1)",
            "SELECT \"pg_cancel_backend\"(1)",
            "SELECT nextval('s')",
            "SELECT lo_create(0)",
            "SELECT set_config('role', 'x', false)",
            "SELECT pg_advisory_lock(1)",
            "SELECT query_to_xml('delete from t', true, true, '')",
        ] {
            assert!(
                matches!(screen(sql), Err(SqlRejection::SideEffectFunction(_))),
                "{sql} should be rejected"
            );
        }
    }

    #[test]
    fn names_that_only_look_like_denied_functions_pass() {
        assert!(screen("SELECT count(*) FROM nextval_log WHERE note = 'nextval(1)'").is_ok());
    }

    #[test]
    fn empty_and_unterminated_queries_are_rejected() {
        assert_eq!(screen(" ; -- nothing"), Err(SqlRejection::Empty));
        assert_eq!(
            screen("SELECT 'open"),
            Err(SqlRejection::Unterminated("string"))
        );
    }

    #[test]
    fn only_a_query_passes_not_a_statement_that_writes() {
        for sql in [
            "SELECT 1",
            "values (true)",
            "WITH x AS (SELECT 1) SELECT count(*) FROM x",
            "(SELECT 1)",
            "TABLE alembic_version",
        ] {
            assert!(screen(sql).is_ok(), "{sql}");
        }
        for (sql, why) in [
            ("DELETE FROM orders RETURNING true", "starts with DELETE"),
            ("update t set x = 1 returning true", "starts with UPDATE"),
            ("EXPLAIN SELECT 1", "starts with EXPLAIN"),
            (
                "WITH gone AS (DELETE FROM t RETURNING 1) SELECT count(*) FROM gone",
                "has DELETE in a WITH clause",
            ),
            (
                "WITH g AS NOT MATERIALIZED (DELETE FROM t RETURNING 1) SELECT 1",
                "has DELETE in a WITH clause",
            ),
        ] {
            assert!(
                matches!(screen(sql), Err(SqlRejection::NotAQuery(ref reason)) if reason == why),
                "{sql}: {:?}",
                screen(sql)
            );
        }
    }

    #[test]
    fn unicode_escapes_and_unbalanced_parentheses_are_rejected() {
        assert_eq!(
            screen("SELECT U&\"\\0070g_terminate_backend\"(123)"),
            Err(SqlRejection::UnicodeEscape)
        );
        assert_eq!(
            screen("SELECT 1) AS x, (SELECT 2"),
            Err(SqlRejection::Unbalanced)
        );
        assert_eq!(screen("SELECT (1"), Err(SqlRejection::Unbalanced));
        assert!(
            screen("SELECT ')' = ')'").is_ok(),
            "parentheses in strings do not count"
        );
    }
}
