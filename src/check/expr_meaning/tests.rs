//! Unit tests of expression meaning: the catalog's spellings for PostgreSQL (the oracle test in
//! `tests/oracle_expr.rs` asks a real server), and human spellings on both sides for SQLite.

use super::*;

fn pg(expected: &str, actual: &str) -> bool {
    match same_expression(expected, actual, Backend::Postgres) {
        Ok(same) => same,
        Err(e) => panic!("{e}"),
    }
}

fn lite(expected: &str, actual: &str) -> bool {
    match same_expression(expected, actual, Backend::Sqlite) {
        Ok(same) => same,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn catalog_spellings_match_what_a_person_writes() {
    let same = [
        (
            "status IN ('a','b')",
            "((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))",
        ),
        ("deleted_at IS NULL", "(deleted_at IS NULL)"),
        ("price * qty::numeric", "(price * (qty)::numeric)"),
        ("n BETWEEN 1 AND 5", "((n >= 1) AND (n <= 5))"),
        ("n NOT BETWEEN 1 AND 5", "((n < 1) OR (n > 5))"),
        ("t LIKE 'a%'", "(t ~~ 'a%'::text)"),
        ("t NOT ILIKE 'a%'", "(t !~~* 'a%'::text)"),
        ("a != 1", "(a <> 1)"),
        ("CAST(a AS bigint) > 0", "((a)::bigint > 0)"),
        ("\"MixedCase\" > -1", "(\"MixedCase\" > '-1'::integer)"),
        ("N > 0", "(n > (0)::numeric)"),
        ("i > '5'", "(i > 5)"),
        ("b = 'yes'", "(b = true)"),
        ("x NOT IN (1, 2)", "(x <> ALL (ARRAY[1, 2]))"),
        ("x IN (1)", "(x = 1)"),
        ("x IN (y, 1, 2)", "((x = ANY (ARRAY[1, 2])) OR (x = y))"),
        ("a AND b AND c", "(a AND (b AND c))"),
        ("PG_CATALOG.LOWER(t) = 'a'", "(lower(t) = 'a'::text)"),
        ("t = E'it\\'s'", "(t = 'it''s'::text)"),
        ("d > DATE '2024-01-01'", "(d > '2024-01-01'::date)"),
        ("d > '2024-01-01'::date", "(d > '2024-01-01'::date)"),
        ("n > 1e2", "(n > (100)::numeric)"),
        ("n > 5::integer", "(n > (5)::numeric)"),
        ("t SIMILAR TO 'a%'", "(t ~ similar_to_escape('a%'::text))"),
        ("i IS NOT DISTINCT FROM 0", "(NOT (i IS DISTINCT FROM 0))"),
        (
            "s LIKE 'a%' ESCAPE '#'",
            "(s ~~ like_escape('a%'::text, '#'::text))",
        ),
        (
            "s::varchar = 'a'",
            "(((s)::character varying)::text = 'a'::text)",
        ),
        ("v::text = 'a '", "((v)::text = 'a '::text)"),
    ];
    for (expected, actual) in same {
        assert!(pg(expected, actual), "{expected} should match {actual}");
    }
}

#[test]
fn a_difference_in_meaning_is_never_matched() {
    let different = [
        // A cast written in the plan must be the catalog's.
        (
            "d > '2024-01-01'::date",
            "(d > '2024-01-01'::timestamp without time zone)",
        ),
        // A cast of a column to another type changes what is compared.
        ("a > 5", "((a)::integer > 5)"),
        ("a::integer > 5", "(a > 5)"),
        ("a OR b AND c", "((a OR b) AND c)"),
        ("NOT a AND b", "(NOT (a AND b))"),
        ("\"MixedCase\" > 0", "(mixedcase > 0)"),
        ("n > 1.0", "(n > 1.00)"),
        ("n > 0", "(n > 0.0)"),
        ("t = 'a'", "(t = 'A'::text)"),
        ("t = '5'::text", "(t = 5)"),
        ("i > '5'::integer", "(i > '5'::text)"),
        ("x IN (1, 2)", "(x = ANY (ARRAY[2, 1]))"),
        ("x NOT IN (1, 2)", "(x = ANY (ARRAY[1, 2]))"),
        ("x BETWEEN 1 AND 5", "((x > 1) AND (x <= 5))"),
        ("t LIKE 'a%'", "(t ~~* 'a%'::text)"),
        ("a - b", "(b - a)"),
        ("lower(t) = 'a'", "(upper(t) = 'a'::text)"),
        ("b = 'no'", "(b = true)"),
        ("n > 5", "(n > '5'::numeric)"),
        ("i IS NULL", "(i IS NOT NULL)"),
        // An untyped date against a date literal could be a timestamptz column (rule 3).
        ("ts > '2024-01-01'", "(ts > '2024-01-01'::date)"),
        ("d > '2024-01-01'", "(d > '2024-01-01'::date)"),
        ("r > '0.1'", "(r > '0.1'::double precision)"),
        // A column's cast to text is not a literal's.
        ("c::text LIKE 'a %'", "(c ~~ 'a %'::text)"),
        // A char(n) column compares trailing blanks otherwise than text.
        ("c = 'a '", "((c)::text = 'a '::text)"),
        // … so a varchar column against such a string needs its cast written (rule 4).
        ("v = 'a '", "((v)::text = 'a '::text)"),
        ("i IS NOT DISTINCT FROM 0", "(i IS DISTINCT FROM 0)"),
        (
            "s LIKE 'a%' ESCAPE '#'",
            "(s ~~ like_escape('a%'::text, '!'::text))",
        ),
    ];
    for (expected, actual) in different {
        assert!(!pg(expected, actual), "{expected} must not match {actual}");
    }
}

#[test]
fn sqlite_spellings_match_by_meaning() {
    let same = [
        ("status IN ('a','b')", "status in ( 'a' , 'b' )"),
        ("price >= 0", "(PRICE >= 0)"),
        ("\"Price\" >= 0", "price >= 0"),
        ("[qty] > 0 AND qty < 10", "qty > 0 and (qty < 10)"),
        ("x == 1", "x = 1"),
        ("x != 1", "x <> 1"),
        ("x BETWEEN 1 AND 2", "x >= 1 AND x <= 2"),
        ("ratio > 1.0", "ratio > 1.00"),
        ("length(name) > 0", "LENGTH(name) > 0"),
        ("deleted_at IS NULL", "(deleted_at IS NULL)"),
        ("CAST(qty AS REAL) > 1", "CAST(qty AS real) > 1"),
    ];
    for (expected, actual) in same {
        assert!(lite(expected, actual), "{expected} should match {actual}");
    }
    let different = [
        ("status IN ('a','b')", "status IN ('a','c')"),
        ("x > 1", "x >= 1"),
        ("x = '1'", "x = 1"),
        ("CAST(qty AS TEXT) = '1'", "qty = '1'"),
        ("qty = '1'", "CAST(qty AS TEXT) = '1'"),
        ("a OR b AND c", "(a OR b) AND c"),
        ("x > 1", "x > 1.0"),
        ("name LIKE 'a%'", "name NOT LIKE 'a%'"),
    ];
    for (expected, actual) in different {
        assert!(
            !lite(expected, actual),
            "{expected} must not match {actual}"
        );
    }
}

#[test]
fn normal_forms_show_the_tree() {
    let form = |t| match normal_form(t, Backend::Postgres) {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        form(
            "((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))"
        ),
        "(status = ANY ARRAY['a', 'b'])"
    );
    assert_eq!(form("a OR b AND c"), "(a OR (b AND c))");
    assert_eq!(form("(a OR b) AND c"), "((a OR b) AND c)");
    assert_eq!(
        form("\"MixedCase\" BETWEEN 0 AND 1.50"),
        "((\"MixedCase\" >= 0) AND (\"MixedCase\" <= 1.50))"
    );
    assert_eq!(form("(a)::integer > 5"), "((a)::integer > 5)");
}

#[test]
fn unreadable_text_is_an_error_naming_it() {
    for bad in ["a >", "a = 1 extra", "", "a IN ("] {
        match same_expression(bad, "a = 1", Backend::Postgres) {
            Err(ExprError(message)) => {
                assert!(
                    message.starts_with(&format!("cannot read expression `{bad}`")),
                    "{message}"
                )
            }
            Ok(same) => panic!("{bad:?} was read (same: {same})"),
        }
    }
    assert!(same_expression("a = 1", "a = = 1", Backend::Sqlite).is_err());
}

#[test]
fn with_column_types_a_cast_that_keeps_every_value_is_as_if_not_written() {
    let columns = [
        ("price", "numeric(10,2)"),
        ("qty", "integer"),
        ("c", "character(3)"),
        ("v", "character varying(20)"),
        ("f", "double precision"),
    ];
    let same = |expected: &str, actual: &str| {
        super::same_expression_on(expected, actual, Backend::Postgres, &columns).unwrap()
    };
    assert!(same("price * qty", "(price * (qty)::numeric)"));
    assert!(same("v LIKE 'a%'", "((v)::text ~~ 'a%'::text)"));
    assert!(same("v = 'a '", "((v)::text = 'a '::text)"));
    // char(n) read as text keeps trailing blanks it would otherwise ignore: not the same.
    assert!(!same("c LIKE 'a%'", "((c)::text ~~ 'a%'::text)"));
    // A cast that rounds is never dropped.
    assert!(!same("f > 5", "((f)::bigint > 5)"));
    assert!(!same("qty > 5", "((qty)::real > (5)::double precision)"));
}
