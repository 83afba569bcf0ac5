//! `function_exists` / `function_absent` (argument types by meaning) and `trigger_exists` /
//! `trigger_absent`.

use super::Facts;
use crate::check::Verdict;
use crate::check::facts::{Function, Resolved};
use crate::check::sqltype::parse_type;
use crate::plan::{FunctionSpec, TriggerSpec};

/// Whether a type as a plan writes it is the type the catalog prints (`int` is `integer`,
/// `varchar` is `character varying`). Arguments and results carry no modifiers. A type the
/// catalog prints without a schema is the one visible on the search path: a schema the plan
/// writes (`public.citext`) must be the first schema on the path holding a type of that name
/// (`legacy.citext` is another type). `serial` is no type of its own.
pub(crate) fn same_type(facts: &Facts<'_>, expected: &str, actual: &str) -> bool {
    let (Ok(mut a), Ok(mut b)) = (parse_type(expected), parse_type(actual)) else {
        return squeeze(expected) == squeeze(actual);
    };
    if a.serial || b.serial {
        return false;
    }
    a.modifier = None;
    b.modifier = None;
    if a.schema.as_deref() == Some("pg_catalog") && b.schema.is_none() {
        a.schema = None;
    }
    if let (Some(schema), None) = (&a.schema, &b.schema) {
        // Where the printed, unqualified name resolves: the first schema on the path with it.
        let visible_in = facts.first_on_path(
            facts
                .schema
                .named_types
                .iter()
                .filter(|t| t.name == a.name)
                .map(|t| t.schema.as_str()),
        );
        if visible_in != Some(schema.as_str()) {
            return false;
        }
        a.schema = None;
    }
    a.to_string() == b.to_string()
}

fn squeeze(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A result as the plan writes it against `pg_get_function_result`: `SETOF t` by its type,
/// `TABLE(…)` as text.
fn same_result(facts: &Facts<'_>, expected: &str, actual: &str) -> bool {
    let setof = |text: &str| {
        let trimmed = text.trim();
        trimmed
            .get(..6)
            .filter(|head| head.eq_ignore_ascii_case("setof "))
            .map(|_| trimmed[6..].to_string())
    };
    match (setof(expected), setof(actual)) {
        (Some(a), Some(b)) => same_type(facts, &a, &b),
        (None, None) if squeeze(expected).starts_with("table") => {
            squeeze(expected) == squeeze(actual)
        }
        (None, None) => same_type(facts, expected, actual),
        _ => false,
    }
}

fn signature(facts: &Facts<'_>, function: &Function) -> String {
    format!(
        "{}({})",
        facts.display(&function.schema, &function.name),
        function.args.join(", ")
    )
}

/// Functions of this name where PostgreSQL looks: in the schema given, else on the search path.
fn candidates<'a>(facts: &Facts<'a>, schema: Option<&str>, name: &str) -> Vec<&'a Function> {
    let path = &facts.schema.search_path.effective;
    facts
        .schema
        .functions
        .iter()
        .filter(|f| f.name == name)
        .filter(|f| match schema {
            Some(schema) => f.schema == schema,
            None => path.contains(&f.schema),
        })
        .collect()
}

fn same_args(facts: &Facts<'_>, expected: &[String], actual: &[String]) -> bool {
    expected.len() == actual.len()
        && expected
            .iter()
            .zip(actual)
            .all(|(e, a)| same_type(facts, e, a))
}

/// A function of this name in a schema on the path that the role may not use: it cannot be
/// seen, present or absent.
fn hidden_function(facts: &Facts<'_>, spec: &FunctionSpec) -> Option<String> {
    if spec.schema.is_some() {
        return None;
    }
    facts.hidden_in_unusable(
        "function",
        &spec.name,
        facts
            .schema
            .functions
            .iter()
            .filter(|f| f.name == spec.name)
            .map(|f| f.schema.as_str()),
    )
}

pub(super) fn function_exists(facts: &Facts<'_>, spec: &FunctionSpec) -> Verdict {
    if let Some(why) = hidden_function(facts, spec) {
        return Verdict::error(why);
    }
    let schema = spec.schema.as_deref();
    let found = candidates(facts, schema, &spec.name);
    if found.is_empty() {
        let mut evidence = format!("no function {} {}", spec.name, facts.looked_in(schema));
        let elsewhere: Vec<String> = facts
            .schema
            .functions
            .iter()
            .filter(|f| f.name.eq_ignore_ascii_case(&spec.name))
            .map(|f| signature(facts, f))
            .collect();
        if !elsewhere.is_empty() {
            evidence.push_str(&format!("; elsewhere: {}", elsewhere.join(", ")));
        }
        return Verdict::fail(evidence);
    }
    let mut near = Vec::new();
    for function in &found {
        let mut problems = Vec::new();
        if let Some(args) = &spec.args
            && !same_args(facts, args, &function.args)
        {
            problems.push(format!(
                "takes ({}), expected ({})",
                function.args.join(", "),
                args.join(", ")
            ));
        }
        if let Some(returns) = &spec.returns
            && !same_result(facts, returns, &function.result)
        {
            problems.push(format!("returns {}, expected {returns}", function.result));
        }
        if let Some(language) = &spec.language
            && !language.eq_ignore_ascii_case(&function.language)
        {
            problems.push(format!(
                "is LANGUAGE {}, expected {language}",
                function.language
            ));
        }
        if let Some(definer) = spec.security_definer
            && definer != function.security_definer
        {
            problems.push(if function.security_definer {
                "is SECURITY DEFINER, expected SECURITY INVOKER".to_string()
            } else {
                "is SECURITY INVOKER, expected SECURITY DEFINER".to_string()
            });
        }
        if problems.is_empty() {
            return Verdict::pass(format!(
                "{} {} returns {} (LANGUAGE {}{})",
                function.kind,
                signature(facts, function),
                if function.result.is_empty() {
                    "nothing"
                } else {
                    &function.result
                },
                function.language,
                if function.security_definer {
                    ", SECURITY DEFINER"
                } else {
                    ""
                }
            ));
        }
        near.push(format!(
            "{} {}",
            signature(facts, function),
            problems.join(", ")
        ));
    }
    Verdict::fail(format!("no matching function: {}", near.join("; ")))
}

pub(super) fn function_absent(facts: &Facts<'_>, spec: &FunctionSpec) -> Verdict {
    if let Some(why) = hidden_function(facts, spec) {
        return Verdict::error(why);
    }
    let schema = spec.schema.as_deref();
    let still: Vec<String> = candidates(facts, schema, &spec.name)
        .into_iter()
        .filter(|f| {
            spec.args
                .as_ref()
                .is_none_or(|args| same_args(facts, args, &f.args))
        })
        .map(|f| signature(facts, f))
        .collect();
    if !still.is_empty() {
        return Verdict::fail(format!("still exists: {}", still.join(", ")));
    }
    let wanted = match &spec.args {
        Some(args) => format!("{}({})", spec.name, args.join(", ")),
        None => spec.name.clone(),
    };
    let outside: Vec<String> = facts
        .schema
        .functions
        .iter()
        .filter(|f| {
            f.name == spec.name
                && schema.is_none()
                && !facts.schema.search_path.effective.contains(&f.schema)
        })
        .map(|f| signature(facts, f))
        .collect();
    let warning = (!outside.is_empty()).then(|| {
        format!(
            "no {wanted} on the search path ({}), but {} exists outside it",
            facts.schema.search_path.display(),
            outside.join(" and ")
        )
    });
    Verdict::pass(format!("no function {wanted} {}", facts.looked_in(schema))).with_warning(warning)
}

/// Whether a trigger's function is the one the plan names: `schema.name` exactly, or a bare
/// name as the first function of that name on the search path.
fn same_function(facts: &Facts<'_>, expected: &str, actual: &(String, String)) -> bool {
    match expected.rsplit_once('.') {
        Some((schema, name)) => schema == actual.0 && name == actual.1,
        None => {
            expected == actual.1
                && facts
                    .first_on_path(
                        facts
                            .schema
                            .functions
                            .iter()
                            .filter(|f| f.name == expected)
                            .map(|f| f.schema.as_str()),
                    )
                    .is_none_or(|first| first == actual.0)
        }
    }
}

pub(super) fn trigger_exists(facts: &Facts<'_>, spec: &TriggerSpec) -> Verdict {
    let relation = match facts.resolve(spec.schema.as_deref(), &spec.table) {
        Resolved::Relation(relation) => relation,
        Resolved::Nothing => {
            let evidence = facts.missing_table(spec.schema.as_deref(), &spec.table);
            return Verdict::fail(format!("trigger {} missing: {evidence}", spec.name));
        }
    };
    let table = facts.shown(relation);
    let Some(trigger) = relation.triggers.iter().find(|t| t.name == spec.name) else {
        let others: Vec<&str> = relation.triggers.iter().map(|t| t.name.as_str()).collect();
        return Verdict::fail(if others.is_empty() {
            format!("no trigger {} on {table}; it has no triggers", spec.name)
        } else {
            format!(
                "no trigger {} on {table}; triggers: {}",
                spec.name,
                others.join(", ")
            )
        });
    };
    let function = trigger
        .function
        .as_ref()
        .map(|(schema, name)| facts.display(schema, name));
    let mut problems = Vec::new();
    if let Some(expected) = &spec.function {
        match &trigger.function {
            Some(actual) if same_function(facts, expected, actual) => {}
            _ => problems.push(format!(
                "runs {}, expected {expected}",
                function.clone().unwrap_or_else(|| "no function".into())
            )),
        }
    }
    if let Some(enabled) = spec.enabled
        && enabled != trigger.enabled
    {
        problems.push(if trigger.enabled {
            "is enabled, expected disabled".to_string()
        } else {
            "is DISABLED, expected enabled".to_string()
        });
    }
    let runs = function.map(|f| format!(" runs {f}()")).unwrap_or_default();
    if problems.is_empty() {
        Verdict::pass(format!(
            "trigger {} on {table}{runs}{}",
            trigger.name,
            if trigger.enabled { "" } else { " (disabled)" }
        ))
    } else {
        Verdict::fail(format!(
            "trigger {} on {table} {}",
            trigger.name,
            problems.join(", ")
        ))
    }
}

pub(super) fn trigger_absent(facts: &Facts<'_>, spec: &TriggerSpec) -> Verdict {
    let schema = spec.schema.as_deref();
    // Views and foreign tables have triggers too (INSTEAD OF): any relation the name means.
    match facts.resolve(schema, &spec.table) {
        Resolved::Relation(relation) => {
            match relation.triggers.iter().find(|t| t.name == spec.name) {
                Some(trigger) => Verdict::fail(format!(
                    "trigger {} still on {}{}",
                    trigger.name,
                    facts.shown(relation),
                    if trigger.enabled {
                        ""
                    } else {
                        " (disabled, but there)"
                    }
                )),
                None => Verdict::pass(format!(
                    "no trigger {} on the {} {}",
                    spec.name,
                    relation.kind.noun(),
                    facts.shown(relation)
                )),
            }
        }
        Resolved::Nothing => {
            let (evidence, warning) = facts.absent(schema, &spec.table);
            Verdict::pass(format!(
                "trigger {} is gone with its table: {evidence}",
                spec.name
            ))
            .with_warning(warning)
        }
    }
}
