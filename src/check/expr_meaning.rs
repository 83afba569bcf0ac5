//! Whether two SQL expressions mean the same: a CHECK constraint, a partial-index predicate or a
//! generated column as the plan writes it against the same as the catalog prints it
//! (`pg_get_expr`), or, on SQLite, as the table's CREATE statement spells it.
//!
//! Both texts are parsed with `sqlparser` (PostgreSQL's or SQLite's dialect), normalized, and
//! compared as trees. Saying "same" when the meaning differs is the worst mistake this module can
//! make, so every rule below only removes what cannot change the meaning, and anything it does
//! not understand is compared as parsed. The rules:
//!
//! 1. Parentheses only group: they are dropped once the tree is built. AND and OR are
//!    associative, so `a AND (b AND c)` is `(a AND b) AND c`; operands are never reordered.
//! 2. Unquoted names fold to lower case, quoted names keep their case (PostgreSQL); on SQLite
//!    every name folds, since SQLite matches names without regard to case. Function names fold
//!    too, and a leading `pg_catalog.` on a function is dropped.
//! 3. A cast on a literal (`'a'::character varying`, `(0)::numeric`, `'2024-01-01'::date`) is not
//!    part of the tree: the literal keeps the chain of types it passes through instead (a bare
//!    number starts as `integer`, `bigint` or `numeric`, `true` as `boolean`). Every type the
//!    expected literal has must be in the actual literal's chain. Over the whole text, every
//!    cast type the expected writes must appear in the actual (as multisets, casts of literals
//!    apart from casts of anything else, so that a literal's `'a'::text` does not stand in for a
//!    column's `c::text`; the actual's bare literals count with their own types, since
//!    PostgreSQL prints an `integer`, a `numeric` with a point and a `boolean` unlabelled). So
//!    `d > '2024-01-01'::date` does not match `d > '2024-01-01'::timestamp without time zone`.
//!    Type names are compared as `format_type` prints them (`crate::check::sqltype`).
//!    An expected string written without a type matches an actual literal of a date/time type,
//!    `real` or `double precision` only if the plan writes that type too (`'2024-01-01'::date`,
//!    `DATE '2024-01-01'`): PostgreSQL gives an untyped string the column's type, which the
//!    catalog text does not show, and between these types it has operators that change the
//!    meaning (a `timestamptz` column against `'2024-01-01'::date` reads the date in the session's
//!    time zone; against `'2024-01-01'` it is a fixed instant).
//! 4. On PostgreSQL, a cast of a column to `text` (printed for a varchar column), a cast of a
//!    varchar value to `text`, and a cast of an `ARRAY[…]` of literals to an array type (printed
//!    for an IN list) are dropped; a column's cast to `text` stays when a string literal of the
//!    text ends in white space (there a `char(n)` column would compare otherwise). Every other
//!    cast of a non-literal stays: `(a)::integer > 5` is not `a > 5`.
//!    With the table's column types known ([`same_expression_on`], as every judge calls it),
//!    a column's cast is decided by its type instead: a cast that keeps every value (`integer`
//!    to `bigint` or `numeric`, `smallint` up, `real` to `double precision`, `varchar` to
//!    `text`) is dropped — PostgreSQL prints `(price * (qty)::numeric)` for `price * qty` — and
//!    any other stays, `character(n)` to `text` included.
//! 5. `x IN (a, b)` is `x = ANY (ARRAY[a, b])` and `x NOT IN (a, b)` is `x <> ALL (ARRAY[a, b])`,
//!    split as PostgreSQL splits them (an item that reads a column is its own `x = item`, a
//!    one-item list is `x = a`). `x BETWEEN a AND b` is `x >= a AND x <= b`, `NOT BETWEEN` is
//!    `x < a OR x > b`. `LIKE` is `~~`, `NOT LIKE` `!~~`, `ILIKE` `~~*`, `NOT ILIKE` `!~~*`,
//!    `… ESCAPE e` is `like_escape(pattern, e)`, `SIMILAR TO p` is `~ similar_to_escape(p)`;
//!    `a IS NOT DISTINCT FROM b` is `NOT (a IS DISTINCT FROM b)`; `!=` is `<>`; `CAST(x AS t)`
//!    is `x::t`; `DATE '…'` is `'…'::date`. Keyword case and white space do not matter.
//! 6. Numbers compare by the value and scale PostgreSQL keeps: `007` is `7` and `1e2` is `100`,
//!    but `1.0` is not `1.00` (PostgreSQL prints each as written, and the scale shows in
//!    arithmetic). On SQLite a number with a point is a REAL, so there `1.0` is `1.00`. A minus
//!    before a number is part of the number. String text must be equal exactly (`E'…'` escapes
//!    decoded), except that, on PostgreSQL, an expected string without a cast matches the number
//!    or boolean it reads as (`'5'` against `5`, `'t'` against `true`): PostgreSQL reads an
//!    untyped string as the type the other side needs, and the actual shows that type.
//! 7. Anything else (subqueries, `EXTRACT`, `TRIM`, `SUBSTRING … FROM`, `BETWEEN SYMMETRIC`,
//!    calls with `DISTINCT` or `FILTER`, `x IN (SELECT …)`) is compared exactly as parsed, names
//!    unfolded. Text `sqlparser` cannot read (`x ISNULL`, `BETWEEN SYMMETRIC`) is an error.
//!
//! What is not recognized, knowingly (each a "different" the plan can fix by writing what the
//! catalog prints): literals PostgreSQL rewrites on input (`'2024-1-1'` prints as `'2024-01-01'`,
//! a timestamp gains its time and zone); casts PostgreSQL adds to a column of another type
//! (`(i)::numeric` when an integer column meets `1.5`) unless the column types are known; a date/time or float literal written
//! without its type (rule 3); a varchar column compared with a string that ends in white space
//! without its `::text` (rule 4).
//!
//! The one known false "same", only without column types ([`same_expression`]): the text cannot tell the `(col)::text`
//! PostgreSQL prints for a varchar column from a cast written in the definition on a `char(n)`
//! column, whose comparisons keep trailing blanks (`LIKE`, regular expressions, functions). A
//! plan's `c LIKE 'a%'` therefore matches a definition's `c::text LIKE 'a%'` on such a column.

mod literal;
mod read;

use std::collections::BTreeMap;
use std::fmt;

use crate::Backend;

/// Why an expression could not be compared: one side could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ExprError(pub String);

/// Whether `expected` (as a person writes it) and `actual` (as the catalog prints it) mean the same.
pub fn same_expression(expected: &str, actual: &str, backend: Backend) -> Result<bool, ExprError> {
    same_expression_on(expected, actual, backend, &[])
}

/// As [`same_expression`], on a table whose columns (`name`, type as `format_type` prints it)
/// are known: a cast of a column that changes no value (`(qty)::numeric` of an integer,
/// `(code)::text` of a varchar) is then as if not written, and any other cast of a column
/// (`(code)::text` of a `character(n)`) stays.
pub fn same_expression_on(
    expected: &str,
    actual: &str,
    backend: Backend,
    columns: &[(&str, &str)],
) -> Result<bool, ExprError> {
    let column_types: read::ColumnTypes = columns
        .iter()
        .map(|(name, ty)| (fold(name, backend), ty.to_string()))
        .collect();
    let expected = read::read(expected, backend, &column_types)?;
    let actual = read::read(actual, backend, &column_types)?;
    let bare_types = actual.node.bare_literal_types();
    let literal_types = actual
        .literal_casts
        .iter()
        .map(String::as_str)
        .chain(bare_types);
    if !contains_all(literal_types, &expected.literal_casts)
        || !contains_all(
            actual.other_casts.iter().map(String::as_str),
            &expected.other_casts,
        )
    {
        return Ok(false);
    }
    Ok(expected.node.matches(&actual.node, backend))
}

/// Whether the multiset `available` holds every name in `needed`, as often as it is needed.
fn contains_all<'a>(available: impl Iterator<Item = &'a str>, needed: &[String]) -> bool {
    let mut counts = BTreeMap::<&str, usize>::new();
    for name in available {
        *counts.entry(name).or_default() += 1;
    }
    needed
        .iter()
        .all(|name| match counts.get_mut(name.as_str()) {
            Some(count) if *count > 0 => {
                *count -= 1;
                true
            }
            _ => false,
        })
}

/// The normal form of an expression, for evidence and tests. Literals print without their
/// types, which [`same_expression`] compares apart (rule 3).
pub fn normal_form(text: &str, backend: Backend) -> Result<String, ExprError> {
    Ok(read::read(text, backend, &read::ColumnTypes::new())?
        .node
        .to_string())
}

/// A catalog column name as the reader folds a name: the catalog keeps it exactly, and an
/// expression's unquoted name folds to lower case (both ways on SQLite).
fn fold(name: &str, backend: Backend) -> String {
    match backend {
        Backend::Sqlite => name.to_ascii_lowercase(),
        Backend::Postgres => name.to_string(),
    }
}

/// A normalized expression.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// A column (or `table.column`), names folded.
    Column(Vec<String>),
    Literal(Literal),
    /// A cast that stays (of something other than a literal), to a normalized type name.
    Cast(Box<Node>, String),
    Array(Vec<Node>),
    Prefix(String, Box<Node>),
    Postfix(Box<Node>, String),
    Infix(Box<Node>, String, Box<Node>),
    /// AND or OR over two or more operands, flattened.
    Logic(Logic, Vec<Node>),
    /// A function call; `None` for a call written without parentheses (`CURRENT_DATE`).
    Call(String, Option<Vec<Node>>),
    Case {
        operand: Option<Box<Node>>,
        branches: Vec<(Node, Node)>,
        otherwise: Option<Box<Node>>,
    },
    /// Something the rules do not cover, kept as parsed.
    Opaque(Box<sqlparser::ast::Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Logic {
    And,
    Or,
}

/// A literal value and the types it passes through, innermost first.
#[derive(Debug, Clone, PartialEq)]
struct Literal {
    value: Value,
    types: Vec<String>,
    /// Whether the first of `types` is the literal's own (a bare number or boolean), not a cast.
    implicit: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    /// The canonical text of a number (rule 6).
    Number(String),
    Text(String),
    Bool(bool),
    Null,
}

impl Node {
    fn reads_a_column(&self) -> bool {
        match self {
            Node::Column(_) | Node::Opaque(_) => true,
            Node::Literal(_) => false,
            Node::Cast(inner, _) | Node::Prefix(_, inner) | Node::Postfix(inner, _) => {
                inner.reads_a_column()
            }
            Node::Infix(l, _, r) => l.reads_a_column() || r.reads_a_column(),
            Node::Array(items) | Node::Logic(_, items) => items.iter().any(Node::reads_a_column),
            Node::Call(_, args) => args.iter().flatten().any(Node::reads_a_column),
            Node::Case { .. } => true,
        }
    }

    /// Whether a string literal ends in white space, or an opaque part might hold one (its
    /// normal form shows in braces; a false alarm only keeps a cast).
    fn has_text_with_trailing_space(&self) -> bool {
        let mut found = self.to_string().contains('{');
        self.each_literal(&mut |literal| {
            if let Value::Text(text) = &literal.value {
                found |= text.ends_with(char::is_whitespace);
            }
        });
        found
    }

    /// The types of the literals written without a cast, which PostgreSQL prints unlabelled.
    fn bare_literal_types(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.each_literal(&mut |literal| {
            if let (true, Some(own)) = (literal.implicit, literal.types.first()) {
                out.push(own.as_str());
            }
        });
        out
    }

    /// Calls `f` on every literal in the tree (not inside an opaque part).
    fn each_literal<'a>(&'a self, f: &mut impl FnMut(&'a Literal)) {
        match self {
            Node::Literal(literal) => f(literal),
            Node::Column(_) | Node::Opaque(_) => {}
            Node::Cast(inner, _) | Node::Prefix(_, inner) | Node::Postfix(inner, _) => {
                inner.each_literal(f)
            }
            Node::Infix(l, _, r) => {
                l.each_literal(f);
                r.each_literal(f);
            }
            Node::Array(items) | Node::Logic(_, items) => {
                items.iter().for_each(|i| i.each_literal(f))
            }
            Node::Call(_, args) => args.iter().flatten().for_each(|a| a.each_literal(f)),
            Node::Case {
                operand,
                branches,
                otherwise,
            } => {
                operand.iter().for_each(|o| o.each_literal(f));
                for (when, then) in branches {
                    when.each_literal(f);
                    then.each_literal(f);
                }
                otherwise.iter().for_each(|o| o.each_literal(f));
            }
        }
    }

    /// Whether `self` (expected) means what `actual` means; see the module rules.
    fn matches(&self, actual: &Node, backend: Backend) -> bool {
        let all = |e: &[Node], a: &[Node]| {
            e.len() == a.len() && e.iter().zip(a).all(|(e, a)| e.matches(a, backend))
        };
        let both = |e: &Option<Box<Node>>, a: &Option<Box<Node>>| match (e, a) {
            (None, None) => true,
            (Some(e), Some(a)) => e.matches(a, backend),
            _ => false,
        };
        match (self, actual) {
            (Node::Literal(e), Node::Literal(a)) => e.matches(a, backend),
            (Node::Column(e), Node::Column(a)) => e == a,
            (Node::Cast(e, te), Node::Cast(a, ta)) => te == ta && e.matches(a, backend),
            (Node::Array(e), Node::Array(a)) => all(e, a),
            (Node::Prefix(oe, e), Node::Prefix(oa, a)) => oe == oa && e.matches(a, backend),
            (Node::Postfix(e, oe), Node::Postfix(a, oa)) => oe == oa && e.matches(a, backend),
            (Node::Infix(le, oe, re), Node::Infix(la, oa, ra)) => {
                oe == oa && le.matches(la, backend) && re.matches(ra, backend)
            }
            (Node::Logic(le, e), Node::Logic(la, a)) => le == la && all(e, a),
            (Node::Call(ne, e), Node::Call(na, a)) => {
                ne == na
                    && match (e, a) {
                        (None, None) => true,
                        (Some(e), Some(a)) => all(e, a),
                        _ => false,
                    }
            }
            (
                Node::Case {
                    operand: oe,
                    branches: be,
                    otherwise: ee,
                },
                Node::Case {
                    operand: oa,
                    branches: ba,
                    otherwise: ea,
                },
            ) => {
                both(oe, oa)
                    && both(ee, ea)
                    && be.len() == ba.len()
                    && be.iter().zip(ba).all(|((we, te), (wa, ta))| {
                        we.matches(wa, backend) && te.matches(ta, backend)
                    })
            }
            (Node::Opaque(e), Node::Opaque(a)) => e == a,
            _ => false,
        }
    }
}

/// Literal types between which PostgreSQL has operators that change the meaning of a
/// comparison (a `timestamptz` column against a `date` reads the date in the session's time
/// zone; `real` against `double precision` compares at another precision). An untyped string in
/// the expected text takes the other side's type, which the catalog text does not show, so it
/// cannot be said to be an actual literal of one of these types: the plan must write the type.
const TYPES_TO_WRITE: &[&str] = &[
    "date",
    "timestamp without time zone",
    "timestamp with time zone",
    "time without time zone",
    "time with time zone",
    "real",
    "double precision",
];

impl Literal {
    fn matches(&self, actual: &Literal, backend: Backend) -> bool {
        if !self.types.iter().all(|t| actual.types.contains(t)) {
            return false;
        }
        if self.types.is_empty()
            && actual
                .types
                .iter()
                .any(|t| TYPES_TO_WRITE.contains(&t.as_str()))
        {
            return false;
        }
        match (&self.value, &actual.value) {
            // An untyped string takes the type the other side needs; the catalog shows which.
            (Value::Text(text), Value::Number(n))
                if self.types.is_empty() && backend == Backend::Postgres =>
            {
                literal::canonical_number(text, backend).as_ref() == Some(n)
            }
            (Value::Text(text), Value::Bool(b))
                if self.types.is_empty() && backend == Backend::Postgres =>
            {
                literal::pg_bool(text) == Some(*b)
            }
            (e, a) => e == a,
        }
    }
}

impl fmt::Display for Node {
    /// Fully parenthesized, so that the text shows the tree.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |items: &[Node], sep: &str| {
            items
                .iter()
                .map(Node::to_string)
                .collect::<Vec<_>>()
                .join(sep)
        };
        match self {
            Node::Column(parts) => {
                let quoted: Vec<String> = parts
                    .iter()
                    .map(|p| crate::check::sqltype::quote_ident(p))
                    .collect();
                f.write_str(&quoted.join("."))
            }
            Node::Literal(literal) => match &literal.value {
                Value::Number(n) => f.write_str(n),
                Value::Text(t) => write!(f, "'{}'", t.replace('\'', "''")),
                Value::Bool(b) => f.write_str(if *b { "true" } else { "false" }),
                Value::Null => f.write_str("NULL"),
            },
            Node::Cast(inner, to) => write!(f, "({inner})::{to}"),
            Node::Array(items) => write!(f, "ARRAY[{}]", list(items, ", ")),
            Node::Prefix(op, inner) => write!(f, "({op} {inner})"),
            Node::Postfix(inner, op) => write!(f, "({inner} {op})"),
            Node::Infix(l, op, r) => write!(f, "({l} {op} {r})"),
            Node::Logic(logic, items) => {
                let sep = match logic {
                    Logic::And => " AND ",
                    Logic::Or => " OR ",
                };
                write!(f, "({})", list(items, sep))
            }
            Node::Call(name, None) => f.write_str(name),
            Node::Call(name, Some(args)) => write!(f, "{name}({})", list(args, ", ")),
            Node::Case {
                operand,
                branches,
                otherwise,
            } => {
                f.write_str("CASE")?;
                if let Some(operand) = operand {
                    write!(f, " {operand}")?;
                }
                for (when, then) in branches {
                    write!(f, " WHEN {when} THEN {then}")?;
                }
                if let Some(otherwise) = otherwise {
                    write!(f, " ELSE {otherwise}")?;
                }
                f.write_str(" END")
            }
            Node::Opaque(expr) => write!(f, "{{{expr}}}"),
        }
    }
}

#[cfg(test)]
mod tests;
