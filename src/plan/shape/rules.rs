//! Rules within one check that the field table cannot say: fields that exclude or need one
//! another, what a privilege may be on each object, SQL screened as at run time.

use serde_json::{Map, Value};

use super::ShapeChecker;
use crate::plan::issue::{JsonPath, nearest};

impl ShapeChecker {
    /// Rules within one check that the field table cannot say.
    pub(super) fn check_rules(&mut self, path: &JsonPath, map: &Map<String, Value>, kind: &str) {
        match kind {
            "index_exists" => match (map.get("columns"), map.get("name")) {
                (None, None) => self.report(path, "index_exists needs \"columns\" or \"name\""),
                (Some(_), Some(_)) => {
                    self.report(path, "index_exists takes \"columns\" or \"name\", not both")
                }
                (Some(Value::Array(columns)), None) if columns.is_empty() => {
                    self.report(&path.field("columns"), "must name at least one column")
                }
                _ => {}
            },
            "row_count" => {
                if ["equals", "at_most", "at_least"]
                    .iter()
                    .all(|bound| !map.contains_key(*bound))
                {
                    self.report(
                        path,
                        "row_count needs one or more of \"equals\", \"at_most\", \"at_least\"",
                    )
                }
                let bound = |name| map.get(name).and_then(Value::as_u64);
                if let (Some(low), Some(high)) = (bound("at_least"), bound("at_most"))
                    && low > high
                {
                    self.report(
                        path,
                        format!(
                            "at_least ({low}) is greater than at_most ({high}): no count can pass"
                        ),
                    )
                }
            }
            "columns_unreferenced" => {
                if let Some(Value::Array(columns)) = map.get("columns")
                    && columns.is_empty()
                {
                    self.report(&path.field("columns"), "must name at least one column")
                }
            }
            "code_absent" | "code_present" => {
                match (map.get("pattern"), map.get("literal")) {
                    (None, None) => self.report(
                        path,
                        format!("{kind} needs \"pattern\" (a regular expression) or \"literal\""),
                    ),
                    (Some(_), Some(_)) => self.report(
                        path,
                        format!("{kind} takes \"pattern\" or \"literal\", not both"),
                    ),
                    (Some(Value::String(pattern)), None) => {
                        // The same builder and limits as the code pass: a pattern that would
                        // be refused there is refused here.
                        if let Err(error) = grep_regex::RegexMatcherBuilder::new()
                            .size_limit(1 << 20)
                            .dfa_size_limit(1 << 20)
                            .build(pattern)
                        {
                            self.report(
                                &path.field("pattern"),
                                format!(
                                    "not a regular expression remtrack can use: {}",
                                    crate::printable::one_line(&error.to_string())
                                ),
                            )
                        }
                    }
                    _ => {}
                }
            }
            "constraint_exists" | "constraint_absent" => self.constraint_rules(path, map, kind),
            "enum_values" => self.non_empty_list(path, map, "values"),
            "view_exists" | "view_absent" => self.non_empty_list(path, map, "columns"),
            "privilege" => self.privilege_rules(path, map),
            // An argument that does not read as a type would make a function look absent.
            "function_exists" | "function_absent" => {
                if let Some(Value::Array(args)) = map.get("args") {
                    for (index, arg) in args.iter().enumerate() {
                        let Some(text) = arg.as_str() else { continue };
                        match crate::check::sqltype::parse_type(text) {
                            Ok(parsed) if parsed.serial => self.report(
                                &path.field("args").index(index),
                                format!("\"{text}\" is not an argument type (serial exists only for columns); write integer"),
                            ),
                            Ok(_) => {}
                            Err(error) => self.report(
                                &path.field("args").index(index),
                                format!("\"{text}\" is not a type remtrack can read ({error}): write the type alone, without an argument name, mode or default"),
                            ),
                        }
                    }
                }
            }
            // The same screen as at run time, so that a query no check may run is reported
            // when the plan is validated, not later as a syntax error.
            "sql" | "rows_match" => match map.get("query") {
                Some(Value::String(text)) => {
                    self.screen_sql(&path.field("query"), text, crate::Backend::Postgres)
                }
                Some(Value::Object(per_backend)) => {
                    for (name, backend) in [
                        ("postgres", crate::Backend::Postgres),
                        ("sqlite", crate::Backend::Sqlite),
                    ] {
                        if let Some(Value::String(text)) = per_backend.get(name) {
                            self.screen_sql(&path.field("query").field(name), text, backend);
                        }
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }

    fn non_empty_list(&mut self, path: &JsonPath, map: &Map<String, Value>, field: &str) {
        if let Some(Value::Array(items)) = map.get(field)
            && items.is_empty()
        {
            self.report(&path.field(field), "must not be empty");
        }
    }

    fn constraint_rules(&mut self, path: &JsonPath, map: &Map<String, Value>, kind: &str) {
        let constraint_type = map.get("type").and_then(Value::as_str).unwrap_or_default();
        self.non_empty_list(path, map, "columns");
        if map.contains_key("references") && constraint_type != "foreign_key" {
            self.report(
                &path.field("references"),
                format!(
                    "only a foreign_key references a table; this constraint is {constraint_type}"
                ),
            );
        }
        if map.contains_key("expression") && constraint_type != "check" {
            self.report(
                &path.field("expression"),
                format!("only a check constraint has an expression; this constraint is {constraint_type}"),
            );
        }
        if constraint_type == "not_null"
            && map
                .get("columns")
                .and_then(Value::as_array)
                .is_none_or(|columns| columns.len() != 1)
        {
            self.report(
                path,
                format!("{kind} of type not_null needs \"columns\" naming exactly one column"),
            );
        }
        if let Some(Value::Object(references)) = map.get("references") {
            self.non_empty_list(&path.field("references"), references, "columns");
            let count = |v: Option<&Value>| v.and_then(Value::as_array).map(Vec::len);
            if let (Some(ours), Some(theirs)) =
                (count(map.get("columns")), count(references.get("columns")))
                && ours != theirs
            {
                self.report(
                    &path.field("references").field("columns"),
                    format!("{theirs} referenced columns for {ours} columns: a foreign key pairs them one to one"),
                );
            }
        }
    }

    fn privilege_rules(&mut self, path: &JsonPath, map: &Map<String, Value>) {
        let objects: Vec<&str> = ["table", "sequence", "function"]
            .into_iter()
            .filter(|field| map.contains_key(*field))
            .collect();
        let object = match objects.as_slice() {
            [] if map.contains_key("schema") => crate::plan::PrivilegeObject::Schema,
            [] => {
                self.report(
                    path,
                    "privilege needs the object: \"table\", \"sequence\", \"function\" or \"schema\"",
                );
                return;
            }
            ["table"] => crate::plan::PrivilegeObject::Table,
            ["sequence"] => crate::plan::PrivilegeObject::Sequence,
            ["function"] => crate::plan::PrivilegeObject::Function,
            _ => {
                self.report(
                    path,
                    format!(
                        "privilege is about one object; it names {} (\"schema\" may qualify it)",
                        objects.join(" and ")
                    ),
                );
                return;
            }
        };
        let Some(Value::Array(privileges)) = map.get("privileges") else {
            return;
        };
        if privileges.is_empty() {
            self.report(
                &path.field("privileges"),
                "must name at least one privilege",
            );
        }
        let known = object.privileges();
        for (index, privilege) in privileges.iter().enumerate() {
            let Some(text) = privilege.as_str() else {
                continue;
            };
            let upper = text.trim().to_ascii_uppercase();
            if !known.contains(&upper.as_str()) {
                // `nearest` compares in lower case.
                let lower: Vec<String> = known.iter().map(|p| p.to_lowercase()).collect();
                let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
                let hint = nearest(&upper, &lower)
                    .map(|near| format!(" (did you mean \"{}\"?)", near.to_uppercase()))
                    .unwrap_or_default();
                self.report(
                    &path.field("privileges").index(index),
                    format!(
                        "\"{text}\" is not a privilege on a {}: one of {}{hint}",
                        object.noun(),
                        known.join(", ")
                    ),
                );
            }
        }
    }

    fn screen_sql(&mut self, path: &JsonPath, text: &str, backend: crate::Backend) {
        if text.trim().is_empty() {
            return;
        }
        if let Err(rejection) = crate::check::screen_check_sql(text, backend) {
            self.report(path, rejection.to_string());
        }
    }
}
