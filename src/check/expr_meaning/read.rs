//! From text to a normalized [`Node`]: parsed by `sqlparser` in the backend's dialect, then
//! rewritten by the rules in the parent module's documentation.

use sqlparser::ast::{
    self as sql, BinaryOperator, CaseWhen, DataType, Expr, FunctionArg, FunctionArgExpr,
    FunctionArguments, Ident, InTarget, ObjectNamePart, UnaryOperator,
};
use sqlparser::dialect::{Dialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use super::literal::{canonical_number, is_number_type, number_type, pg_bool};
use super::{ExprError, Literal, Logic, Node, Value};
use crate::Backend;
use crate::check::sqltype::parse_type;

/// A text read: its normal form and every cast type it writes, by normalized name: casts of
/// literals apart from casts of anything else, so that a literal's `'a'::text` cannot stand in
/// for a column's `c::text`.
pub(super) struct Read {
    pub node: Node,
    pub literal_casts: Vec<String>,
    pub other_casts: Vec<String>,
}

/// Parses `text` as one expression and normalizes it. `columns` maps the table's column names
/// (folded) to their types as `format_type` prints them, when they are known.
pub(super) fn read(text: &str, backend: Backend, columns: &ColumnTypes) -> Result<Read, ExprError> {
    let expr = parse(text, backend)?;
    let mut reader = Reader::new(backend, true, columns);
    let mut node = reader.node(&expr);
    // A `char(n)` column compared as text ignores no trailing blanks, compared as itself it
    // does; without the column's type the text cannot say which the column is, so with such a
    // literal the cast stays.
    if reader.dropped_text_cast && node.has_text_with_trailing_space() {
        reader = Reader::new(backend, false, columns);
        node = reader.node(&expr);
    }
    Ok(Read {
        node,
        literal_casts: reader.literal_casts,
        other_casts: reader.other_casts,
    })
}

fn parse(text: &str, backend: Backend) -> Result<Expr, ExprError> {
    let dialect: &dyn Dialect = match backend {
        Backend::Postgres => &PostgreSqlDialect {},
        Backend::Sqlite => &SQLiteDialect {},
    };
    let failed = |message: String| ExprError(format!("cannot read expression `{text}`: {message}"));
    let mut parser = Parser::new(dialect)
        .try_with_sql(text)
        .map_err(|e| failed(e.to_string()))?;
    let expr = parser.parse_expr().map_err(|e| failed(e.to_string()))?;
    let next = parser.peek_token().token;
    if next != Token::EOF {
        return Err(failed(format!("`{next}` follows a complete expression")));
    }
    Ok(expr)
}

/// The normalized name of a cast's type: as `format_type` prints it when remtrack's type parser
/// understands it, else its text in lower case.
fn type_name(data_type: &DataType) -> String {
    let text = data_type.to_string();
    parse_type(&text)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| text.to_lowercase())
}

/// A table's columns and their types (`format_type`), names folded as the backend folds them.
pub(super) type ColumnTypes = std::collections::HashMap<String, String>;

/// Whether a cast from a column of type `from` to `to` keeps every value as it is, so that
/// `(qty)::numeric` is `qty` wherever PostgreSQL would add it: the widening casts PostgreSQL
/// makes implicitly and that lose nothing. Lossy implicit casts (`integer` to `real`, `bigint`
/// or `numeric` to `double precision`) and `character(n)` to `text` (which drops trailing
/// blanks) are not among them.
fn keeps_values(from: &str, to: &str) -> bool {
    let from = from.split('(').next().unwrap_or(from);
    match from {
        "smallint" => matches!(to, "integer" | "bigint" | "numeric"),
        "integer" => matches!(to, "bigint" | "numeric"),
        "bigint" => to == "numeric",
        "real" => to == "double precision",
        "numeric" => to == "numeric",
        "character varying" | "text" => to == "text",
        _ => false,
    }
}

struct Reader<'a> {
    column_types: &'a ColumnTypes,
    backend: Backend,
    literal_casts: Vec<String>,
    other_casts: Vec<String>,
    /// Whether rule 4 may drop a column's cast to `text`.
    drop_text_casts: bool,
    /// Whether it did.
    dropped_text_cast: bool,
}

impl<'a> Reader<'a> {
    fn new(backend: Backend, drop_text_casts: bool, column_types: &'a ColumnTypes) -> Reader<'a> {
        Reader {
            column_types,
            backend,
            literal_casts: Vec::new(),
            other_casts: Vec::new(),
            drop_text_casts,
            dropped_text_cast: false,
        }
    }

    /// PostgreSQL folds an unquoted name to lower case and keeps a quoted one; SQLite matches
    /// names without regard to ASCII case, quoted or not.
    fn name(&self, ident: &Ident) -> String {
        if ident.quote_style.is_none() || self.backend == Backend::Sqlite {
            ident.value.to_ascii_lowercase()
        } else {
            ident.value.clone()
        }
    }

    fn nodes(&mut self, exprs: &[Expr]) -> Vec<Node> {
        exprs.iter().map(|e| self.node(e)).collect()
    }

    fn boxed(&mut self, expr: &Expr) -> Box<Node> {
        Box::new(self.node(expr))
    }

    fn infix(&mut self, left: &Expr, op: &str, right: &Expr) -> Node {
        Node::Infix(self.boxed(left), op.to_string(), self.boxed(right))
    }

    fn postfix(&mut self, expr: &Expr, op: &str) -> Node {
        Node::Postfix(self.boxed(expr), op.to_string())
    }

    fn node(&mut self, expr: &Expr) -> Node {
        match expr {
            Expr::Nested(inner) => self.node(inner),
            Expr::Identifier(ident) => Node::Column(vec![self.name(ident)]),
            Expr::CompoundIdentifier(parts) => {
                Node::Column(parts.iter().map(|p| self.name(p)).collect())
            }
            Expr::Value(value) => self.value(&value.value).unwrap_or_else(|| opaque(expr)),
            Expr::TypedString(typed) => match self.value(&typed.value.value) {
                // `DATE '2024-01-01'` is PostgreSQL's `'2024-01-01'::date`.
                Some(node) if !typed.uses_odbc_syntax => self.cast(node, &typed.data_type),
                _ => opaque(expr),
            },
            Expr::Cast {
                kind: sql::CastKind::Cast | sql::CastKind::DoubleColon,
                expr: inner,
                data_type,
                format: None,
            } => {
                let inner = self.node(inner);
                self.cast(inner, data_type)
            }
            Expr::IsNull(e) => self.postfix(e, "IS NULL"),
            Expr::IsNotNull(e) => self.postfix(e, "IS NOT NULL"),
            Expr::IsTrue(e) => self.postfix(e, "IS TRUE"),
            Expr::IsNotTrue(e) => self.postfix(e, "IS NOT TRUE"),
            Expr::IsFalse(e) => self.postfix(e, "IS FALSE"),
            Expr::IsNotFalse(e) => self.postfix(e, "IS NOT FALSE"),
            Expr::IsUnknown(e) => self.postfix(e, "IS UNKNOWN"),
            Expr::IsNotUnknown(e) => self.postfix(e, "IS NOT UNKNOWN"),
            Expr::IsDistinctFrom(l, r) => self.infix(l, "IS DISTINCT FROM", r),
            // PostgreSQL prints `a IS NOT DISTINCT FROM b` as `NOT (a IS DISTINCT FROM b)`.
            Expr::IsNotDistinctFrom(l, r) => {
                Node::Prefix("NOT".into(), Box::new(self.infix(l, "IS DISTINCT FROM", r)))
            }
            Expr::In {
                expr: left,
                target: InTarget::List(items),
                negated,
                global: false,
            } if !items.is_empty() => self.in_list(left, items, *negated),
            Expr::Between {
                expr: x,
                negated,
                low,
                high,
            } => {
                // PostgreSQL expands BETWEEN into two comparisons when it parses it.
                let (low_op, high_op, logic) = if *negated {
                    ("<", ">", Logic::Or)
                } else {
                    (">=", "<=", Logic::And)
                };
                let low = self.infix(x, low_op, low);
                let high = self.infix(x, high_op, high);
                logic_of(logic, vec![low, high])
            }
            Expr::Like {
                negated,
                any: false,
                expr: l,
                pattern,
                escape_char,
            }
            | Expr::ILike {
                negated,
                any: false,
                expr: l,
                pattern,
                escape_char,
            } => {
                let op = match (matches!(expr, Expr::ILike { .. }), *negated) {
                    (false, false) => "~~",
                    (false, true) => "!~~",
                    (true, false) => "~~*",
                    (true, true) => "!~~*",
                };
                self.like(l, op, pattern, escape_char.as_deref())
            }
            Expr::SimilarTo {
                negated,
                expr: l,
                pattern,
                escape_char,
            } if self.backend == Backend::Postgres => {
                // PostgreSQL prints `x SIMILAR TO p` as `x ~ similar_to_escape(p)`.
                let mut args = vec![self.node(pattern)];
                if let Some(escape) = escape_char {
                    args.push(self.node(escape));
                }
                let call = Node::Call("similar_to_escape".into(), Some(args));
                let op = if *negated { "!~" } else { "~" };
                Node::Infix(self.boxed(l), op.into(), Box::new(call))
            }
            Expr::BinaryOp { left, op, right } => self.binary(left, op, right),
            Expr::AnyOp {
                left,
                compare_op,
                right,
                is_some: _,
            } => self.infix(left, &format!("{} ANY", operator(compare_op)), right),
            Expr::AllOp {
                left,
                compare_op,
                right,
            } => self.infix(left, &format!("{} ALL", operator(compare_op)), right),
            Expr::UnaryOp { op, expr: operand } => self.unary(op, operand),
            Expr::Array(sql::Array { elem, named: true }) => Node::Array(self.nodes(elem)),
            Expr::Function(function) => self.function(function).unwrap_or_else(|| opaque(expr)),
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => Node::Case {
                operand: operand.as_deref().map(|o| self.boxed(o)),
                branches: conditions
                    .iter()
                    .map(|CaseWhen { condition, result }| (self.node(condition), self.node(result)))
                    .collect(),
                otherwise: else_result.as_deref().map(|e| self.boxed(e)),
            },
            Expr::Collate { expr: e, collation } => {
                let name = collation
                    .0
                    .iter()
                    .map(|part| match part {
                        ObjectNamePart::Identifier(ident) => format!("\"{}\"", self.name(ident)),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(".");
                self.postfix(e, &format!("COLLATE {name}"))
            }
            _ => opaque(expr),
        }
    }

    /// `x LIKE p ESCAPE e` is printed `x ~~ like_escape(p, e)`.
    fn like(&mut self, left: &Expr, op: &str, pattern: &Expr, escape: Option<&Expr>) -> Node {
        let Some(escape) = escape else {
            return self.infix(left, op, pattern);
        };
        let call = Node::Call(
            "like_escape".into(),
            Some(vec![self.node(pattern), self.node(escape)]),
        );
        Node::Infix(self.boxed(left), op.into(), Box::new(call))
    }

    /// A literal; `None` for a kind of literal this module does not read (byte strings, hex,
    /// placeholders), which is then compared as parsed.
    fn value(&mut self, value: &sql::Value) -> Option<Node> {
        let literal = match value {
            sql::Value::Number(text, false) => Literal {
                value: Value::Number(
                    canonical_number(text, self.backend).unwrap_or_else(|| text.clone()),
                ),
                types: vec![number_type(text).to_string()],
                implicit: true,
            },
            sql::Value::SingleQuotedString(text)
            | sql::Value::EscapedStringLiteral(text)
            | sql::Value::UnicodeStringLiteral(text) => Literal {
                value: Value::Text(text.clone()),
                types: Vec::new(),
                implicit: false,
            },
            sql::Value::DollarQuotedString(dollar) => Literal {
                value: Value::Text(dollar.value.clone()),
                types: Vec::new(),
                implicit: false,
            },
            sql::Value::Boolean(b) => Literal {
                value: Value::Bool(*b),
                types: vec!["boolean".into()],
                implicit: true,
            },
            sql::Value::Null => Literal {
                value: Value::Null,
                types: Vec::new(),
                implicit: false,
            },
            _ => return None,
        };
        Some(Node::Literal(literal))
    }

    /// Rules 3 and 4: which casts carry meaning and which PostgreSQL only adds when it prints.
    fn cast(&mut self, inner: Node, data_type: &DataType) -> Node {
        let to = type_name(data_type);
        let of_literals = match &inner {
            Node::Literal(_) => true,
            Node::Array(items) => items.iter().all(|i| matches!(i, Node::Literal(_))),
            _ => false,
        };
        if of_literals {
            self.literal_casts.push(to.clone());
        } else {
            self.other_casts.push(to.clone());
        }
        match inner {
            Node::Literal(mut literal) => {
                // `'5'::integer` is the number 5 and `'t'::boolean` is true, whatever the quotes.
                if let Value::Text(text) = &literal.value {
                    let read = if is_number_type(&to) {
                        canonical_number(text, self.backend).map(Value::Number)
                    } else if to == "boolean" && self.backend == Backend::Postgres {
                        pg_bool(text).map(Value::Bool)
                    } else {
                        None
                    };
                    if let Some(value) = read {
                        literal.value = value;
                    }
                }
                literal.types.push(to);
                Node::Literal(literal)
            }
            // With the column's type known: a cast that changes no value is as if not written
            // (PostgreSQL prints `(price * (qty)::numeric)` for `price * qty`); any other stays.
            Node::Column(ref path)
                if self.backend == Backend::Postgres
                    && path.len() == 1
                    && self.column_types.contains_key(&path[0]) =>
            {
                if self
                    .column_types
                    .get(&path[0])
                    .is_some_and(|from| keeps_values(from, &to))
                {
                    inner
                } else {
                    Node::Cast(Box::new(inner), to)
                }
            }
            // PostgreSQL prints a varchar column compared with text as `(col)::text`.
            Node::Column(_)
                if to == "text" && self.backend == Backend::Postgres && self.drop_text_casts =>
            {
                self.dropped_text_cast = true;
                inner
            }
            // A varchar value read as text is the same string: `((s)::varchar)::text`.
            Node::Cast(_, ref varchar)
                if to == "text" && varchar.starts_with("character varying") =>
            {
                inner
            }
            // … and an IN list of varchar literals as `(ARRAY['a'::character varying])::text[]`.
            Node::Array(items)
                if to.ends_with("[]") && items.iter().all(|i| matches!(i, Node::Literal(_))) =>
            {
                Node::Array(items)
            }
            other => Node::Cast(Box::new(other), to),
        }
    }

    /// `x IN (…)` as PostgreSQL's parser rewrites it: the items that read no column become one
    /// `x = ANY (ARRAY[…])` when there are two or more of them, every other item its own `x = item`,
    /// all joined by OR (`NOT IN`: `<> ALL`, `<>`, AND).
    fn in_list(&mut self, left: &Expr, items: &[Expr], negated: bool) -> Node {
        let (op, quantified, logic) = if negated {
            ("<>", "<> ALL", Logic::And)
        } else {
            ("=", "= ANY", Logic::Or)
        };
        let left = self.node(left);
        let items = self.nodes(items);
        let (constant, reading): (Vec<Node>, Vec<Node>) =
            items.iter().cloned().partition(|i| !i.reads_a_column());
        let mut parts = Vec::new();
        let singles = if constant.len() > 1 {
            parts.push(Node::Infix(
                Box::new(left.clone()),
                quantified.into(),
                Box::new(Node::Array(constant)),
            ));
            reading
        } else {
            items
        };
        for item in singles {
            parts.push(Node::Infix(
                Box::new(left.clone()),
                op.into(),
                Box::new(item),
            ));
        }
        logic_of(logic, parts)
    }

    fn binary(&mut self, left: &Expr, op: &BinaryOperator, right: &Expr) -> Node {
        let logic = match op {
            BinaryOperator::And => Logic::And,
            BinaryOperator::Or => Logic::Or,
            _ => return self.infix(left, &operator(op), right),
        };
        let parts = vec![self.node(left), self.node(right)];
        logic_of(logic, parts)
    }

    fn unary(&mut self, op: &UnaryOperator, operand: &Expr) -> Node {
        let inner = self.node(operand);
        match (op, inner) {
            // PostgreSQL folds a minus before a number literal into the literal.
            (
                UnaryOperator::Minus,
                Node::Literal(Literal {
                    value: Value::Number(n),
                    types,
                    implicit: true,
                }),
            ) if types.len() == 1 => {
                let negated = match n.strip_prefix('-') {
                    Some(positive) => positive.to_string(),
                    None => format!("-{n}"),
                };
                let value = canonical_number(&negated, self.backend).unwrap_or(negated);
                let types = vec![number_type(&value).to_string()];
                Node::Literal(Literal {
                    value: Value::Number(value),
                    types,
                    implicit: true,
                })
            }
            (UnaryOperator::Not, inner) => Node::Prefix("NOT".into(), Box::new(inner)),
            (op, inner) => Node::Prefix(op.to_string(), Box::new(inner)),
        }
    }

    /// A plain call `f(a, b)`; `None` for anything else a call can carry (DISTINCT, ORDER BY,
    /// FILTER, OVER, named arguments, `*`), which is then compared as parsed.
    fn function(&mut self, function: &sql::Function) -> Option<Node> {
        if function.uses_odbc_syntax
            || !matches!(function.parameters, FunctionArguments::None)
            || !function.within_group.is_empty()
            || function.filter.is_some()
            || function.null_treatment.is_some()
            || function.over.is_some()
        {
            return None;
        }
        let mut parts = Vec::new();
        for part in &function.name.0 {
            match part {
                ObjectNamePart::Identifier(ident) => parts.push(self.name(ident)),
                ObjectNamePart::Function(_) => return None,
            }
        }
        if parts.len() > 1 && parts[0] == "pg_catalog" {
            parts.remove(0);
        }
        let name = parts.join(".");
        let args = match &function.args {
            FunctionArguments::None => None,
            FunctionArguments::Subquery(_) => return None,
            FunctionArguments::List(list) => {
                if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
                    return None;
                }
                let mut args = Vec::new();
                for arg in &list.args {
                    match arg {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => args.push(self.node(e)),
                        _ => return None,
                    }
                }
                Some(args)
            }
        };
        Some(Node::Call(name, args))
    }
}

/// AND and OR are associative, so nested ones of the same kind are one list.
fn logic_of(logic: Logic, parts: Vec<Node>) -> Node {
    let mut flat = Vec::new();
    for part in parts {
        match part {
            Node::Logic(inner, items) if inner == logic => flat.extend(items),
            other => flat.push(other),
        }
    }
    if flat.len() == 1 {
        flat.remove(0)
    } else {
        Node::Logic(logic, flat)
    }
}

/// An operator's spelling, with PostgreSQL's synonyms made one (`!=` is `<>`).
fn operator(op: &BinaryOperator) -> String {
    match op {
        BinaryOperator::NotEq => "<>".into(),
        other => other.to_string(),
    }
}

fn opaque(expr: &Expr) -> Node {
    Node::Opaque(Box::new(expr.clone()))
}
