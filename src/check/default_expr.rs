//! Column defaults by meaning: the plan's expected default and the catalog's (`pg_get_expr`)
//! are parsed into small expression trees and compared.
//!
//! White space, keyword case and redundant parentheses do not matter; the text of string
//! literals does. A cast written in the expected default is respected: it must be the cast the
//! catalog shows (after type normalization), while a bare literal (`'{}'`, `'discovery'`, `0`)
//! matches that literal under any cast. Numbers compare as numbers on numeric columns and
//! booleans as booleans on boolean columns. `now()`, `CURRENT_TIMESTAMP` and
//! `transaction_timestamp()` are one function; `nextval('s')` is `nextval('s'::regclass)` and
//! `nextval('public.s'::regclass)` when `s` is that sequence; `ARRAY[]::text[]` is
//! `'{}'::text[]`. A string that looks like a call (`'now()'`) is a string.

use std::fmt;

use super::sqltype::{loose_text, parse_type, quote_ident};

/// A parsed default expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A string literal (its text, unescaped) or a bare number / `true` / `false` / `null`.
    Literal {
        text: String,
        quoted: bool,
    },
    Name(String),
    Call {
        name: String,
        args: Vec<Expr>,
    },
    Array(Vec<Expr>),
    /// `expr::type`, the type in canonical form.
    Cast(Box<Expr>, String),
    /// `left op right`, grouped by precedence: parentheses leave no trace but the grouping.
    Binary(String, Box<Expr>, Box<Expr>),
    /// `-x`, `NOT x`.
    Unary(String, Box<Expr>),
    /// `nextval()`'s sequence, resolved: `(schema if known, name)`.
    SequenceRef(Option<String>, String),
}

/// Why an expected default could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DefaultError(String);

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Str(String),
    Number(String),
    Word(String),
    Quoted(String),
    Op(String),
    Punct(char),
    Cast,
}

fn tokenize(text: &str) -> Result<Vec<Token>, DefaultError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || ((c == 'e' || c == 'E') && chars.get(i + 1) == Some(&'\'')) {
            let escapes = c != '\'';
            i += if escapes { 2 } else { 1 };
            let mut literal = String::new();
            loop {
                match chars.get(i) {
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        literal.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some('\\') if escapes => {
                        if let Some(next) = chars.get(i + 1) {
                            literal.push(match next {
                                'n' => '\n',
                                't' => '\t',
                                'r' => '\r',
                                other => *other,
                            });
                        }
                        i += 2;
                    }
                    Some(other) => {
                        literal.push(*other);
                        i += 1;
                    }
                    None => return Err(DefaultError("a string is not closed".into())),
                }
            }
            tokens.push(Token::Str(literal));
        } else if c == '"' {
            let mut ident = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    Some('"') if chars.get(i + 1) == Some(&'"') => {
                        ident.push('"');
                        i += 2;
                    }
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some(other) => {
                        ident.push(*other);
                        i += 1;
                    }
                    None => return Err(DefaultError("a quoted name is not closed".into())),
                }
            }
            if ident.is_empty() {
                return Err(DefaultError("an empty quoted name".into()));
            }
            // Qualified names are kept as `schema.name`: a dot inside one part would be read
            // as two parts, so it is refused rather than misread.
            if ident.contains('.') {
                return Err(DefaultError(format!(
                    "a quoted name with a dot in it (\"{ident}\") is not supported"
                )));
            }
            tokens.push(Token::Quoted(ident));
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                i += 1;
                if i < chars.len() && (chars[i] == '+' || chars[i] == '-') {
                    i += 1;
                }
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            tokens.push(Token::Number(chars[start..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            tokens.push(Token::Word(word.to_lowercase()));
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push(Token::Cast);
            i += 2;
        } else if "()[],.".contains(c) {
            tokens.push(Token::Punct(c));
            i += 1;
        } else if "+-*/<>=~!@#%^&|`?".contains(c) {
            let start = i;
            while i < chars.len() && "+-*/<>=~!@#%^&|`?".contains(chars[i]) {
                i += 1;
            }
            tokens.push(Token::Op(chars[start..i].iter().collect()));
        } else {
            return Err(DefaultError(format!("unexpected {c:?}")));
        }
    }
    Ok(tokens)
}

/// Words that continue a type name after `::` (`character varying`, `timestamp with time zone`).
const TYPE_CONTINUATIONS: &[&str] = &[
    "varying",
    "precision",
    "with",
    "without",
    "time",
    "zone",
    "to",
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
];

/// Words that are values, not names.
const NOW: &[&str] = &["now", "transaction_timestamp", "current_timestamp"];

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn eat(&mut self, token: &Token) -> bool {
        if self.peek() == Some(token) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), DefaultError> {
        if self.eat(&Token::Punct(c)) {
            Ok(())
        } else {
            Err(DefaultError(format!("expected '{c}'")))
        }
    }

    /// An expression up to a closing bracket, a comma or the end.
    fn expression(&mut self) -> Result<Expr, DefaultError> {
        self.binary(0)
    }

    /// The operator at the cursor with its precedence, if it is one.
    fn operator(&self) -> Option<(String, u8)> {
        let op = match self.peek()? {
            Token::Op(op) => op.clone(),
            Token::Word(word) if precedence(word) > 0 => word.clone(),
            _ => return None,
        };
        Some((op.clone(), precedence(&op)))
    }

    /// Precedence climbing, left-associative, with PostgreSQL's order of operators.
    fn binary(&mut self, min: u8) -> Result<Expr, DefaultError> {
        let mut left = self.term()?;
        while let Some((op, prec)) = self.operator() {
            if prec < min {
                break;
            }
            self.at += 1;
            let right = self.binary(prec + 1)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        match self.peek() {
            None | Some(Token::Punct(')' | ',' | ']')) => Ok(left),
            Some(_) if min > 0 => Ok(left),
            Some(other) => Err(DefaultError(format!("unexpected {}", describe(other)))),
        }
    }

    fn term(&mut self) -> Result<Expr, DefaultError> {
        let mut term = match self.next() {
            // A sign belongs to the number: PostgreSQL prints `'-1'::integer` and `(- 1)`.
            Some(Token::Op(op)) if op == "-" || op == "+" => {
                let operand = self.term()?;
                match operand {
                    Expr::Literal {
                        text,
                        quoted: false,
                    } if op == "-" && !text.starts_with('-') => Expr::Literal {
                        text: format!("-{text}"),
                        quoted: false,
                    },
                    Expr::Literal { quoted: false, .. } if op == "+" => operand,
                    other => Expr::Unary(op, Box::new(other)),
                }
            }
            Some(Token::Word(word)) if word == "not" => {
                Expr::Unary(word, Box::new(self.binary(precedence("not"))?))
            }
            Some(Token::Punct('(')) => {
                // The tree keeps the grouping; the parentheses themselves mean nothing more.
                let inner = self.expression()?;
                self.expect(')')?;
                inner
            }
            Some(Token::Str(text)) => Expr::Literal { text, quoted: true },
            Some(Token::Number(text)) => Expr::Literal {
                text,
                quoted: false,
            },
            Some(Token::Word(word)) if word == "array" && self.eat(&Token::Punct('[')) => {
                let items = self.list(']')?;
                Expr::Array(items)
            }
            Some(Token::Word(word)) if word == "cast" && self.eat(&Token::Punct('(')) => {
                let inner = self.expression()?;
                if !self.eat(&Token::Word("as".into())) {
                    return Err(DefaultError("expected AS in CAST".into()));
                }
                let data_type = self.type_name()?;
                self.expect(')')?;
                Expr::Cast(Box::new(inner), data_type)
            }
            Some(Token::Word(word)) if matches!(word.as_str(), "true" | "false" | "null") => {
                Expr::Literal {
                    text: word,
                    quoted: false,
                }
            }
            Some(Token::Word(word)) => self.name_or_call(word)?,
            Some(Token::Quoted(name)) => self.name_or_call(name)?,
            Some(other) => return Err(DefaultError(format!("unexpected {}", describe(&other)))),
            None => return Err(DefaultError("the default ends too early".into())),
        };
        while self.eat(&Token::Cast) {
            term = Expr::Cast(Box::new(term), self.type_name()?);
        }
        Ok(term)
    }

    fn name_or_call(&mut self, first: String) -> Result<Expr, DefaultError> {
        let mut name = first;
        while self.eat(&Token::Punct('.')) {
            match self.next() {
                Some(Token::Word(part) | Token::Quoted(part)) => {
                    // Built-in functions are the same with or without their schema.
                    name = if name == "pg_catalog" {
                        part
                    } else {
                        format!("{name}.{part}")
                    };
                }
                _ => return Err(DefaultError("expected a name after '.'".into())),
            }
        }
        if self.eat(&Token::Punct('(')) {
            let args = self.list(')')?;
            return Ok(call(name, args));
        }
        Ok(if name == "current_timestamp" {
            call("now".into(), Vec::new())
        } else {
            Expr::Name(name)
        })
    }

    fn list(&mut self, close: char) -> Result<Vec<Expr>, DefaultError> {
        let mut items = Vec::new();
        if self.eat(&Token::Punct(close)) {
            return Ok(items);
        }
        loop {
            items.push(self.expression()?);
            if self.eat(&Token::Punct(close)) {
                return Ok(items);
            }
            self.expect(',')?;
        }
    }

    /// The type after `::` or `AS`, in canonical form.
    fn type_name(&mut self) -> Result<String, DefaultError> {
        let mut text = String::new();
        let mut words = 0;
        loop {
            match self.peek().cloned() {
                Some(Token::Word(word))
                    if words == 0 || TYPE_CONTINUATIONS.contains(&word.as_str()) =>
                {
                    self.at += 1;
                    words += 1;
                    if !text.is_empty() && !text.ends_with('.') {
                        text.push(' ');
                    }
                    text.push_str(&word);
                }
                Some(Token::Quoted(name)) if words == 0 || text.ends_with('.') => {
                    self.at += 1;
                    words += 1;
                    text.push_str(&format!("\"{}\"", name.replace('"', "\"\"")));
                }
                Some(Token::Punct('.')) if words > 0 => {
                    self.at += 1;
                    text.push('.');
                }
                Some(Token::Punct('(')) if words > 0 => {
                    self.at += 1;
                    text.push('(');
                    loop {
                        match self.next() {
                            Some(Token::Punct(')')) => break,
                            Some(Token::Number(n) | Token::Word(n)) => text.push_str(&n),
                            Some(Token::Punct(',')) => text.push(','),
                            _ => return Err(DefaultError("bad type modifier".into())),
                        }
                    }
                    text.push(')');
                }
                Some(Token::Punct('[')) if words > 0 => {
                    self.at += 1;
                    if let Some(Token::Number(_)) = self.peek() {
                        self.at += 1;
                    }
                    self.expect(']')?;
                    text.push_str("[]");
                }
                _ => break,
            }
        }
        if text.is_empty() {
            return Err(DefaultError("expected a type after '::'".into()));
        }
        Ok(parse_type(&text)
            .map(|t| t.to_string())
            .unwrap_or_else(|_| loose_text(&text)))
    }
}

/// PostgreSQL's operator precedence, lowest first; 0 for a word that is no operator.
fn precedence(op: &str) -> u8 {
    match op {
        "or" => 1,
        "and" => 2,
        "not" => 3,
        "is" => 4,
        "=" | "<" | ">" | "<=" | ">=" | "<>" | "!=" => 5,
        "like" | "ilike" | "in" | "between" | "similar" => 6,
        "+" | "-" => 8,
        "*" | "/" | "%" => 9,
        "^" => 10,
        _ if op.chars().all(|c| "+-*/<>=~!@#%^&|`?".contains(c)) => 7,
        _ => 0,
    }
}

fn call(name: String, args: Vec<Expr>) -> Expr {
    if NOW.contains(&name.as_str()) && args.is_empty() {
        return Expr::Call {
            name: "now".into(),
            args,
        };
    }
    Expr::Call { name, args }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Str(s) => format!("'{s}'"),
        Token::Number(n) => n.clone(),
        Token::Word(w) => w.clone(),
        Token::Quoted(q) => format!("\"{q}\""),
        Token::Op(op) => op.clone(),
        Token::Punct(c) => format!("'{c}'"),
        Token::Cast => "'::'".into(),
    }
}

/// Parses a default. `resolve` says which schema an unqualified sequence name resolves to, so
/// that `nextval('s')` and `nextval('public.s')` can be the same sequence.
pub fn parse_default(
    text: &str,
    resolve: &dyn Fn(Option<&str>, &str) -> Option<String>,
) -> Result<Expr, DefaultError> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err(DefaultError("the default is empty".into()));
    }
    let mut parser = Parser { tokens, at: 0 };
    let expr = parser.expression()?;
    if let Some(token) = parser.peek() {
        return Err(DefaultError(format!("unexpected {}", describe(token))));
    }
    Ok(normalize(expr, resolve))
}

/// The equivalences: an empty `ARRAY[]` is `'{}'`, `nextval`'s argument is the sequence it
/// names.
fn normalize(expr: Expr, resolve: &dyn Fn(Option<&str>, &str) -> Option<String>) -> Expr {
    match expr {
        Expr::Cast(inner, data_type) => match *inner {
            Expr::Array(items) if items.is_empty() => Expr::Cast(
                Box::new(Expr::Literal {
                    text: "{}".into(),
                    quoted: true,
                }),
                data_type,
            ),
            // PostgreSQL stores `ARRAY['a', 'b']::text[]` as `ARRAY['a'::text, 'b'::text]`.
            Expr::Array(items) if data_type.ends_with("[]") => {
                let element = data_type.trim_end_matches("[]").to_string();
                Expr::Array(
                    items
                        .into_iter()
                        .map(|item| match normalize(item, resolve) {
                            Expr::Cast(inner, t) if t == element => Expr::Cast(inner, t),
                            other => Expr::Cast(Box::new(other), element.clone()),
                        })
                        .collect(),
                )
            }
            inner => match normalize(inner, resolve) {
                // `x::t::t` is `x::t`.
                Expr::Cast(inner, t) if t == data_type => Expr::Cast(inner, t),
                inner => Expr::Cast(Box::new(inner), data_type),
            },
        },
        Expr::Call { name, args } if name == "nextval" && args.len() == 1 => {
            match sequence_name(&args[0]) {
                Some((schema, sequence)) => {
                    let schema = resolve(schema.as_deref(), &sequence).or(schema);
                    Expr::Call {
                        name,
                        args: vec![Expr::SequenceRef(schema, sequence)],
                    }
                }
                None => Expr::Call {
                    name,
                    args: args.into_iter().map(|a| normalize(a, resolve)).collect(),
                },
            }
        }
        Expr::Call { name, args } => Expr::Call {
            name,
            args: args.into_iter().map(|a| normalize(a, resolve)).collect(),
        },
        Expr::Array(items) => {
            Expr::Array(items.into_iter().map(|a| normalize(a, resolve)).collect())
        }
        Expr::Binary(op, left, right) => Expr::Binary(
            op,
            Box::new(normalize(*left, resolve)),
            Box::new(normalize(*right, resolve)),
        ),
        Expr::Unary(op, operand) => Expr::Unary(op, Box::new(normalize(*operand, resolve))),
        other => other,
    }
}

/// `'public.s'`, `'s'::regclass`, `'"MySeq"'::text`: the sequence a `nextval` call names.
fn sequence_name(arg: &Expr) -> Option<(Option<String>, String)> {
    let literal = match arg {
        Expr::Cast(inner, _) => inner.as_ref(),
        other => other,
    };
    let Expr::Literal { text, quoted: true } = literal else {
        return None;
    };
    let parts = split_qualified(text)?;
    match parts.as_slice() {
        [name] => Some((None, name.clone())),
        [schema, name] => Some((Some(schema.clone()), name.clone())),
        _ => None,
    }
}

/// `schema.name` as PostgreSQL reads a regclass: unquoted parts fold to lower case.
fn split_qualified(text: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = text.trim().chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                current.push('"');
            }
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut current)),
            c if quoted => current.push(c),
            c => current.extend(c.to_lowercase()),
        }
    }
    parts.push(current);
    (!quoted && parts.iter().all(|p| !p.is_empty())).then_some(parts)
}

/// What kind of value a column holds, for comparing literals by value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Number,
    Boolean,
    /// `jsonb`, which keeps a value, not its text: `'{"a":1}'` is stored as `{"a": 1}`.
    Jsonb,
    Other,
}

impl ValueKind {
    /// From a column type as the catalog spells it.
    pub fn of_type(data_type: &str) -> ValueKind {
        let Ok(parsed) = parse_type(data_type) else {
            return ValueKind::Other;
        };
        if parsed.array || parsed.schema.is_some() {
            return ValueKind::Other;
        }
        match parsed.name.as_str() {
            "smallint" | "integer" | "bigint" | "numeric" | "real" | "double precision" => {
                ValueKind::Number
            }
            "boolean" => ValueKind::Boolean,
            "jsonb" => ValueKind::Jsonb,
            _ => ValueKind::Other,
        }
    }
}

/// Whether the expected default means the actual one on a column of type `column_type` (as the
/// catalog spells it).
pub fn same_default(expected: &Expr, actual: &Expr, column_type: &str) -> bool {
    let kind = ValueKind::of_type(column_type);
    let (Some(e), Some(a)) = (typed_literal(expected), typed_literal(actual)) else {
        return matches(expected, actual);
    };
    // On a column of numbers, booleans or jsonb the value is what is stored, however it is
    // labelled: `5`, `'5'::bigint` and `(5)::bigint` are one default on a bigint column.
    match kind {
        ValueKind::Number
            if e.types
                .iter()
                .all(|t| ValueKind::of_type(t) == ValueKind::Number) =>
        {
            if let (Some(ev), Some(av)) = (number(e.text), number(a.text)) {
                return ev == av;
            }
        }
        // A bare `1` is an integer, which PostgreSQL will not assign to a boolean.
        ValueKind::Boolean
            if e.types.iter().all(|t| t == "boolean")
                && (e.quoted || e.types.first().is_some_and(|t| t == "boolean")) =>
        {
            if let (Some(ev), Some(av)) = (boolean(e.text), boolean(a.text)) {
                return ev == av;
            }
        }
        ValueKind::Jsonb
            if e.quoted
                && e.types.iter().all(|t| t == "jsonb")
                && a.types.iter().all(|t| t == "jsonb") =>
        {
            if let (Ok(ev), Ok(av)) = (
                serde_json::from_str::<serde_json::Value>(e.text),
                serde_json::from_str::<serde_json::Value>(a.text),
            ) {
                return ev == av;
            }
        }
        _ => {}
    }
    match (e.types.first(), a.types.first()) {
        // A bare string matches that string under any cast.
        // `NULL` is no string: only an unquoted NULL (under any cast) is NULL.
        (None, _) if !e.quoted => !a.quoted && e.text == a.text,
        (None, _) => a.quoted && e.text == a.text,
        // SQLite keeps a default as written, without the cast PostgreSQL would add: a cast to
        // the column's own type is what that cast would have been.
        (Some(cast), None) => {
            a.quoted && e.quoted && e.text == a.text && same_type_name(cast, column_type)
        }
        // Typed on both sides: the same type and the same value of it.
        (Some(_), Some(_)) => {
            e.types.first() == a.types.first()
                && match (number(e.text), number(a.text)) {
                    (Some(ev), Some(av)) if e.types.first().is_some_and(|t| is_number_type(t)) => {
                        ev == av
                    }
                    _ if e.types.first().is_some_and(|t| t == "boolean") => {
                        boolean(e.text).is_some() && boolean(e.text) == boolean(a.text)
                    }
                    _ => e.text == a.text,
                }
        }
    }
}

/// A literal with the types PostgreSQL gives it, outermost first: a cast's type, else
/// `integer` or `numeric` for a bare number and `boolean` for `true`/`false`; a quoted string
/// without a cast has no type yet.
struct TypedLiteral<'a> {
    text: &'a str,
    quoted: bool,
    types: Vec<String>,
}

fn typed_literal(expr: &Expr) -> Option<TypedLiteral<'_>> {
    let mut types: Vec<String> = Vec::new();
    let mut at = expr;
    while let Expr::Cast(inner, data_type) = at {
        // `x::t::t` is `x::t`.
        if types.last() != Some(data_type) {
            types.push(data_type.clone());
        }
        at = inner;
    }
    let Expr::Literal { text, quoted } = at else {
        return None;
    };
    if !quoted {
        let own = match text.as_str() {
            "true" | "false" => Some("boolean"),
            "null" => None,
            t if t.contains(['.', 'e', 'E']) => Some("numeric"),
            t if t.parse::<i32>().is_ok() => Some("integer"),
            t if t.parse::<i64>().is_ok() => Some("bigint"),
            _ => Some("numeric"),
        };
        if let Some(own) = own
            && types.last().map(String::as_str) != Some(own)
        {
            types.push(own.to_string());
        }
    }
    Some(TypedLiteral {
        text,
        quoted: *quoted,
        types,
    })
}

fn is_number_type(name: &str) -> bool {
    ValueKind::of_type(name) == ValueKind::Number
}

/// The same type, modifiers aside: `'x'::varchar` on a `varchar(50)` column.
fn same_type_name(cast: &str, column_type: &str) -> bool {
    match (parse_type(cast), parse_type(column_type)) {
        (Ok(cast), Ok(column)) => cast.name == column.name && cast.array == column.array,
        _ => false,
    }
}

/// A number as written, without a sign of `+` or leading zeros: `5.0` stays `5.0` (numeric keeps
/// its scale), `007` is `7`.
fn number(text: &str) -> Option<String> {
    let text = text.trim();
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty() || digits.parse::<f64>().is_err() || digits.contains(['e', 'E']) {
        return None;
    }
    let trimmed = digits.trim_start_matches('0');
    let trimmed = if trimmed.is_empty() || trimmed.starts_with('.') {
        format!("0{trimmed}")
    } else {
        trimmed.to_string()
    };
    let sign = if trimmed.chars().all(|c| c == '0' || c == '.') {
        ""
    } else {
        sign
    };
    Some(format!("{sign}{trimmed}"))
}

/// PostgreSQL's boolean input: `t`, `true`, `yes`, `on`, `1` and their unique prefixes.
fn boolean(text: &str) -> Option<bool> {
    let text = text.trim().to_ascii_lowercase();
    if text.is_empty() {
        return None;
    }
    let prefix_of = |word: &str, min: usize| text.len() >= min && word.starts_with(&text);
    if prefix_of("true", 1) || prefix_of("yes", 1) || prefix_of("on", 2) || text == "1" {
        Some(true)
    } else if prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2) || text == "0" {
        Some(false)
    } else {
        None
    }
}

/// Structural equality, where a bare literal in the expected default matches the same literal
/// under any cast in the actual one.
fn matches(expected: &Expr, actual: &Expr) -> bool {
    match (expected, actual) {
        (Expr::Literal { .. }, Expr::Cast(inner, _)) => matches(expected, inner),
        (
            Expr::Literal {
                text: e,
                quoted: eq,
            },
            Expr::Literal {
                text: a,
                quoted: aq,
            },
        ) => e == a && (eq == aq || (number(e).is_some() && number(e) == number(a))),
        (Expr::Cast(e, et), Expr::Cast(a, at)) => et == at && matches(e, a),
        (Expr::Name(e), Expr::Name(a)) => e == a,
        (Expr::Call { name: en, args: ea }, Expr::Call { name: an, args: aa }) => {
            en == an && ea.len() == aa.len() && ea.iter().zip(aa).all(|(e, a)| matches(e, a))
        }
        (Expr::Array(e), Expr::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(e, a)| matches(e, a))
        }
        (Expr::Binary(eo, el, er), Expr::Binary(ao, al, ar)) => {
            eo == ao && matches(el, al) && matches(er, ar)
        }
        (Expr::Unary(eo, e), Expr::Unary(ao, a)) => eo == ao && matches(e, a),
        (Expr::SequenceRef(es, en), Expr::SequenceRef(as_, an)) => es == as_ && en == an,
        _ => false,
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Literal { text, quoted: true } => write!(f, "'{}'", text.replace('\'', "''")),
            Expr::Literal { text, .. } => f.write_str(text),
            Expr::Name(name) => f.write_str(&ident(name)),
            Expr::Call { name, args } => {
                write!(f, "{}(", ident(name))?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                f.write_str(")")
            }
            Expr::Array(items) => {
                f.write_str("ARRAY[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Expr::Cast(inner, data_type)
                if matches!(**inner, Expr::Binary(..) | Expr::Unary(..)) =>
            {
                write!(f, "({inner})::{data_type}")
            }
            Expr::Cast(inner, data_type) => write!(f, "{inner}::{data_type}"),
            Expr::Binary(op, left, right) => write!(f, "({left} {op} {right})"),
            Expr::Unary(op, operand) if op.chars().all(char::is_alphabetic) => {
                write!(f, "({op} {operand})")
            }
            Expr::Unary(op, operand) => {
                // `-` before an operand printed with a leading `-` would make `--`, a comment.
                let operand = operand.to_string();
                if operand.starts_with(['-', '+', '/', '*']) {
                    write!(f, "({op} {operand})")
                } else {
                    write!(f, "({op}{operand})")
                }
            }
            Expr::SequenceRef(schema, name) => {
                let name = regclass_part(name);
                match schema {
                    Some(schema) => write!(f, "'{}.{name}'::regclass", regclass_part(schema)),
                    None => write!(f, "'{name}'::regclass"),
                }
            }
        }
    }
}

/// A (possibly qualified) name, each part quoted when it would not read back as itself.
fn ident(name: &str) -> String {
    name.split('.')
        .map(quote_ident)
        .collect::<Vec<_>>()
        .join(".")
}

/// A part of a regclass literal: a name inside a string, so its quotes are doubled too.
fn regclass_part(part: &str) -> String {
    quote_ident(part).replace('\'', "''")
}

/// The sequences `nextval()` calls in `text` name, for the catalog snapshot to resolve.
pub fn sequences_named(text: &str) -> Vec<String> {
    fn walk(expr: &Expr, out: &mut Vec<String>) {
        match expr {
            Expr::Call { args, .. } | Expr::Array(args) => args.iter().for_each(|a| walk(a, out)),
            Expr::Binary(_, left, right) => {
                walk(left, out);
                walk(right, out);
            }
            Expr::Cast(inner, _) | Expr::Unary(_, inner) => walk(inner, out),
            Expr::SequenceRef(_, name) => out.push(name.clone()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(expr) = parse_default(text, &|_, _| None) {
        walk(&expr, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Expr {
        parse_default(text, &|schema, name| match (schema, name) {
            (None, "users_id_seq") => Some("public".into()),
            (Some(s), _) => Some(s.to_string()),
            _ => None,
        })
        .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn same(expected: &str, actual: &str, column_type: &str) -> bool {
        same_default(&parsed(expected), &parsed(actual), column_type)
    }

    #[test]
    fn defaults_that_mean_the_same() {
        for (expected, actual, column_type) in [
            (
                "'discovery'",
                "'discovery'::character varying",
                "character varying(50)",
            ),
            ("'{}'", "'{}'::jsonb", "jsonb"),
            ("'{}'::JSONB", "'{}'::jsonb", "jsonb"),
            ("'{}'", "'{}'::text[]", "text[]"),
            ("ARRAY[]::text[]", "'{}'::text[]", "text[]"),
            ("now()", "CURRENT_TIMESTAMP", "timestamp with time zone"),
            (
                "transaction_timestamp()",
                "now()",
                "timestamp with time zone",
            ),
            ("NOW()", "now()", "timestamp with time zone"),
            ("0", "0", "integer"),
            ("'0'::integer", "0", "bigint"),
            ("5", "'5'::bigint", "bigint"),
            ("'5'", "'5'::numeric", "numeric"),
            ("false", "false", "boolean"),
            ("'f'", "false", "boolean"),
            ("'yes'::boolean", "true", "boolean"),
            ("(1+2)", "(1 + 2)", "integer"),
            ("1 + 2 * 3", "(1 + (2 * 3))", "integer"),
            ("(1 + 2) * 3", "((1 + 2) * 3)", "integer"),
            ("((now()))", "now()", "timestamp with time zone"),
            (
                "nextval('users_id_seq')",
                "nextval('users_id_seq'::regclass)",
                "integer",
            ),
            (
                "nextval('public.users_id_seq'::regclass)",
                "nextval('users_id_seq'::regclass)",
                "integer",
            ),
            ("'x'::varchar", "'x'::character varying", "text"),
            ("-1", "'-1'::integer", "integer"),
            ("(-1)", "'-1'::integer", "integer"),
            ("gen_random_uuid()", "gen_random_uuid()", "uuid"),
            ("pg_catalog.now()", "now()", "timestamp with time zone"),
            ("'discovery'::varchar", "'discovery'", "VARCHAR(50)"),
            (
                "'{\"b\":1,\"a\":[1, 2]}'",
                "'{\"a\": [1, 2], \"b\": 1}'::jsonb",
                "jsonb",
            ),
        ] {
            assert!(
                same(expected, actual, column_type),
                "{expected} ≡ {actual} on {column_type}"
            );
        }
    }

    #[test]
    fn defaults_that_differ() {
        for (expected, actual, column_type) in [
            ("'{}'::jsonb", "'{}'::text[]", "text[]"),
            (
                "'x'::integer",
                "'x'::character varying",
                "character varying",
            ),
            ("'1 day'::date", "'1 day'::interval", "interval"),
            (
                "'Discovery'",
                "'discovery'::character varying",
                "character varying",
            ),
            ("'{}'", "'[]'::jsonb", "jsonb"),
            ("'now()'", "now()", "timestamp with time zone"),
            ("now()", "(now())::date", "date"),
            ("1", "2", "integer"),
            ("5.0", "5", "numeric"),
            (
                "nextval('other_seq')",
                "nextval('users_id_seq'::regclass)",
                "integer",
            ),
            (
                "nextval('legacy.users_id_seq')",
                "nextval('users_id_seq'::regclass)",
                "integer",
            ),
            ("(1 + 2) * 3", "1 + 2 * 3", "integer"),
            ("1 + 2 + 3", "1 + (2 + 3)", "integer"),
            ("'x'::text", "'x'::character varying", "character varying"),
            ("statement_timestamp()", "now()", "timestamp with time zone"),
            ("'t'", "false", "boolean"),
            ("'x'::text", "'x'", "character varying(5)"),
            ("NULL", "'null'::jsonb", "jsonb"),
            ("null", "'null'::text", "text"),
            ("1", "true", "boolean"),
            ("'{\"a\":1}'", "'{\"a\": 1}'::json", "json"),
            ("'{\"a\":1.0}'", "'{\"a\": 1}'::jsonb", "jsonb"),
        ] {
            assert!(
                !same(expected, actual, column_type),
                "{expected} ≢ {actual} on {column_type}"
            );
        }
    }

    #[test]
    fn nonsense_is_an_error_not_a_guess() {
        for text in ["'open", "now(", "1 +", "", "a b", "\".\"", "\"a.b\"()"] {
            assert!(parse_default(text, &|_, _| None).is_err(), "{text:?}");
        }
    }
}
