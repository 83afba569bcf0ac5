//! The shape of a plan file, field by field: what the structural pass of the loader checks.
//!
//! Kept as data so that every object is checked the same way (unknown fields with a suggestion,
//! missing fields, wrong types) and every problem is reported, not just the first.

use serde_json::{Map, Value};

use super::issue::{JsonPath, PlanIssue, nearest};

mod rules;

/// What a field's value must be.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ty {
    /// A string that is not blank.
    Text,
    /// A string that may be empty.
    AnyText,
    /// An identifier usable in references: letters, digits, `-`, `_`, `.`.
    Slug,
    Count,
    /// A whole number that fits in 32 bits (days, weeks, versions).
    SmallCount,
    Bool,
    OneOf(&'static [&'static str]),
    TextList,
    SlugList,
    /// A string, or `{"postgres": "...", "sqlite": "..."}`.
    Sql,
    /// A JSON scalar: string, number, boolean or null.
    Scalar,
    /// `[min, max]` of counts.
    Range,
    /// The plan format version: 1.
    FormatVersion,
    /// A path under the code root: relative, `/`-separated, no `..`.
    RelPath,
    /// gitignore-style globs under the code root, each a [`Ty::RelPath`].
    Globs,
    /// A plan's code root: relative to the plan's folder (`..` allowed), never absolute.
    CodeRoot,
    /// `"empty"`, or a list of rows: each an array of scalars (or one scalar).
    Rows,
    Object(&'static [Field]),
    ObjectList(&'static [Field]),
    Checks,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
}

const fn req(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        required: true,
    }
}

const fn opt(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        required: false,
    }
}

pub(crate) const PRIORITIES: &[&str] = &["high", "medium", "low"];
pub(crate) const CLAIMS: &[&str] = &["done", "in_progress", "not_started"];
/// The tools `migrations_applied` reads.
pub(crate) const MIGRATION_TOOLS: &[&str] = &["alembic", "golang-migrate", "flyway", "sqitch"];
pub(crate) const CONSTRAINT_TYPES: &[&str] = &[
    "primary_key",
    "foreign_key",
    "unique",
    "check",
    "exclusion",
    "not_null",
];
const REFERENTIAL_ACTIONS: &[&str] = &[
    "no_action",
    "restrict",
    "cascade",
    "set_null",
    "set_default",
];
const ENUM_MATCHES: &[&str] = &["exactly", "contains"];
const IDENTITIES: &[&str] = &["always", "by_default"];

const REFERENCES: &[Field] = &[
    req("table", Ty::Text),
    opt("schema", Ty::Text),
    opt("columns", Ty::TextList),
    opt("on_delete", Ty::OneOf(REFERENTIAL_ACTIONS)),
    opt("on_update", Ty::OneOf(REFERENTIAL_ACTIONS)),
];

const CONSTRAINT: &[Field] = &[
    req("table", Ty::Text),
    opt("schema", Ty::Text),
    req("type", Ty::OneOf(CONSTRAINT_TYPES)),
    opt("columns", Ty::TextList),
    opt("name", Ty::Text),
    opt("references", Ty::Object(REFERENCES)),
    opt("expression", Ty::Text),
    opt("validated", Ty::Bool),
];

const VIEW: &[Field] = &[
    req("view", Ty::Text),
    opt("schema", Ty::Text),
    opt("materialized", Ty::Bool),
    opt("columns", Ty::TextList),
];

const FUNCTION: &[Field] = &[
    req("name", Ty::Text),
    opt("schema", Ty::Text),
    opt("args", Ty::TextList),
    opt("returns", Ty::Text),
    opt("language", Ty::Text),
    opt("security_definer", Ty::Bool),
];

const TRIGGER: &[Field] = &[
    req("table", Ty::Text),
    opt("schema", Ty::Text),
    req("name", Ty::Text),
    opt("function", Ty::Text),
    opt("enabled", Ty::Bool),
];

pub(crate) const PLAN: &[Field] = &[
    opt("$schema", Ty::AnyText),
    req("version", Ty::FormatVersion),
    req("title", Ty::Text),
    opt("description", Ty::AnyText),
    opt("timeline", Ty::Object(TIMELINE)),
    opt("search_path", Ty::TextList),
    opt("code", Ty::Object(CODE)),
    req("days", Ty::ObjectList(DAY)),
    req("phases", Ty::ObjectList(PHASE)),
    req("tasks", Ty::ObjectList(TASK)),
    opt("risks", Ty::ObjectList(RISK)),
    opt("fix_policy", Ty::Object(FIX_POLICY)),
];

/// The bound on `approvals` is checked with the other policy rules (`policy.rs`).
const FIX_POLICY: &[Field] = &[req("approvals", Ty::SmallCount)];

/// `root` may climb out of the plan's folder (a plan kept in `docs/` reads `..`); the paths of
/// the checks may not leave the root.
const CODE: &[Field] = &[opt("root", Ty::CodeRoot), opt("exclude", Ty::Globs)];

const TIMELINE: &[Field] = &[
    req("original_weeks", Ty::SmallCount),
    req("revised_weeks", Ty::Range),
];

const DAY: &[Field] = &[
    req("day", Ty::SmallCount),
    req("title", Ty::Text),
    opt("goal", Ty::AnyText),
];

const PHASE: &[Field] = &[
    req("id", Ty::Slug),
    req("title", Ty::Text),
    opt("window", Ty::AnyText),
];

const TASK: &[Field] = &[
    req("id", Ty::Slug),
    req("title", Ty::Text),
    req("day", Ty::SmallCount),
    req("phase", Ty::Slug),
    req("priority", Ty::OneOf(PRIORITIES)),
    opt("claimed", Ty::OneOf(CLAIMS)),
    opt("depends_on", Ty::SlugList),
    opt("description", Ty::AnyText),
    opt("checks", Ty::Checks),
    opt("fix", Ty::Object(FIX)),
    opt("fix_policy", Ty::Object(FIX_POLICY)),
];

const FIX: &[Field] = &[req("sql", Ty::Sql), opt("guards", Ty::Checks)];

const RISK: &[Field] = &[
    req("id", Ty::Slug),
    req("title", Ty::Text),
    req("severity", Ty::OneOf(PRIORITIES)),
    req("description", Ty::AnyText),
    req("watch", Ty::TextList),
];

/// Fields every check has, whatever its kind.
const CHECK_COMMON: &[Field] = &[
    req("id", Ty::Slug),
    req("kind", Ty::Text),
    opt("note", Ty::AnyText),
];

/// Each check kind with its own fields.
pub(crate) const CHECK_KINDS: &[(&str, &[Field])] = &[
    (
        "table_exists",
        &[req("table", Ty::Text), opt("schema", Ty::Text)],
    ),
    (
        "table_absent",
        &[req("table", Ty::Text), opt("schema", Ty::Text)],
    ),
    (
        "column_exists",
        &[
            req("table", Ty::Text),
            req("column", Ty::Text),
            opt("schema", Ty::Text),
            opt("type", Ty::Text),
            opt("nullable", Ty::Bool),
            opt("default", Ty::Text),
            opt("identity", Ty::OneOf(IDENTITIES)),
            opt("generated", Ty::Text),
            opt("collation", Ty::Text),
            opt("comment", Ty::AnyText),
        ],
    ),
    (
        "column_absent",
        &[
            req("table", Ty::Text),
            req("column", Ty::Text),
            opt("schema", Ty::Text),
        ],
    ),
    (
        "index_exists",
        &[
            req("table", Ty::Text),
            opt("schema", Ty::Text),
            opt("columns", Ty::TextList),
            opt("name", Ty::Text),
            opt("unique", Ty::Bool),
            opt("where", Ty::Text),
            opt("method", Ty::Text),
            opt("include", Ty::TextList),
            opt("valid", Ty::Bool),
        ],
    ),
    (
        "row_count",
        &[
            req("table", Ty::Text),
            opt("schema", Ty::Text),
            opt("equals", Ty::Count),
            opt("at_most", Ty::Count),
            opt("at_least", Ty::Count),
        ],
    ),
    (
        "migration_version",
        &[
            req("revision", Ty::Text),
            opt("dir", Ty::RelPath),
            opt("table", Ty::Text),
            opt("column", Ty::Text),
            opt("schema", Ty::Text),
        ],
    ),
    ("sql", &[req("query", Ty::Sql), opt("expect", Ty::Scalar)]),
    (
        "code_absent",
        &[
            opt("pattern", Ty::Text),
            opt("literal", Ty::Text),
            opt("word", Ty::Bool),
            opt("ignore_case", Ty::Bool),
            opt("paths", Ty::Globs),
            opt("exclude", Ty::Globs),
            opt("max_matches", Ty::Count),
        ],
    ),
    (
        "code_present",
        &[
            opt("pattern", Ty::Text),
            opt("literal", Ty::Text),
            opt("word", Ty::Bool),
            opt("ignore_case", Ty::Bool),
            opt("paths", Ty::Globs),
            opt("exclude", Ty::Globs),
            opt("min_matches", Ty::Count),
        ],
    ),
    ("path_exists", &[req("path", Ty::RelPath)]),
    ("path_absent", &[req("path", Ty::RelPath)]),
    (
        "migrations_applied",
        &[
            req("tool", Ty::OneOf(MIGRATION_TOOLS)),
            req("dir", Ty::RelPath),
            opt("table", Ty::Text),
            opt("schema", Ty::Text),
        ],
    ),
    (
        "columns_unreferenced",
        &[
            req("table", Ty::Text),
            opt("schema", Ty::Text),
            req("columns", Ty::TextList),
            opt("paths", Ty::Globs),
            opt("exclude", Ty::Globs),
        ],
    ),
    ("constraint_exists", CONSTRAINT),
    ("constraint_absent", CONSTRAINT),
    (
        "enum_values",
        &[
            req("type", Ty::Text),
            opt("schema", Ty::Text),
            req("values", Ty::TextList),
            opt("match", Ty::OneOf(ENUM_MATCHES)),
        ],
    ),
    ("view_exists", VIEW),
    ("view_absent", VIEW),
    (
        "sequence_exists",
        &[req("sequence", Ty::Text), opt("schema", Ty::Text)],
    ),
    (
        "extension_exists",
        &[req("extension", Ty::Text), opt("version", Ty::Text)],
    ),
    ("schema_exists", &[req("schema", Ty::Text)]),
    ("schema_absent", &[req("schema", Ty::Text)]),
    ("function_exists", FUNCTION),
    ("function_absent", FUNCTION),
    ("trigger_exists", TRIGGER),
    ("trigger_absent", TRIGGER),
    (
        "privilege",
        &[
            req("role", Ty::Text),
            opt("table", Ty::Text),
            opt("sequence", Ty::Text),
            opt("function", Ty::Text),
            opt("schema", Ty::Text),
            req("privileges", Ty::TextList),
            req("has", Ty::Bool),
        ],
    ),
    (
        "rows_match",
        &[
            req("query", Ty::Sql),
            req("expect", Ty::Rows),
            opt("ordered", Ty::Bool),
        ],
    ),
];

pub(crate) fn kind_names() -> Vec<&'static str> {
    CHECK_KINDS.iter().map(|(name, _)| *name).collect()
}

/// Walks a value against its expected shape, collecting every problem found.
pub(crate) struct ShapeChecker {
    pub issues: Vec<PlanIssue>,
}

impl ShapeChecker {
    pub fn new() -> Self {
        ShapeChecker { issues: Vec::new() }
    }

    fn report(&mut self, path: &JsonPath, message: impl Into<String>) {
        self.issues.push(PlanIssue {
            path: path.as_str().to_string(),
            message: message.into(),
        });
    }

    pub fn object(&mut self, path: &JsonPath, value: &Value, fields: &[Field]) {
        let Some(map) = value.as_object() else {
            self.report(
                path,
                format!("expected an object, found {}", describe(value)),
            );
            return;
        };
        self.fields(path, map, fields, &[]);
    }

    fn fields(
        &mut self,
        path: &JsonPath,
        map: &Map<String, Value>,
        fields: &[Field],
        also_known: &[&str],
    ) {
        let names: Vec<&str> = fields
            .iter()
            .map(|f| f.name)
            .chain(also_known.iter().copied())
            .collect();
        for key in map.keys() {
            if !names.contains(&key.as_str()) {
                let hint = match nearest(key, &names) {
                    Some(near) => format!(" (did you mean \"{near}\"?)"),
                    None => format!("; expected one of: {}", names.join(", ")),
                };
                self.report(&path.field(key), format!("unknown field \"{key}\"{hint}"));
            }
        }
        for field in fields {
            match map.get(field.name) {
                Some(value) => self.value(&path.field(field.name), value, field.ty),
                None if field.required => self.report(
                    path,
                    format!("missing field \"{}\" ({})", field.name, expected(field.ty)),
                ),
                None => {}
            }
        }
    }

    fn value(&mut self, path: &JsonPath, value: &Value, ty: Ty) {
        match ty {
            Ty::Text => match value.as_str() {
                Some(text) if text.trim().is_empty() => self.report(path, "must not be empty"),
                Some(_) => {}
                None => self.wrong(path, value, ty),
            },
            Ty::AnyText => {
                if !value.is_string() {
                    self.wrong(path, value, ty)
                }
            }
            Ty::Slug => match value.as_str() {
                Some(text) => {
                    if let Some(problem) = slug_problem(text) {
                        self.report(path, problem)
                    }
                }
                None => self.wrong(path, value, ty),
            },
            Ty::Count => {
                if value.as_u64().is_none() {
                    self.wrong(path, value, ty)
                }
            }
            Ty::SmallCount => {
                if value.as_u64().is_none_or(|n| n > u64::from(u32::MAX)) {
                    self.wrong(path, value, ty)
                }
            }
            Ty::Bool => {
                if !value.is_boolean() {
                    self.wrong(path, value, ty)
                }
            }
            Ty::OneOf(choices) => match value.as_str() {
                Some(text) if choices.contains(&text) => {}
                Some(text) => {
                    let hint =
                        nearest(text, choices).map(|near| format!(" (did you mean \"{near}\"?)"));
                    self.report(
                        path,
                        format!(
                            "\"{text}\" is not one of {}{}",
                            choices.join(", "),
                            hint.unwrap_or_default()
                        ),
                    )
                }
                None => self.wrong(path, value, ty),
            },
            Ty::TextList | Ty::SlugList => match value.as_array() {
                Some(items) => {
                    let item_ty = if matches!(ty, Ty::SlugList) {
                        Ty::Slug
                    } else {
                        Ty::Text
                    };
                    for (index, item) in items.iter().enumerate() {
                        self.value(&path.index(index), item, item_ty);
                    }
                }
                None => self.wrong(path, value, ty),
            },
            Ty::Sql => match value {
                Value::String(text) if text.trim().is_empty() => {
                    self.report(path, "must not be empty")
                }
                Value::String(_) => {}
                Value::Object(map) => {
                    const DIALECTS: &[Field] =
                        &[opt("postgres", Ty::Text), opt("sqlite", Ty::Text)];
                    self.fields(path, map, DIALECTS, &[]);
                    if map.is_empty() {
                        self.report(
                            path,
                            "give SQL for at least one of \"postgres\" and \"sqlite\"",
                        );
                    }
                }
                _ => self.wrong(path, value, ty),
            },
            Ty::Scalar => {
                if value.is_array() || value.is_object() {
                    self.wrong(path, value, ty)
                }
            }
            // Any number is left to the version check, which says which versions are read.
            Ty::FormatVersion => {
                if !value.is_number() {
                    self.wrong(path, value, ty)
                }
            }
            Ty::Range => match value.as_array() {
                Some(items) if items.len() != 2 => self.report(
                    path,
                    format!(
                        "expected two whole numbers, [min, max]; found {} number{}",
                        items.len(),
                        if items.len() == 1 { "" } else { "s" }
                    ),
                ),
                Some(pair)
                    if pair.len() == 2
                        && pair
                            .iter()
                            .all(|n| n.as_u64().is_some_and(|n| n <= u64::from(u32::MAX))) =>
                {
                    if pair[0].as_u64() > pair[1].as_u64() {
                        self.report(path, "expected [min, max] with min <= max")
                    }
                }
                _ => self.wrong(path, value, ty),
            },
            Ty::RelPath => match value.as_str() {
                Some(text) => {
                    if let Some(problem) = crate::check::code::path_problem(text) {
                        self.report(path, problem)
                    }
                }
                None => self.wrong(path, value, ty),
            },
            Ty::CodeRoot => match value.as_str() {
                Some(text) if text.trim().is_empty() => self.report(path, "must not be empty"),
                Some(text) if text.starts_with('/') || text.contains(':') || text.starts_with('\\') => {
                    self.report(
                        path,
                        format!(
                            "\"{text}\" is absolute: a plan names its code relative to its own folder (an absolute root is --code-root's, chosen by the person running remtrack)"
                        ),
                    )
                }
                Some(_) => {}
                None => self.wrong(path, value, ty),
            },
            Ty::Globs => match value.as_array() {
                Some(items) => {
                    for (index, item) in items.iter().enumerate() {
                        let at = path.index(index);
                        match item.as_str() {
                            Some(text) => {
                                // `!` re-includes, as in .gitignore.
                                let glob = text.strip_prefix('!').unwrap_or(text);
                                if let Some(problem) = crate::check::code::path_problem(glob) {
                                    self.report(&at, problem)
                                } else if let Err(error) = globset::Glob::new(glob) {
                                    self.report(&at, format!("not a glob: {}", error.kind()))
                                }
                            }
                            None => self.wrong(&at, item, Ty::Text),
                        }
                    }
                }
                None => self.wrong(path, value, ty),
            },
            Ty::Rows => match value {
                Value::String(word) if word == "empty" => {}
                Value::Array(rows) if rows.len() > crate::plan::MAX_EXPECTED_ROWS => self.report(
                    path,
                    format!(
                        "{} rows expected: at most {} (a check compares a few rows; count the rest with row_count or sql)",
                        rows.len(),
                        crate::plan::MAX_EXPECTED_ROWS
                    ),
                ),
                Value::Array(rows) => {
                    for (index, row) in rows.iter().enumerate() {
                        let at = path.index(index);
                        match row {
                            Value::Array(values) => {
                                for (column, value) in values.iter().enumerate() {
                                    if value.is_array() || value.is_object() {
                                        self.wrong(&at.index(column), value, Ty::Scalar)
                                    }
                                }
                            }
                            Value::Object(_) => self.report(
                                &at,
                                "expected a row as an array of values in column order (or one value), found an object",
                            ),
                            _ => {}
                        }
                    }
                }
                _ => self.wrong(path, value, ty),
            },
            Ty::Object(fields) => self.object(path, value, fields),
            Ty::ObjectList(fields) => match value.as_array() {
                Some(items) => {
                    for (index, item) in items.iter().enumerate() {
                        self.object(&path.index(index), item, fields);
                    }
                }
                None => self.wrong(path, value, ty),
            },
            Ty::Checks => match value.as_array() {
                Some(items) => {
                    for (index, item) in items.iter().enumerate() {
                        self.check(&path.index(index), item);
                    }
                }
                None => self.wrong(path, value, ty),
            },
        }
    }

    fn check(&mut self, path: &JsonPath, value: &Value) {
        let Some(map) = value.as_object() else {
            self.report(
                path,
                format!("expected a check object, found {}", describe(value)),
            );
            return;
        };
        let kinds = kind_names();
        let kind = map.get("kind").and_then(Value::as_str);
        let kind_fields = kind.and_then(|kind| CHECK_KINDS.iter().find(|(name, _)| *name == kind));
        match (kind, kind_fields) {
            (Some(_), Some((_, fields))) => {
                let common: Vec<&str> = CHECK_COMMON.iter().map(|f| f.name).collect();
                self.fields(path, map, fields, &common);
                self.fields(path, &common_only(map), CHECK_COMMON, &[]);
                self.check_rules(path, map, kind.unwrap_or_default());
            }
            (Some(kind), None) => {
                let hint = match nearest(kind, &kinds) {
                    Some(near) => format!(" (did you mean \"{near}\"?)"),
                    None => format!("; expected one of: {}", kinds.join(", ")),
                };
                self.report(
                    &path.field("kind"),
                    format!("unknown check kind \"{kind}\"{hint}"),
                );
            }
            (None, _) => match map.get("kind") {
                Some(other) => self.report(
                    &path.field("kind"),
                    format!("expected a string, found {}", describe(other)),
                ),
                None => self.report(
                    path,
                    format!("missing field \"kind\" (one of: {})", kinds.join(", ")),
                ),
            },
        }
    }

    fn wrong(&mut self, path: &JsonPath, value: &Value, ty: Ty) {
        self.report(
            path,
            format!("expected {}, found {}", expected(ty), describe(value)),
        );
    }
}

fn common_only(map: &Map<String, Value>) -> Map<String, Value> {
    CHECK_COMMON
        .iter()
        .filter_map(|field| {
            map.get(field.name)
                .map(|value| (field.name.to_string(), value.clone()))
        })
        .collect()
}

/// Why `text` cannot be an id, if it cannot.
pub(crate) fn slug_problem(text: &str) -> Option<String> {
    if text.is_empty() {
        return Some("must not be empty".into());
    }
    let bad: Vec<char> = text
        .chars()
        .filter(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .collect();
    if bad.is_empty() {
        None
    } else {
        Some(format!(
            "\"{}\" is not a valid id: use letters, digits, '-', '_' and '.' only",
            text.escape_debug()
        ))
    }
}

fn expected(ty: Ty) -> String {
    match ty {
        Ty::Text => "a non-empty string".into(),
        Ty::AnyText => "a string".into(),
        Ty::Slug => "an id (letters, digits, '-', '_', '.')".into(),
        Ty::Count => "a whole number >= 0".into(),
        Ty::SmallCount => "a whole number from 0 to 4294967295".into(),
        Ty::Bool => "true or false".into(),
        Ty::OneOf(choices) => format!("one of {}", choices.join(", ")),
        Ty::TextList => "an array of strings".into(),
        Ty::SlugList => "an array of ids".into(),
        Ty::Sql => "an SQL string or {\"postgres\": \"...\", \"sqlite\": \"...\"}".into(),
        Ty::Scalar => "a string, number, boolean or null".into(),
        Ty::Range => "two whole numbers, [min, max]".into(),
        Ty::FormatVersion => "1, the plan format version".into(),
        Ty::RelPath => "a path relative to the code root".into(),
        Ty::Globs => "an array of globs relative to the code root".into(),
        Ty::CodeRoot => "a folder relative to the plan file's folder".into(),
        Ty::Rows => "\"empty\" or an array of rows (each an array of values)".into(),
        Ty::Object(_) => "an object".into(),
        Ty::ObjectList(_) => "an array of objects".into(),
        Ty::Checks => "an array of checks".into(),
    }
}

pub(crate) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_u64() => "a whole number",
        Value::Number(n) if n.is_i64() => "a negative number",
        Value::Number(_) => "a fractional number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
