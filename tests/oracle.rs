//! PostgreSQL is the oracle for types and defaults: for a few hundred spellings, remtrack's
//! verdict on "this column has type / default X" must be PostgreSQL's own answer, true pairs and
//! false pairs alike. A false pass here is a failing test, not a review comment.
//!
//! Types: every spelling becomes a column (or is rejected by PostgreSQL); a plan type matches a
//! column when PostgreSQL gives both the same type oid and modifier (and, for `serial`, when
//! `pg_get_serial_sequence` or an identity says a sequence fills the column).
//!
//! Defaults: a plan default matches a column's default when PostgreSQL, asked to put that
//! default on a column of the same type (`ALTER TABLE … ADD COLUMN … DEFAULT`), stores what it
//! stored for the column (`pg_get_expr`), up to the documented equivalences: `now()` ≡
//! `CURRENT_TIMESTAMP` ≡ `transaction_timestamp()`, `ARRAY[]::t[]` ≡ `'{}'::t[]`, a number is
//! the same number however PostgreSQL labels it, a jsonb value is the same value however it is
//! spaced, and a bare literal matches that literal under any cast. A default PostgreSQL refuses
//! for the column's type is a false pair.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;

use remtrack::check::{CheckStatus, Limits, Target, Verdict, refresh};
use serde_json::{Value, json};
use sqlx::{Connection as _, Executor as _, PgConnection, Row as _};
use support::checks::{plan_of, plan_unvalidated};
use support::pg::{cluster, exec};

const SETUP: &str = r#"
CREATE SCHEMA legacy;
CREATE TYPE public.my_enum AS ENUM ('a', 'b');
CREATE TYPE legacy.my_enum AS ENUM ('a', 'b');
CREATE TYPE "MyEnum" AS ENUM ('x');
CREATE DOMAIN public.my_domain AS text;
CREATE DOMAIN legacy.my_domain AS text;
-- Named like the citext extension's type, to show a same-named type in another schema.
CREATE DOMAIN public.citext AS text;
CREATE DOMAIN legacy.citext AS text;
CREATE SEQUENCE public.oracle_seq;
CREATE SEQUENCE legacy.oracle_seq;
"#;

/// Type spellings written by hand: each group's members mean one type, and the groups are
/// chosen so that neighbours differ by one thing (a modifier, a zone, a schema, arrayness).
const TYPE_GROUPS: &[&[&str]] = &[
    &[
        "integer",
        "int",
        "int4",
        "INT",
        "pg_catalog.int4",
        "\"int4\"",
        "Integer",
    ],
    &["bigint", "int8", "BIGINT", "pg_catalog.int8"],
    &["smallint", "int2"],
    &["serial", "serial4", "SERIAL"],
    &["bigserial", "serial8"],
    &["smallserial"],
    &["real", "float4", "float(24)", "float(1)", "FLOAT(10)"],
    &[
        "double precision",
        "float8",
        "float",
        "float(53)",
        "float(25)",
        "DOUBLE  PRECISION",
    ],
    &["numeric", "decimal", "dec", "NUMERIC"],
    &[
        "numeric(10,2)",
        "decimal(10, 2)",
        "numeric( 10 , 2 )",
        "dec(10,2)",
    ],
    &["numeric(10)", "numeric(10,0)", "decimal(10)"],
    &["numeric(12,2)"],
    &["numeric(10,3)"],
    &["boolean", "bool", "BOOLEAN"],
    &["text", "TEXT", "pg_catalog.text"],
    &["varchar", "character varying", "char varying", "VARCHAR"],
    &[
        "varchar(50)",
        "character varying(50)",
        "VARCHAR( 50 )",
        "pg_catalog.varchar(50)",
    ],
    &["varchar(100)"],
    &["char", "character", "char(1)", "character(1)"],
    &[
        "char(3)",
        "character(3)",
        "nchar(3)",
        "national character(3)",
    ],
    &["bpchar"],
    &["\"char\""],
    &["name"],
    &["bit", "bit(1)"],
    &["bit(3)"],
    &["bit varying", "varbit"],
    &["bit varying(5)", "varbit(5)"],
    &["timestamp", "timestamp without time zone", "TIMESTAMP"],
    &["timestamp(3)", "timestamp(3) without time zone"],
    &[
        "timestamptz",
        "timestamp with time zone",
        "TIMESTAMP WITH TIME ZONE",
    ],
    &["timestamptz(3)", "timestamp(3) with time zone"],
    &[
        "timestamp(6) with time zone",
        "timestamptz(6)",
        "timestamptz(9)",
    ],
    &["time", "time without time zone"],
    &["timetz", "time with time zone"],
    &["time(2) with time zone", "timetz(2)"],
    &["date"],
    &["interval", "INTERVAL"],
    &["interval(3)"],
    &["interval day to second", "INTERVAL DAY TO SECOND"],
    &["interval day to second(3)"],
    &["interval year to month"],
    &["json"],
    &["jsonb", "JSONB"],
    &["uuid", "UUID"],
    &["bytea"],
    &["inet"],
    &[
        "integer[]",
        "int[]",
        "int4[]",
        "_int4",
        "int ARRAY",
        "integer[][]",
        "int[3]",
        "INTEGER ARRAY[4]",
    ],
    &["bigint[]", "int8[]", "_int8"],
    &["text[]", "text ARRAY", "_text", "TEXT[]"],
    &["varchar(50)[]", "character varying(50)[]"],
    &["numeric(10,2)[]"],
    &["timestamptz[]", "timestamp with time zone[]"],
    &["my_enum", "public.my_enum", "MY_ENUM", "Public.My_Enum"],
    &["legacy.my_enum", "LEGACY.my_enum"],
    &["my_enum[]", "public.my_enum[]", "_my_enum"],
    &["legacy.my_enum[]"],
    &["\"MyEnum\"", "public.\"MyEnum\""],
    &["my_domain", "public.my_domain"],
    &["legacy.my_domain"],
    &["citext", "public.citext"],
    &["legacy.citext"],
];

/// Spellings PostgreSQL itself refuses (or remtrack cannot read): never a match.
const TYPE_NONSENSE: &[&str] = &[
    "varchar(0)",
    "float(54)",
    "float(0)",
    "numeric(0)",
    "int(5)",
    "no_such_type",
    "legacy.no_such_type",
    "double",
    "varchar(",
    "text)",
    "mYeNuM",
];

/// More spellings made from the hand-written ones: white space and case moved around,
/// `pg_catalog.` before catalog names, array forms.
fn generated_type_spellings() -> Vec<String> {
    let mut out = Vec::new();
    for group in TYPE_GROUPS {
        for spelling in *group {
            out.push(spelling.to_uppercase());
            out.push(spelling.replace('(', " ( ").replace(')', " ) "));
            if !spelling.contains('[') && !spelling.contains("ARRAY") {
                out.push(format!("{spelling} []"));
                out.push(format!("{spelling} ARRAY"));
            }
        }
    }
    for name in [
        "int2",
        "int4",
        "int8",
        "float4",
        "float8",
        "bool",
        "varchar",
        "bpchar",
        "text",
        "numeric",
        "timestamptz",
        "uuid",
    ] {
        out.push(format!("pg_catalog.{name}"));
        out.push(format!("_{name}"));
        out.push(format!("pg_catalog._{name}"));
    }
    out
}

/// `(type oid, type modifier, filled by a sequence, default as stored)`.
type Stored = (u32, i32, bool, Option<String>);

struct Oracle {
    conn: PgConnection,
}

impl Oracle {
    async fn connect(url: &str) -> Oracle {
        Oracle {
            conn: PgConnection::connect(url).await.unwrap(),
        }
    }

    /// Adds `column` of type `spelling` to `table`; false when PostgreSQL refuses the spelling.
    async fn add_column(
        &mut self,
        table: &str,
        column: &str,
        spelling: &str,
        default: Option<&str>,
    ) -> bool {
        let default = default.map(|d| format!(" DEFAULT {d}")).unwrap_or_default();
        let sql = format!("ALTER TABLE {table} ADD COLUMN {column} {spelling}{default}");
        // A savepoint per attempt, so that a refusal costs only that column.
        self.conn.execute("BEGIN").await.unwrap();
        let added = self.conn.execute(sql.as_str()).await.is_ok();
        self.conn
            .execute(if added { "COMMIT" } else { "ROLLBACK" })
            .await
            .unwrap();
        added
    }

    /// What the catalog holds for `table.column`.
    async fn column(&mut self, table: &str, column: &str) -> Stored {
        let row = sqlx::query(
            "SELECT a.atttypid::int8 AS oid, a.atttypmod AS typmod,
                    pg_get_serial_sequence($1, $2) IS NOT NULL AS serial,
                    pg_get_expr(d.adbin, d.adrelid) AS def
               FROM pg_attribute a
               LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
              WHERE a.attrelid = $1::regclass AND a.attname = $2",
        )
        .bind(table)
        .bind(column)
        .fetch_one(&mut self.conn)
        .await
        .unwrap();
        (
            u32::try_from(row.get::<i64, _>("oid")).unwrap(),
            row.get("typmod"),
            row.get("serial"),
            row.get("def"),
        )
    }
}

async fn judge(url: &str, checks: Vec<Value>) -> Vec<Verdict> {
    let plan = plan_of(Value::Array(checks));
    let target = Target::open(url, Limits::default()).unwrap();
    let refreshed = refresh(&plan, &target).await.unwrap();
    target.close().await;
    refreshed.verdicts.tasks[0].checks.clone()
}

/// Counts and the disagreements, for the assertion message and the closing note.
#[derive(Default)]
struct Tally {
    true_pairs: usize,
    false_pairs: usize,
    false_passes: Vec<String>,
    false_failures: Vec<String>,
    /// False failures on a literal PostgreSQL rewrites on input: documented, counted.
    rewritten: Vec<String>,
}

impl Tally {
    fn record(&mut self, truth: bool, verdict: &Verdict, pair: String, rewritten: bool) {
        if truth {
            self.true_pairs += 1;
            if verdict.status != CheckStatus::Pass && rewritten {
                self.rewritten.push(format!("{pair}: {}", verdict.evidence));
            } else if verdict.status != CheckStatus::Pass {
                self.false_failures
                    .push(format!("{pair}: {}", verdict.evidence));
            }
        } else {
            self.false_pairs += 1;
            if verdict.status == CheckStatus::Pass {
                self.false_passes
                    .push(format!("{pair}: {}", verdict.evidence));
            }
        }
    }

    fn assert_agrees(&self, what: &str, spellings: usize) {
        let pairs = self.true_pairs + self.false_pairs;
        eprintln!(
            "oracle {what}: {spellings} spellings, {pairs} pairs ({} true, {} false); \
             remtrack agrees on {}; {} false passes, {} false failures, \
             {} failures on literals PostgreSQL rewrites on input (documented)",
            self.true_pairs,
            self.false_pairs,
            pairs - self.false_passes.len() - self.false_failures.len() - self.rewritten.len(),
            self.false_passes.len(),
            self.false_failures.len(),
            self.rewritten.len()
        );
        let show = |list: &[String]| {
            list.iter()
                .take(25)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n  ")
        };
        if std::env::var("ORACLE_SHOW_REWRITTEN").is_ok() {
            eprintln!("rewritten on input:\n  {}", show(&self.rewritten));
        }
        if !self.false_passes.is_empty() || !self.false_failures.is_empty() {
            eprintln!(
                "false passes:\n  {}\nfalse failures:\n  {}",
                show(&self.false_passes),
                show(&self.false_failures)
            );
        }
        assert!(
            self.false_passes.is_empty(),
            "{what}: remtrack passed {} pairs PostgreSQL says differ:\n  {}",
            self.false_passes.len(),
            show(&self.false_passes)
        );
        assert!(
            self.false_failures.is_empty(),
            "{what}: remtrack failed {} pairs PostgreSQL says are the same:\n  {}",
            self.false_failures.len(),
            show(&self.false_failures)
        );
        assert!(
            self.true_pairs > 100 && self.false_pairs > 1000,
            "too few pairs to mean much"
        );
    }
}

#[tokio::test]
async fn column_types_are_judged_as_postgresql_judges_them() {
    let url = cluster().fresh_database().await;
    exec(&url, SETUP).await;
    exec(&url, "CREATE TABLE types ()").await;
    let mut oracle = Oracle::connect(&url).await;

    let mut spellings: Vec<String> = TYPE_GROUPS
        .iter()
        .flat_map(|g| g.iter().map(|s| s.to_string()))
        .chain(TYPE_NONSENSE.iter().map(|s| s.to_string()))
        .chain(generated_type_spellings())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    spellings.sort();

    // Each spelling PostgreSQL accepts becomes a column; its truth is what the catalog holds.
    let mut facts = Vec::new();
    for (i, spelling) in spellings.iter().enumerate() {
        let column = format!("c{i}");
        let fact = if oracle.add_column("types", &column, spelling, None).await {
            Some(oracle.column("types", &column).await)
        } else {
            None
        };
        facts.push(fact);
    }
    let columns: Vec<(usize, Stored)> = facts
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.clone().map(|f| (i, f)))
        .collect();
    assert!(
        columns.len() > 150,
        "PostgreSQL accepted only {} spellings",
        columns.len()
    );

    let mut checks = Vec::new();
    let mut pairs = Vec::new();
    for (column_index, (oid, typmod, filled, _)) in &columns {
        for (expected_index, expected) in spellings.iter().enumerate() {
            let is_serial = expected.to_lowercase().contains("serial");
            let truth = facts[expected_index]
                .as_ref()
                .is_some_and(|(e_oid, e_typmod, _, _)| {
                    e_oid == oid && e_typmod == typmod && (!is_serial || *filled)
                });
            checks.push(json!({
                "id": format!("t{}", checks.len()),
                "kind": "column_exists",
                "table": "types",
                "column": format!("c{column_index}"),
                "type": expected,
            }));
            pairs.push((
                truth,
                format!(
                    "type {expected:?} on a column declared {:?}",
                    spellings[*column_index]
                ),
            ));
        }
    }
    let verdicts = judge(&url, checks).await;
    let mut tally = Tally::default();
    for ((truth, pair), verdict) in pairs.into_iter().zip(&verdicts) {
        tally.record(truth, verdict, pair, false);
    }
    tally.assert_agrees("types", spellings.len());
}

/// Function argument types, by meaning: every spelling PostgreSQL accepts becomes the argument of
/// a function of its own; `function_exists` with `args: [spelling]` must pass on exactly the
/// functions whose argument PostgreSQL resolved to the same type (arguments carry no
/// modifiers, so `varchar(50)` is `character varying`), and a spelling PostgreSQL refuses
/// (`serial`, nonsense) matches none.
#[tokio::test]
async fn function_argument_types_are_judged_as_postgresql_resolves_them() {
    let url = cluster().fresh_database().await;
    exec(&url, SETUP).await;
    let mut conn = PgConnection::connect(&url).await.unwrap();
    let spellings: Vec<String> = TYPE_GROUPS
        .iter()
        .flat_map(|g| g.iter().map(|s| s.to_string()))
        .chain(TYPE_NONSENSE.iter().map(|s| s.to_string()))
        .chain(generated_type_spellings())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // The argument's type oid, for each spelling PostgreSQL accepts.
    let mut oids: Vec<Option<i64>> = Vec::new();
    for (i, spelling) in spellings.iter().enumerate() {
        let made = conn
            .execute(
                format!("CREATE FUNCTION f{i}({spelling}) RETURNS void LANGUAGE sql AS ''")
                    .as_str(),
            )
            .await
            .is_ok();
        let oid = if made {
            let row =
                sqlx::query("SELECT proargtypes[0]::int8 AS oid FROM pg_proc WHERE proname = $1")
                    .bind(format!("f{i}"))
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
            Some(row.get::<i64, _>("oid"))
        } else {
            None
        };
        oids.push(oid);
    }
    conn.close().await.unwrap();
    // One function per distinct argument type is enough to be judged against every spelling.
    let mut functions: Vec<(usize, i64)> = Vec::new();
    for (i, oid) in oids.iter().enumerate() {
        if let Some(oid) = oid
            && !functions.iter().any(|(_, seen)| seen == oid)
        {
            functions.push((i, *oid));
        }
    }
    assert!(
        functions.len() > 40,
        "only {} argument types",
        functions.len()
    );
    let mut checks = Vec::new();
    let mut pairs = Vec::new();
    for (function, oid) in &functions {
        for (expected_index, expected) in spellings.iter().enumerate() {
            let truth = oids[expected_index] == Some(*oid);
            checks.push(json!({
                "id": format!("f{}", checks.len()),
                "kind": "function_exists",
                "name": format!("f{function}"),
                "args": [expected],
            }));
            pairs.push((
                truth,
                format!("args [{expected:?}] on f({:?})", spellings[*function]),
            ));
        }
    }
    // Unvalidated: `plan validate` refuses the spellings that are no argument type (serial,
    // nonsense), and the engine must still never match them.
    let plan = plan_unvalidated(Value::Array(checks));
    let target = Target::open(&url, Limits::default()).unwrap();
    let refreshed = refresh(&plan, &target).await.unwrap();
    target.close().await;
    let verdicts = &refreshed.verdicts.tasks[0].checks;
    let mut tally = Tally::default();
    for ((truth, pair), verdict) in pairs.into_iter().zip(verdicts) {
        tally.record(truth, verdict, pair, false);
    }
    assert!(tally.true_pairs > 300, "{} true pairs", tally.true_pairs);
    tally.assert_agrees("function argument types", spellings.len());
}

/// Column types a default is tried on.
const DEFAULT_COLUMN_TYPES: &[&str] = &[
    "integer",
    "bigint",
    "numeric",
    "numeric(10,2)",
    "boolean",
    "text",
    "varchar(50)",
    "jsonb",
    "json",
    "text[]",
    "integer[]",
    "timestamptz",
    "timestamp",
    "date",
    "interval",
    "uuid",
    "my_enum",
    "my_domain",
];

/// Default spellings: literals with and without casts, functions and their aliases, sequences
/// by every name, expressions with and without parentheses.
const DEFAULT_SPELLINGS: &[&str] = &[
    "0",
    "'0'",
    "'0'::integer",
    "0::bigint",
    "'0'::bigint",
    "'0'::numeric",
    "(0)",
    "((0))",
    "5",
    "'5'",
    "'5'::bigint",
    "5::numeric",
    "'5'::text",
    "5.0",
    "'5.00'",
    "5.5",
    "-1",
    "'-1'",
    "(-1)",
    "- 1",
    "1+2",
    "(1 + 2)",
    "1 + 2 * 3",
    "(1 + 2) * 3",
    "((1 + 2)) * 3",
    "true",
    "TRUE",
    "'t'",
    "'true'",
    "'yes'",
    "'on'",
    "'1'",
    "1",
    "false",
    "'f'",
    "'off'",
    "'f'::boolean",
    "'discovery'",
    "'discovery'::character varying",
    "'discovery'::varchar",
    "'discovery'::text",
    "'discovery'::varchar(50)",
    "'Discovery'",
    "'discovery'::integer",
    "'x'::integer",
    "''",
    "'it''s'",
    "E'it\\'s'",
    "'{}'",
    "'{}'::jsonb",
    "'{}'::json",
    "'{}'::text[]",
    "'{}'::integer[]",
    "ARRAY[]::text[]",
    "ARRAY[]::integer[]",
    "'[]'",
    "'[]'::jsonb",
    "'{\"a\":1}'",
    "'{\"a\": 1}'::jsonb",
    "'{\"b\":2,\"a\":1}'",
    "'{a,b}'",
    "'{a,b}'::text[]",
    "ARRAY['a','b']",
    "ARRAY['a', 'b']::text[]",
    "'{1,2}'",
    "ARRAY[1,2]",
    "now()",
    "NOW()",
    "CURRENT_TIMESTAMP",
    "current_timestamp",
    "transaction_timestamp()",
    "statement_timestamp()",
    "clock_timestamp()",
    "'now()'",
    "'now'",
    "now()::date",
    "(now())::date",
    "CURRENT_DATE",
    "LOCALTIMESTAMP",
    "now() + '1 day'::interval",
    "(now() + '1 day'::interval)",
    "'1 day'",
    "'1 day'::interval",
    "'24 hours'::interval",
    "'1 day'::date",
    "'2020-01-01'",
    "'2020-01-01'::date",
    "nextval('oracle_seq')",
    "nextval('oracle_seq'::regclass)",
    "nextval('public.oracle_seq'::regclass)",
    "nextval('public.oracle_seq')",
    "nextval('legacy.oracle_seq'::regclass)",
    "NEXTVAL('oracle_seq')",
    "gen_random_uuid()",
    "'00000000-0000-0000-0000-000000000000'",
    "'00000000-0000-0000-0000-000000000000'::uuid",
    "'a'",
    "'a'::my_enum",
    "'b'",
    "'a'::text",
];

/// `spelling` with `change` applied to everything but its string literals, whose contents
/// are part of the meaning.
fn outside_strings(spelling: &str, change: impl Fn(&str) -> String) -> String {
    spelling
        .split('\'')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 0 {
                change(part)
            } else {
                part.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("'")
}

/// The documented equivalences, applied to what PostgreSQL stored.
fn canonical_stored(stored: &str) -> String {
    let mut text = stored
        .replace("CURRENT_TIMESTAMP", "now()")
        .replace("transaction_timestamp()", "now()");
    // `ARRAY[]::t[]` is the empty array, as is `'{}'::t[]`.
    while let Some(at) = text.find("ARRAY[]::") {
        text.replace_range(at..at + "ARRAY[]".len(), "'{}'");
    }
    text
}

/// A stored default that is one literal under at most one cast: its text, whether it was
/// quoted, and its type (PostgreSQL's label, or `integer`/`numeric` for a bare number).
fn stored_literal(stored: &str) -> Option<(String, bool, String)> {
    let stored = canonical_stored(stored);
    let stored = stored.trim();
    let (value, cast) = match stored.rfind("::") {
        Some(at) => (&stored[..at], stored[at + 2..].to_string()),
        None => (stored, String::new()),
    };
    if cast.contains('\'') || value.contains("::") {
        return None;
    }
    if let Some(text) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        if text.replace("''", "").contains('\'') {
            return None;
        }
        return Some((text.replace("''", "'"), true, cast));
    }
    let bare = value
        .strip_prefix('(')
        .and_then(|v| v.strip_suffix(')'))
        .unwrap_or(value);
    if bare == "true" || bare == "false" {
        return Some((bare.to_string(), false, "boolean".into()));
    }
    bare.parse::<f64>().ok()?;
    let own = if bare.contains('.') {
        "numeric"
    } else {
        "integer"
    };
    Some((
        bare.to_string(),
        false,
        if cast.is_empty() { own.into() } else { cast },
    ))
}

fn numeric_type(name: &str) -> bool {
    let name = name.split('(').next().unwrap_or_default();
    matches!(
        name,
        "integer" | "bigint" | "smallint" | "numeric" | "real" | "double precision"
    )
}

/// The literal a default is written as, when it is one bare (uncast) quoted string.
fn written_bare_string(written: &str) -> Option<String> {
    let inner = written
        .trim()
        .trim_start_matches(['(', ' '])
        .trim_end_matches([')', ' ']);
    let text = inner.strip_prefix('\'')?.strip_suffix('\'')?;
    (!text.replace("''", "").contains('\'')).then(|| text.replace("''", "'"))
}

/// Whether PostgreSQL stores the same default for `expected` as for `actual`, up to the
/// documented equivalences.
fn same_stored(expected_written: &str, expected: &str, actual: &str, column_type: &str) -> bool {
    if canonical_stored(expected) == canonical_stored(actual) {
        return true;
    }
    let (Some((e, e_quoted, e_type)), Some((a, a_quoted, a_type))) =
        (stored_literal(expected), stored_literal(actual))
    else {
        return false;
    };
    let numeric_column = numeric_type(column_type);
    // A number is the same number whatever label PostgreSQL chose (`5`, `'5'::bigint`,
    // `(5)::bigint`): on a numeric column, or under the same label.
    if numeric_type(&e_type) && numeric_type(&a_type) && (numeric_column || e_type == a_type) {
        return e.parse::<f64>().is_ok() && e == a;
    }
    // A jsonb value is the same value however it is spaced or its keys ordered.
    if column_type == "jsonb" && e_type == "jsonb" && a_type == "jsonb" {
        let parse = |t: &str| serde_json::from_str::<Value>(t).ok();
        return parse(&e).is_some() && parse(&e) == parse(&a);
    }
    // A bare string matches that string under any cast (the string as written: PostgreSQL may
    // have rewritten it for the column's type).
    written_bare_string(expected_written).is_some_and(|w| e_quoted && a_quoted && w == a)
}

/// A false failure PostgreSQL's own input function explains: it stored the expected literal
/// as other text than was written (`'24 hours'::interval` as `'24:00:00'::interval`). remtrack
/// compares literals as written, and says so in the README.
fn rewritten_on_input(expected_written: &str, expected_stored: &str) -> bool {
    let Some((stored_text, true, _)) = stored_literal(expected_stored) else {
        return false;
    };
    let written: Vec<&str> = expected_written.split('\'').collect();
    written.len() == 3 && written[1] != stored_text
}

#[tokio::test]
async fn column_defaults_are_judged_as_postgresql_stores_them() {
    let url = cluster().fresh_database().await;
    exec(&url, SETUP).await;
    let mut oracle = Oracle::connect(&url).await;

    let mut spellings: Vec<String> = DEFAULT_SPELLINGS.iter().map(|s| s.to_string()).collect();
    // Generated, one each: redundant parentheses, spacing, or keyword case moved around.
    for (i, spelling) in DEFAULT_SPELLINGS.iter().enumerate() {
        spellings.push(match i % 3 {
            0 => format!("({spelling})"),
            1 => outside_strings(spelling, |code| {
                code.replace("::", " :: ")
                    .replace(',', " , ")
                    .replace('(', "( ")
            }),
            _ => outside_strings(spelling, str::to_uppercase),
        });
    }
    let originals = DEFAULT_SPELLINGS.len();
    let mut seen = BTreeSet::new();
    spellings.retain(|s| seen.insert(s.clone()));

    let mut checks = Vec::new();
    let mut pairs = Vec::new();
    for (t, column_type) in DEFAULT_COLUMN_TYPES.iter().enumerate() {
        let table = format!("defaults_{t}");
        exec(&url, &format!("CREATE TABLE {table} ()")).await;
        // What PostgreSQL stores for each spelling on this type (None: it refuses it).
        let mut stored = Vec::new();
        for (i, spelling) in spellings.iter().enumerate() {
            let column = format!("d{i}");
            let added = oracle
                .add_column(&table, &column, column_type, Some(spelling))
                .await;
            stored.push(if added {
                oracle.column(&table, &column).await.3
            } else {
                None
            });
        }
        // The hand-written spellings give the columns, one per distinct stored default.
        let mut distinct = BTreeSet::new();
        for (actual_index, actual) in stored.iter().enumerate().take(originals) {
            let Some(actual) = actual else { continue };
            if !distinct.insert(actual.clone()) {
                continue;
            }
            for (expected_index, expected) in spellings.iter().enumerate() {
                let truth = stored[expected_index]
                    .as_deref()
                    .is_some_and(|e| same_stored(expected, e, actual, column_type));
                checks.push(json!({
                    "id": format!("d{}", checks.len()),
                    "kind": "column_exists",
                    "table": table,
                    "column": format!("d{actual_index}"),
                    "default": expected,
                }));
                let rewritten = stored[expected_index]
                    .as_deref()
                    .is_some_and(|e| rewritten_on_input(expected, e));
                pairs.push((
                    truth,
                    format!("default {expected:?} on {column_type} column stored as {actual:?}"),
                    rewritten,
                ));
            }
        }
    }
    let verdicts = judge(&url, checks).await;
    let mut tally = Tally::default();
    for ((truth, pair, rewritten), verdict) in pairs.into_iter().zip(&verdicts) {
        tally.record(truth, verdict, pair, rewritten);
    }
    tally.assert_agrees("defaults", spellings.len());
}
