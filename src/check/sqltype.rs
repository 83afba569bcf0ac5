//! Column types by meaning: the plan's spelling and the catalog's are parsed into the form
//! PostgreSQL's `format_type` prints (`varchar(50)` → `character varying(50)`, `float(24)` →
//! `real`, `int ARRAY` → `integer[]`), then compared. A spelling that cannot be understood is an
//! error the check reports, never a guess.

use std::fmt;

/// A type as `format_type` would print it, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlType {
    /// The schema written before the name; `format_type` writes one only for a type that is not
    /// visible on the search path.
    pub schema: Option<String>,
    /// The name as `format_type` prints it: `integer`, `character varying`, `"char"`, `my_enum`.
    pub name: String,
    /// The modifier as `format_type` prints it: `(50)`, `(10,2)`; for `interval` its fields too
    /// (` day to second(3)`).
    pub modifier: Option<String>,
    /// PostgreSQL has one array type per element type, whatever the dimensions written.
    pub array: bool,
    /// Written `serial`, `bigserial` or `smallserial`: an integer filled from a sequence.
    pub serial: bool,
}

/// Why a type spelling could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TypeError(String);

fn err<T>(message: impl Into<String>) -> Result<T, TypeError> {
    Err(TypeError(message.into()))
}

impl fmt::Display for SqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{}.", quote_ident(schema))?;
        }
        let modifier = self.modifier.as_deref().unwrap_or("");
        match self.name.split_once(' ') {
            // `timestamp(3) with time zone`: the precision follows the first word.
            Some((first @ ("time" | "timestamp"), rest)) => write!(f, "{first}{modifier} {rest}")?,
            _ if self.schema.is_none() && is_keyword_name(&self.name) => {
                write!(f, "{}{modifier}", self.name)?
            }
            // `"char"` is kept with its quotes: they are part of how the catalog names it.
            _ if self.name.starts_with('"') => write!(f, "{}{modifier}", self.name)?,
            _ => write!(f, "{}{modifier}", quote_ident(&self.name))?,
        }
        if self.array {
            f.write_str("[]")?;
        }
        Ok(())
    }
}

/// Names `format_type` prints bare although they are not plain identifiers: the SQL keyword
/// types of more than one word. A user type whose name has a space is quoted like any other.
fn is_keyword_name(name: &str) -> bool {
    matches!(
        name,
        "double precision"
            | "character varying"
            | "bit varying"
            | "time with time zone"
            | "time without time zone"
            | "timestamp with time zone"
            | "timestamp without time zone"
    )
}

/// `name`, quoted when an unquoted spelling would mean something else (PostgreSQL folds
/// unquoted names to lower case). Shared with the default parser, which prints names too.
pub(crate) fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// An unquoted word, lower-cased as PostgreSQL folds it.
    Word(String),
    /// A quoted identifier, exactly.
    Quoted(String),
    Number(String),
    Punct(char),
}

fn tokenize(text: &str) -> Result<Vec<Token>, TypeError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut ident = String::new();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        ident.push('"');
                    }
                    Some('"') => break,
                    Some(other) => ident.push(other),
                    None => return err("a quoted name is not closed"),
                }
            }
            if ident.is_empty() {
                return err("an empty quoted name");
            }
            tokens.push(Token::Quoted(ident));
        } else if c.is_ascii_digit() || c == '-' || c == '+' {
            let mut number = String::new();
            number.push(c);
            chars.next();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                number.push(d);
                chars.next();
            }
            if number.parse::<i64>().is_err() {
                return err(format!("{number:?} is not a whole number"));
            }
            tokens.push(Token::Number(number));
        } else if c.is_alphabetic() || c == '_' {
            let mut word = String::new();
            while let Some(&w) = chars
                .peek()
                .filter(|w| w.is_alphanumeric() || **w == '_' || **w == '$')
            {
                word.extend(w.to_lowercase());
                chars.next();
            }
            tokens.push(Token::Word(word));
        } else if "()[],.".contains(c) {
            tokens.push(Token::Punct(c));
            chars.next();
        } else {
            return err(format!("unexpected {c:?}"));
        }
    }
    Ok(tokens)
}

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

    fn eat_word(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Word(w)) if w == word) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn eat_punct(&mut self, c: char) -> bool {
        if self.peek() == Some(&Token::Punct(c)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect_word(&mut self, word: &str, after: &str) -> Result<(), TypeError> {
        if self.eat_word(word) {
            Ok(())
        } else {
            err(format!("expected {word:?} after {after:?}"))
        }
    }

    fn number(&mut self) -> Result<i64, TypeError> {
        match self.next() {
            Some(Token::Number(n)) => n
                .parse()
                .map_err(|_| TypeError(format!("{n} is out of range"))),
            _ => err("expected a number"),
        }
    }

    /// `(n[, m …])` of whole numbers, if present.
    fn numbers(&mut self) -> Result<Option<Vec<i64>>, TypeError> {
        if !self.eat_punct('(') {
            return Ok(None);
        }
        let mut numbers = vec![self.number()?];
        while self.eat_punct(',') {
            numbers.push(self.number()?);
        }
        if !self.eat_punct(')') {
            return err("expected ')'");
        }
        Ok(Some(numbers))
    }

    /// A modifier list of an extension's type, kept as written: `(Point,4326)`.
    fn generic_modifier(&mut self) -> Result<Option<String>, TypeError> {
        if !self.eat_punct('(') {
            return Ok(None);
        }
        let mut parts = Vec::new();
        loop {
            match self.next() {
                Some(Token::Number(n)) => parts.push(n),
                Some(Token::Word(w)) => parts.push(w),
                Some(Token::Quoted(q)) => parts.push(q),
                _ => return err("expected a type modifier"),
            }
            if self.eat_punct(')') {
                break;
            }
            if !self.eat_punct(',') {
                return err("expected ',' or ')' in a type modifier");
            }
        }
        Ok(Some(format!("({})", parts.join(","))))
    }

    fn ident(&mut self) -> Result<Token, TypeError> {
        match self.next() {
            Some(token @ (Token::Word(_) | Token::Quoted(_))) => Ok(token),
            _ => err("expected a type name after '.'"),
        }
    }
}

fn one_number(numbers: Option<Vec<i64>>, name: &str) -> Result<Option<i64>, TypeError> {
    match numbers.as_deref() {
        None => Ok(None),
        Some([n]) => Ok(Some(*n)),
        Some(_) => err(format!("{name} takes one modifier")),
    }
}

fn length(numbers: Option<Vec<i64>>, name: &str) -> Result<Option<String>, TypeError> {
    match one_number(numbers, name)? {
        None => Ok(None),
        Some(n) if (1..=10_485_760).contains(&n) => Ok(Some(format!("({n})"))),
        Some(n) => err(format!("length {n} for type {name} is out of range")),
    }
}

/// Seconds' precision: PostgreSQL lowers anything above 6 to 6 (with a warning).
fn precision(numbers: Option<Vec<i64>>, name: &str) -> Result<Option<String>, TypeError> {
    match one_number(numbers, name)? {
        None => Ok(None),
        Some(n) if n < 0 => err(format!("precision {n} for type {name} is negative")),
        Some(n) => Ok(Some(format!("({})", n.min(6)))),
    }
}

fn builtin(name: &str, modifier: Option<String>) -> SqlType {
    SqlType {
        schema: None,
        name: name.into(),
        modifier,
        array: false,
        serial: false,
    }
}

/// Parses a type as a plan or the catalog spells it.
pub fn parse_type(text: &str) -> Result<SqlType, TypeError> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return err("the type is empty");
    }
    let mut parser = Parser { tokens, at: 0 };
    let mut parsed = base_type(&mut parser)?;
    let element_is_array = parsed.array;
    let mut suffixed = false;
    loop {
        if parser.eat_punct('[') {
            if matches!(parser.peek(), Some(Token::Number(_))) {
                parser.number()?;
            }
            if !parser.eat_punct(']') {
                return err("expected ']'");
            }
            parsed.array = true;
            suffixed = true;
        } else if parser.eat_word("array") {
            if parser.eat_punct('[') {
                parser.number()?;
                if !parser.eat_punct(']') {
                    return err("expected ']'");
                }
            }
            parsed.array = true;
            suffixed = true;
        } else {
            break;
        }
    }
    if element_is_array && suffixed {
        // `_int4[]`: an array type has no array type of its own.
        return err(format!("there is no array type of {parsed}"));
    }
    match parser.peek() {
        None => Ok(parsed),
        Some(token) => err(format!("unexpected {} after the type", describe(token))),
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Word(w) => format!("{w:?}"),
        Token::Quoted(q) => format!("\"{q}\""),
        Token::Number(n) => n.clone(),
        Token::Punct(c) => format!("'{c}'"),
    }
}

fn base_type(p: &mut Parser) -> Result<SqlType, TypeError> {
    let first = p
        .next()
        .ok_or_else(|| TypeError("the type is empty".into()))?;
    if p.eat_punct('.') {
        let schema = match first {
            Token::Word(w) | Token::Quoted(w) => w,
            other => return err(format!("unexpected {}", describe(&other))),
        };
        let name = p.ident()?;
        let modifier = p.generic_modifier()?;
        return qualified(schema, name, modifier);
    }
    let word = match first {
        Token::Word(word) => word,
        Token::Quoted(name) => {
            let modifier = p.generic_modifier()?;
            return by_type_name(None, &name, modifier, true);
        }
        other => return err(format!("unexpected {}", describe(&other))),
    };
    let simple = |name: &str, p: &mut Parser| -> Result<SqlType, TypeError> {
        if p.peek() == Some(&Token::Punct('(')) {
            return err(format!("type {name} takes no modifier"));
        }
        Ok(builtin(name, None))
    };
    match word.as_str() {
        "double" => {
            p.expect_word("precision", "double")?;
            simple("double precision", p)
        }
        "national" => {
            if !(p.eat_word("character") || p.eat_word("char")) {
                return err("expected \"character\" after \"national\"");
            }
            character(p)
        }
        "character" | "char" | "nchar" => character(p),
        "varchar" => Ok(builtin(
            "character varying",
            length(p.numbers()?, "varchar")?,
        )),
        "bit" => {
            let varying = p.eat_word("varying");
            let modifier = length(p.numbers()?, "bit")?;
            Ok(if varying {
                builtin("bit varying", modifier)
            } else {
                builtin("bit", modifier.or(Some("(1)".into())))
            })
        }
        "varbit" => Ok(builtin("bit varying", length(p.numbers()?, "varbit")?)),
        "time" | "timestamp" => {
            let modifier = precision(p.numbers()?, &word)?;
            let zone = if p.eat_word("with") {
                p.expect_word("time", "with")?;
                p.expect_word("zone", "time")?;
                "with time zone"
            } else {
                if p.eat_word("without") {
                    p.expect_word("time", "without")?;
                    p.expect_word("zone", "time")?;
                }
                "without time zone"
            };
            Ok(builtin(&format!("{word} {zone}"), modifier))
        }
        "timetz" | "timestamptz" => {
            let modifier = precision(p.numbers()?, &word)?;
            let base = word.trim_end_matches("tz");
            Ok(builtin(&format!("{base} with time zone"), modifier))
        }
        "interval" => interval(p),
        "float" => match one_number(p.numbers()?, "float")? {
            None => Ok(builtin("double precision", None)),
            Some(1..=24) => Ok(builtin("real", None)),
            Some(25..=53) => Ok(builtin("double precision", None)),
            Some(n) => err(format!(
                "precision {n} for type float is out of range (1 to 53)"
            )),
        },
        "dec" | "decimal" | "numeric" => numeric(p),
        "int" | "integer" => simple("integer", p),
        "smallint" => simple("smallint", p),
        "bigint" => simple("bigint", p),
        "real" => simple("real", p),
        "boolean" => simple("boolean", p),
        "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2" => {
            let name = match word.as_str() {
                "serial" | "serial4" => "integer",
                "bigserial" | "serial8" => "bigint",
                _ => "smallint",
            };
            let mut parsed = simple(name, p)?;
            parsed.serial = true;
            Ok(parsed)
        }
        _ => {
            let modifier = p.generic_modifier()?;
            by_type_name(None, &word, modifier, false)
        }
    }
}

fn character(p: &mut Parser) -> Result<SqlType, TypeError> {
    if p.eat_word("varying") {
        return Ok(builtin(
            "character varying",
            length(p.numbers()?, "character varying")?,
        ));
    }
    // `char` alone is `char(1)`.
    let modifier = length(p.numbers()?, "character")?.or(Some("(1)".into()));
    Ok(builtin("character", modifier))
}

fn numeric(p: &mut Parser) -> Result<SqlType, TypeError> {
    let modifier = match p.numbers()?.as_deref() {
        None => None,
        Some([precision]) => Some(numeric_modifier(*precision, 0)?),
        Some([precision, scale]) => Some(numeric_modifier(*precision, *scale)?),
        Some(_) => return err("numeric takes at most two modifiers"),
    };
    Ok(builtin("numeric", modifier))
}

fn numeric_modifier(precision: i64, scale: i64) -> Result<String, TypeError> {
    if !(1..=1000).contains(&precision) {
        return err(format!(
            "NUMERIC precision {precision} must be between 1 and 1000"
        ));
    }
    if !(-1000..=1000).contains(&scale) {
        return err(format!(
            "NUMERIC scale {scale} must be between -1000 and 1000"
        ));
    }
    Ok(format!("({precision},{scale})"))
}

const INTERVAL_FIELDS: &[&str] = &[
    "year to month",
    "day to hour",
    "day to minute",
    "day to second",
    "hour to minute",
    "hour to second",
    "minute to second",
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
];

fn interval(p: &mut Parser) -> Result<SqlType, TypeError> {
    let leading_precision = precision(p.numbers()?, "interval")?;
    let mut fields = String::new();
    for candidate in INTERVAL_FIELDS {
        let words: Vec<&str> = candidate.split(' ').collect();
        let matches = words
            .iter()
            .enumerate()
            .all(|(i, w)| matches!(p.tokens.get(p.at + i), Some(Token::Word(have)) if have == w));
        if matches {
            p.at += words.len();
            fields = format!(" {candidate}");
            break;
        }
    }
    let trailing_precision = if fields.is_empty() {
        None
    } else {
        precision(p.numbers()?, "interval")?
    };
    let precision = match (leading_precision, trailing_precision) {
        (Some(_), Some(_)) => return err("interval has two precisions"),
        (a, b) => a.or(b),
    };
    let modifier = format!("{fields}{}", precision.unwrap_or_default());
    Ok(builtin(
        "interval",
        (!modifier.is_empty()).then_some(modifier),
    ))
}

fn qualified(schema: String, name: Token, modifier: Option<String>) -> Result<SqlType, TypeError> {
    match name {
        Token::Word(word) => by_type_name(Some(schema), &word, modifier, false),
        Token::Quoted(quoted) => by_type_name(Some(schema), &quoted, modifier, true),
        _ => err("expected a type name after '.'"),
    }
}

/// A type named by its catalog name (`int4`, `varchar`, `my_enum`), optionally qualified.
/// `pg_catalog`'s own names become the names `format_type` prints.
fn by_type_name(
    schema: Option<String>,
    name: &str,
    modifier: Option<String>,
    quoted: bool,
) -> Result<SqlType, TypeError> {
    // PostgreSQL names each array type after its element with a leading underscore.
    if let Some(element) = name.strip_prefix('_').filter(|e| !e.is_empty()) {
        // The element is named by its catalog name, as a quoted name would be.
        let mut array = by_type_name(schema, element, modifier, true)?;
        array.array = true;
        return Ok(array);
    }
    let in_catalog = schema.as_deref().is_none_or(|s| s == "pg_catalog");
    if in_catalog {
        let numbers = || -> Result<Option<Vec<i64>>, TypeError> {
            let Some(text) = &modifier else {
                return Ok(None);
            };
            text.trim_matches(|c| c == '(' || c == ')')
                .split(',')
                .map(|n| {
                    n.parse::<i64>()
                        .map_err(|_| TypeError(format!("bad modifier {text} for type {name}")))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some)
        };
        let no_modifier = |canonical: &str| -> Result<SqlType, TypeError> {
            match modifier {
                Some(_) => err(format!("type {name} takes no modifier")),
                None => Ok(builtin(canonical, None)),
            }
        };
        let renamed = match name {
            "int2" => Some(no_modifier("smallint")),
            "int4" => Some(no_modifier("integer")),
            "int8" => Some(no_modifier("bigint")),
            "float4" => Some(no_modifier("real")),
            "float8" => Some(no_modifier("double precision")),
            "bool" => Some(no_modifier("boolean")),
            // Unquoted, `char` is the SQL keyword handled before; quoted, the one-byte type.
            "char" if quoted => Some(no_modifier("\"char\"")),
            "varchar" => Some(Ok(builtin(
                "character varying",
                length(numbers()?, "varchar")?,
            ))),
            // `bpchar` without a length is the blank-padded type of any length, not `char(1)`.
            "bpchar" => Some(Ok(builtin("character", length(numbers()?, "bpchar")?))),
            "varbit" => Some(Ok(builtin("bit varying", length(numbers()?, "varbit")?))),
            "bit" if quoted || schema.is_some() => {
                Some(Ok(builtin("bit", length(numbers()?, "bit")?)))
            }
            "numeric" if quoted || schema.is_some() => Some(match numbers()?.as_deref() {
                None => Ok(builtin("numeric", None)),
                Some([p]) => numeric_modifier(*p, 0).map(|m| builtin("numeric", Some(m))),
                Some([p, s]) => numeric_modifier(*p, *s).map(|m| builtin("numeric", Some(m))),
                Some(_) => err("numeric takes at most two modifiers"),
            }),
            "timestamp" | "timestamptz" | "time" | "timetz" if quoted || schema.is_some() => {
                let base = name.trim_end_matches("tz");
                let zone = if name.ends_with("tz") {
                    "with time zone"
                } else {
                    "without time zone"
                };
                Some(precision(numbers()?, name).map(|m| builtin(&format!("{base} {zone}"), m)))
            }
            _ => None,
        };
        if let Some(renamed) = renamed {
            return renamed;
        }
    }
    let schema = schema.filter(|s| s != "pg_catalog");
    Ok(SqlType {
        schema,
        name: name.to_string(),
        modifier,
        array: false,
        serial: false,
    })
}

/// The same type name with the same modifier and arrayness, schema aside.
pub fn same_shape(a: &SqlType, b: &SqlType) -> bool {
    a.name == b.name && a.modifier == b.modifier && a.array == b.array
}

/// Type text compared without parsing, for declared types PostgreSQL's grammar does not know
/// (SQLite accepts any words): case and spacing aside.
pub fn loose_text(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> String {
        parse_type(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .to_string()
    }

    #[test]
    fn spellings_become_what_format_type_prints() {
        for (written, printed) in [
            ("varchar(50)", "character varying(50)"),
            ("VARCHAR ( 50 )", "character varying(50)"),
            ("character varying", "character varying"),
            ("char", "character(1)"),
            ("character(3)", "character(3)"),
            ("bpchar", "character"),
            ("\"char\"", "\"char\""),
            ("int", "integer"),
            ("int4", "integer"),
            ("pg_catalog.int4", "integer"),
            ("int8", "bigint"),
            ("float(53)", "double precision"),
            ("float(24)", "real"),
            ("float", "double precision"),
            ("float4", "real"),
            ("decimal(10,2)", "numeric(10,2)"),
            ("numeric(10)", "numeric(10,0)"),
            ("timestamptz", "timestamp with time zone"),
            ("timestamp(3)", "timestamp(3) without time zone"),
            ("timestamptz(3)", "timestamp(3) with time zone"),
            ("timestamp(3) with time zone", "timestamp(3) with time zone"),
            ("time with time zone", "time with time zone"),
            ("timetz", "time with time zone"),
            ("timestamp(9)", "timestamp(6) without time zone"),
            ("bit", "bit(1)"),
            ("bit varying", "bit varying"),
            ("varbit(5)", "bit varying(5)"),
            ("interval", "interval"),
            ("interval day to second(3)", "interval day to second(3)"),
            ("interval(2)", "interval(2)"),
            ("int[]", "integer[]"),
            ("integer[][]", "integer[]"),
            ("_int4", "integer[]"),
            ("pg_catalog._varchar", "character varying[]"),
            ("int ARRAY", "integer[]"),
            ("text ARRAY[4]", "text[]"),
            ("public.citext", "public.citext"),
            ("Public.My_Enum", "public.my_enum"),
            ("\"MyEnum\"", "\"MyEnum\""),
            ("geometry(Point, 4326)", "geometry(point,4326)"),
            ("serial", "integer"),
            ("bigserial", "bigint"),
        ] {
            assert_eq!(canonical(written), printed, "{written}");
        }
    }

    #[test]
    fn spellings_that_cannot_be_understood_say_why() {
        for (written, reason) in [
            ("varchar(", "expected a number"),
            ("varchar(0)", "length 0 for type varchar is out of range"),
            ("float(54)", "precision 54 for type float is out of range"),
            (
                "numeric(0)",
                "NUMERIC precision 0 must be between 1 and 1000",
            ),
            ("int(5)", "type integer takes no modifier"),
            ("double", "expected \"precision\" after \"double\""),
            ("text;", "unexpected ';'"),
            ("", "the type is empty"),
            (
                "varchar(50) varchar",
                "unexpected \"varchar\" after the type",
            ),
        ] {
            let error = parse_type(written).expect_err(written);
            assert!(error.0.contains(reason), "{written}: {error}");
        }
    }
}
