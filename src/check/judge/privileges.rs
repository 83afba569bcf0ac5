//! `privilege`: what a role may do to a table, sequence, function or schema, as PostgreSQL's
//! `has_*_privilege` answers it (grants to the role, to roles it belongs to, and to PUBLIC).

use super::Facts;
use crate::check::Verdict;
use crate::check::facts::{Grant, RelationKind, Resolved};
use crate::plan::{PrivilegeObject, PrivilegeSpec};

pub(super) fn privilege(facts: &Facts<'_>, spec: &PrivilegeSpec) -> Verdict {
    let (object, name, qualifier) = spec.object();
    let public = spec.role.eq_ignore_ascii_case("public");
    let role = if public { "public" } else { spec.role.as_str() };
    if !public && !facts.schema.roles.iter().any(|r| r == role) {
        return Verdict::error(format!("role {} does not exist", spec.role));
    }
    let asked = spec.privilege_names();
    // The objects the name means, and how they are shown.
    let targets: Vec<(String, String, String)> = match object {
        PrivilegeObject::Table | PrivilegeObject::Sequence => {
            match facts.resolve(qualifier, name) {
                Resolved::Relation(relation) => {
                    let fits = match object {
                        PrivilegeObject::Sequence => relation.kind == RelationKind::Sequence,
                        _ => {
                            relation.kind != RelationKind::Sequence
                                && relation.kind.is_readable_kind()
                        }
                    };
                    if !fits {
                        return Verdict::fail(format!(
                            "{name} is the {} {}, not a {}",
                            relation.kind.noun(),
                            facts.shown(relation),
                            object.noun()
                        ));
                    }
                    vec![(
                        relation.schema.clone(),
                        relation.name.clone(),
                        facts.shown(relation),
                    )]
                }
                Resolved::Nothing => {
                    return Verdict::fail(format!(
                        "no {} {name} {}",
                        object.noun(),
                        facts.looked_in(qualifier)
                    ));
                }
            }
        }
        PrivilegeObject::Function => {
            let of_role = || {
                facts
                    .schema
                    .grants
                    .iter()
                    .filter(|g| g.object == object && g.name == name && g.role == role)
            };
            // `has: true`: the schema the name resolves in, every overload there. `has:
            // false`: every overload on the path, since a call resolves across all of them.
            let first = match qualifier {
                Some(schema) => Some(schema),
                None => facts.first_on_path(of_role().map(|g| g.schema.as_str())),
            };
            let path = &facts.schema.search_path.effective;
            let mut schemas: Vec<String> = of_role()
                .filter(|g| match qualifier {
                    None if !spec.has => path.contains(&g.schema),
                    _ => Some(g.schema.as_str()) == first,
                })
                .map(|g| g.schema.clone())
                .collect();
            schemas.sort();
            schemas.dedup();
            if schemas.is_empty() {
                return Verdict::fail(format!("no function {name} {}", facts.looked_in(qualifier)));
            }
            schemas
                .into_iter()
                .map(|schema| {
                    (
                        schema.clone(),
                        name.to_string(),
                        facts.display(&schema, name),
                    )
                })
                .collect()
        }
        PrivilegeObject::Schema => {
            if !facts.schema.schemas.iter().any(|s| s.name == name) {
                return Verdict::fail(format!("no schema {name}"));
            }
            vec![(name.to_string(), name.to_string(), name.to_string())]
        }
    };
    let grants: Vec<&Grant> = facts
        .schema
        .grants
        .iter()
        .filter(|g| g.object == object && g.role == role)
        .filter(|g| {
            targets
                .iter()
                .any(|(schema, n, _)| &g.schema == schema && &g.name == n)
        })
        .collect();
    if grants.is_empty() {
        return Verdict::error(format!(
            "the privileges of {} on {} were not read in this refresh",
            spec.role, name
        ));
    }
    let mut problems = Vec::new();
    for grant in &grants {
        let shown = match &grant.signature {
            Some(args) => format!("{}({args})", facts.display(&grant.schema, &grant.name)),
            None => targets
                .iter()
                .find(|(schema, n, _)| &grant.schema == schema && &grant.name == n)
                .map(|(_, _, shown)| shown.clone())
                .unwrap_or_default(),
        };
        // For "cannot", a privilege held on some column counts as held.
        let holds =
            |p: &String| grant.held.contains(p) || (!spec.has && grant.on_some_column.contains(p));
        let wrong: Vec<&str> = asked
            .iter()
            .filter(|p| holds(p) != spec.has)
            .map(String::as_str)
            .collect();
        if !wrong.is_empty() {
            problems.push(if spec.has {
                format!(
                    "{} lacks {} on {} {shown}",
                    spec.role,
                    wrong.join(", "),
                    object.noun()
                )
            } else {
                let columns_only = wrong.iter().all(|p| !grant.held.iter().any(|h| h == p));
                format!(
                    "{} can {} on {}{} {shown} (owner {})",
                    spec.role,
                    wrong.join(", "),
                    if columns_only { "some columns of " } else { "" },
                    object.noun(),
                    grant.owner
                )
            });
        }
    }
    let objects: Vec<String> = targets.iter().map(|(_, _, shown)| shown.clone()).collect();
    if problems.is_empty() {
        Verdict::pass(format!(
            "{} {} {} on {} {}",
            spec.role,
            if spec.has { "has" } else { "lacks" },
            asked.join(", "),
            object.noun(),
            objects.join(", ")
        ))
    } else {
        Verdict::fail(problems.join("; "))
    }
}
