//! Whole-plan rules the shape cannot express: unique ids, references that resolve, no cycles.
//!
//! Runs on the raw JSON so that these problems are reported together with shape problems; parts
//! that are malformed were reported by the shape pass and are skipped here.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use super::issue::{JsonPath, PlanIssue, nearest};

pub(crate) fn check_references(plan: &Value, issues: &mut Vec<PlanIssue>) {
    let root = JsonPath::root();
    let mut report = |path: JsonPath, message: String| {
        issues.push(PlanIssue {
            path: path.as_str().to_string(),
            message,
        });
    };

    if let Some(version) = plan.get("version").and_then(Value::as_u64)
        && version != 1
    {
        report(
            root.field("version"),
            format!("format version {version} is not supported; this remtrack reads version 1"),
        );
    }

    let days = items(plan, "days");
    let mut day_numbers = HashMap::new();
    for (index, day) in &days {
        if let Some(number) = day.get("day").and_then(Value::as_u64) {
            let path = root.field("days").index(*index).field("day");
            if number == 0 {
                report(path.clone(), "days are numbered from 1".into());
            }
            if let Some(first) = day_numbers.insert(number, *index) {
                report(
                    path,
                    format!("day {number} is already defined at days[{first}]"),
                );
            }
        }
    }

    let phase_ids = unique_ids(&items(plan, "phases"), "phases", "phase", &mut report);
    let tasks = items(plan, "tasks");
    let task_ids = unique_ids(&tasks, "tasks", "task", &mut report);
    unique_ids(&items(plan, "risks"), "risks", "risk", &mut report);

    let phase_names: Vec<&str> = phase_ids.keys().copied().collect();
    let task_names: Vec<&str> = task_ids.keys().copied().collect();
    let mut check_ids: HashMap<&str, HashSet<&str>> = HashMap::new();

    for (index, task) in &tasks {
        let path = root.field("tasks").index(*index);
        if let Some(day) = task.get("day").and_then(Value::as_u64)
            && !day_numbers.contains_key(&day)
        {
            let known: Vec<String> = {
                let mut known: Vec<u64> = day_numbers.keys().copied().collect();
                known.sort_unstable();
                known.iter().map(u64::to_string).collect()
            };
            report(
                path.field("day"),
                format!(
                    "day {day} is not in \"days\" (defined: {})",
                    or_none(&known.join(", "))
                ),
            );
        }
        if let Some(phase) = task.get("phase").and_then(Value::as_str)
            && !phase_ids.contains_key(phase)
        {
            report(path.field("phase"), dangling("phase", phase, &phase_names));
        }
        for (dep_index, dep) in strings(task, "depends_on") {
            let dep_path = path.field("depends_on").index(dep_index);
            if Some(dep) == task.get("id").and_then(Value::as_str) {
                report(dep_path, "a task cannot depend on itself".into());
            } else if !task_ids.contains_key(dep) {
                report(dep_path, dangling("task", dep, &task_names));
            }
        }
        let ids = check_ids
            .entry(task.get("id").and_then(Value::as_str).unwrap_or_default())
            .or_default();
        let mut seen = HashMap::new();
        let guards = task.get("fix").map(|fix| (fix, "guards"));
        let check_lists = [
            (Some(*task), "checks", path.clone()),
            (guards.map(|(fix, _)| fix), "guards", path.field("fix")),
        ];
        for (owner, list, owner_path) in check_lists {
            let Some(owner) = owner else { continue };
            for (check_index, check) in items(owner, list) {
                if let Some(id) = check.get("id").and_then(Value::as_str) {
                    let check_path = owner_path.field(list).index(check_index).field("id");
                    if let Some(first) = seen.insert(id, check_path.as_str().to_string()) {
                        report(
                            check_path,
                            format!("check id \"{id}\" is already used in this task at {first}"),
                        );
                    }
                    ids.insert(id);
                }
            }
        }
    }

    for (index, risk) in items(plan, "risks") {
        for (watch_index, target) in strings(risk, "watch") {
            let path = root
                .field("risks")
                .index(index)
                .field("watch")
                .index(watch_index);
            let (task, check) = match target.split_once('/') {
                Some((task, check)) => (task, Some(check)),
                None => (target, None),
            };
            if !task_ids.contains_key(task) {
                report(path, dangling("task", task, &task_names));
            } else if let Some(check) = check
                && !check_ids.get(task).is_some_and(|ids| ids.contains(check))
            {
                let known: Vec<&str> = check_ids
                    .get(task)
                    .map(|ids| ids.iter().copied().collect())
                    .unwrap_or_default();
                let message = match nearest(check, &known) {
                    Some(near) => format!(
                        "task \"{task}\" has no check \"{check}\" (did you mean \"{near}\"?)"
                    ),
                    None => format!(
                        "task \"{task}\" has no check \"{check}\" (its checks: {})",
                        or_none(&known.join(", "))
                    ),
                };
                report(path, message);
            }
        }
    }

    for cycle in dependency_cycles(&tasks) {
        let (first_index, _) = cycle[0];
        let names: Vec<&str> = cycle.iter().map(|(_, id)| *id).collect();
        report(
            root.field("tasks").index(first_index).field("depends_on"),
            format!("dependency cycle: {} -> {}", names.join(" -> "), names[0]),
        );
    }
}

fn items<'a>(value: &'a Value, key: &str) -> Vec<(usize, &'a Value)> {
    value
        .get(key)
        .and_then(Value::as_array)
        .map(|list| list.iter().enumerate().collect())
        .unwrap_or_default()
}

fn strings<'a>(value: &'a Value, key: &str) -> Vec<(usize, &'a str)> {
    items(value, key)
        .into_iter()
        .filter_map(|(index, item)| item.as_str().map(|s| (index, s)))
        .collect()
}

/// Maps each id to its index, reporting repeats.
fn unique_ids<'a>(
    list: &[(usize, &'a Value)],
    list_name: &str,
    noun: &str,
    report: &mut impl FnMut(JsonPath, String),
) -> BTreeMap<&'a str, usize> {
    let mut ids = BTreeMap::new();
    for (index, item) in list {
        if let Some(id) = item.get("id").and_then(Value::as_str)
            && let Some(first) = ids.insert(id, *index)
        {
            ids.insert(id, first);
            report(
                JsonPath::root().field(list_name).index(*index).field("id"),
                format!("{noun} id \"{id}\" is already used at {list_name}[{first}]"),
            );
        }
    }
    ids
}

fn dangling(noun: &str, name: &str, known: &[&str]) -> String {
    match nearest(name, known) {
        Some(near) => format!("no {noun} \"{name}\" (did you mean \"{near}\"?)"),
        None => format!(
            "no {noun} \"{name}\" (defined: {})",
            or_none(&known.join(", "))
        ),
    }
}

fn or_none(list: &str) -> &str {
    if list.is_empty() { "none" } else { list }
}

/// Each dependency cycle once, as (task index, task id) in dependency order.
fn dependency_cycles<'a>(tasks: &[(usize, &'a Value)]) -> Vec<Vec<(usize, &'a str)>> {
    let index_of: HashMap<&str, usize> = tasks
        .iter()
        .filter_map(|(index, task)| Some((task.get("id")?.as_str()?, *index)))
        .collect();
    let edges: HashMap<&str, Vec<&str>> = tasks
        .iter()
        .filter_map(|(_, task)| {
            let id = task.get("id")?.as_str()?;
            let deps = strings(task, "depends_on")
                .into_iter()
                .map(|(_, dep)| dep)
                .filter(|dep| *dep != id);
            Some((id, deps.filter(|dep| index_of.contains_key(dep)).collect()))
        })
        .collect();

    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    let mut marks: HashMap<&str, Mark> = HashMap::new();
    let mut cycles = Vec::new();
    let mut order: Vec<&str> = index_of.keys().copied().collect();
    order.sort_by_key(|id| index_of[id]);

    for start in order {
        if marks.contains_key(start) {
            continue;
        }
        // Iterative depth-first search, so a long chain of dependencies cannot overflow the stack.
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        marks.insert(start, Mark::Visiting);
        while let Some((node, next_edge)) = stack.last().copied() {
            let deps = edges.get(node).map(Vec::as_slice).unwrap_or_default();
            if let Some(&dep) = deps.get(next_edge) {
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                match marks.get(dep) {
                    None => {
                        marks.insert(dep, Mark::Visiting);
                        stack.push((dep, 0));
                    }
                    Some(Mark::Visiting) => {
                        let from = stack.iter().position(|(id, _)| *id == dep).unwrap_or(0);
                        cycles.push(
                            stack[from..]
                                .iter()
                                .map(|(id, _)| (index_of[id], *id))
                                .collect(),
                        );
                    }
                    Some(Mark::Done) => {}
                }
            } else {
                marks.insert(node, Mark::Done);
                stack.pop();
            }
        }
    }
    cycles
}
