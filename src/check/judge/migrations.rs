//! Migration files against the registry: every revision of the files applied, and a revision
//! applied when it is recorded or an ancestor of a recorded one (Alembic keeps only heads).

use super::Facts;
use super::data::{Unrecorded, recorded};
use crate::check::Verdict;
use crate::check::code::CodeFacts;
use crate::check::migrations::Graph;
use crate::plan::{DEFAULT_MIGRATION_COLUMN, MigrationTool, MigrationVersion, MigrationsApplied};

/// `migrations_applied`: the closure of what the registry records covers every revision of the
/// files, and the registry records nothing the files do not know.
pub fn migrations_applied(
    facts: &Facts<'_>,
    code: &CodeFacts,
    spec: &MigrationsApplied,
) -> Verdict {
    if spec.tool == MigrationTool::GolangMigrate {
        return golang_migrate(facts, code, spec);
    }
    let graph = match graph(code, spec.tool, &spec.dir) {
        Ok(graph) => graph,
        Err(why) => return Verdict::error(why),
    };
    let total = graph.revisions.len();
    let heads = graph.heads();
    let (table_name, rows) = match recorded(
        facts,
        spec.schema.as_deref(),
        spec.registry_table(),
        DEFAULT_MIGRATION_COLUMN,
    ) {
        Ok(found) => found,
        Err(Unrecorded::Missing(evidence)) => {
            return Verdict::fail(format!(
                "none of the {total} revisions is applied: {evidence}"
            ));
        }
        Err(Unrecorded::Unreadable(why)) => return Verdict::error(why),
    };
    let applied = graph.closure(rows.iter().map(String::as_str));
    let mut pending: Vec<&str> = graph
        .revisions
        .keys()
        .map(String::as_str)
        .filter(|id| !applied.contains(id))
        .collect();
    pending.sort_by_key(|id| (graph.depth(id), *id));
    let unknown: Vec<&str> = rows
        .iter()
        .map(String::as_str)
        .filter(|row| !graph.revisions.contains_key(*row))
        .collect();
    let at = if rows.is_empty() {
        format!("{table_name} is empty")
    } else {
        format!("database at {}", rows.join(", "))
    };
    let heads_note = if heads.len() > 1 {
        format!(
            "; the files have {} heads: {}",
            heads.len(),
            heads.join(", ")
        )
    } else {
        String::new()
    };
    let verdict = if pending.is_empty() && unknown.is_empty() {
        Verdict::pass(format!("all {total} revisions applied · {at}{heads_note}"))
    } else {
        let mut parts = Vec::new();
        if !pending.is_empty() {
            let listed: Vec<String> = pending
                .iter()
                .map(|id| {
                    let head = if heads.contains(id) { " (head)" } else { "" };
                    format!("{id}{head} {}", graph.revisions[*id].file)
                })
                .collect();
            parts.push(format!(
                "{} of {total} revisions not applied: {}",
                pending.len(),
                listed.join(", ")
            ));
        }
        if !unknown.is_empty() {
            parts.push(format!(
                "{} recorded in {table_name} but not in the files (older code, or a deleted file)",
                unknown.join(", ")
            ));
        }
        Verdict::fail(format!("{} · {at}{heads_note}", parts.join("; ")))
    };
    verdict
        .with_fact("pending", pending.clone())
        .with_fact("unknown", unknown.clone())
        .with_fact("heads", heads.clone())
        .with_fact("recorded", rows.clone())
}

/// `migration_version` with `dir`: the revision is applied when the registry records it or a
/// revision after it.
pub fn migration_version_in_files(
    facts: &Facts<'_>,
    code: &CodeFacts,
    spec: &MigrationVersion,
    dir: &str,
) -> Verdict {
    let graph = match graph(code, MigrationTool::Alembic, dir) {
        Ok(graph) => graph,
        Err(why) => return Verdict::error(why),
    };
    let revision = spec.revision.as_str();
    if !graph.revisions.contains_key(revision) {
        return Verdict::error(format!(
            "revision {revision} is not among the files in {dir}"
        ));
    }
    let (table_name, rows) = match recorded(
        facts,
        spec.schema.as_deref(),
        spec.migration_table(),
        spec.migration_column(),
    ) {
        Ok(found) => found,
        Err(Unrecorded::Missing(evidence)) => {
            return Verdict::fail(format!("revision {revision} not recorded: {evidence}"));
        }
        Err(Unrecorded::Unreadable(why)) => return Verdict::error(why),
    };
    let applied = graph.closure(rows.iter().map(String::as_str));
    let verdict = if rows.iter().any(|row| row == revision) {
        Verdict::pass(format!(
            "revision {revision} applied ({table_name}: {})",
            rows.join(", ")
        ))
    } else if applied.contains(revision) {
        Verdict::pass(format!(
            "revision {revision} applied: {table_name} records {}, which comes after it",
            rows.join(", ")
        ))
    } else if rows.is_empty() {
        Verdict::fail(format!(
            "revision {revision} not applied; {table_name} is empty"
        ))
    } else {
        Verdict::fail(format!(
            "revision {revision} not applied; {table_name} holds {}, which does not come after it",
            rows.join(", ")
        ))
    };
    verdict.with_fact("versions", rows.clone())
}

fn graph<'a>(code: &'a CodeFacts, tool: MigrationTool, dir: &str) -> Result<&'a Graph, String> {
    code.root.as_ref().map_err(Clone::clone)?;
    match code.migrations.get(&(tool, dir.to_string())) {
        Some(Ok(graph)) => Ok(graph),
        Some(Err(why)) => Err(why.clone()),
        None => Err(format!("the migration files in {dir} were not read")),
    }
}

/// golang-migrate: one `schema_migrations` row, `version` and `dirty`. Applied when it is not
/// dirty and its version is the last of the files; a dirty row is a failure of its own (a
/// migration stopped halfway and the tool will not go on until someone forces the version).
fn golang_migrate(facts: &Facts<'_>, code: &CodeFacts, spec: &MigrationsApplied) -> Verdict {
    let graph = match graph(code, spec.tool, &spec.dir) {
        Ok(graph) => graph,
        Err(why) => return Verdict::error(why),
    };
    let total = graph.revisions.len();
    let table = spec.registry_table();
    let schema = spec.schema.as_deref();
    let (table_name, versions) = match recorded(facts, schema, table, "version") {
        Ok(found) => found,
        Err(Unrecorded::Missing(evidence)) => {
            return Verdict::fail(format!(
                "none of the {total} migrations is applied: {evidence}"
            ));
        }
        Err(Unrecorded::Unreadable(why)) => return Verdict::error(why),
    };
    let dirty = match recorded(facts, schema, table, "dirty") {
        // PostgreSQL's boolean as text, or SQLite's 0/1.
        Ok((_, values)) => values
            .iter()
            .any(|v| matches!(v.as_str(), "true" | "t" | "1")),
        Err(Unrecorded::Missing(evidence) | Unrecorded::Unreadable(evidence)) => {
            return Verdict::error(evidence);
        }
    };
    let Some(version) = versions.first() else {
        return Verdict::fail(format!(
            "none of the {total} migrations is applied: {table_name} is empty"
        ));
    };
    let version = version.trim_start_matches('0');
    let version = if version.is_empty() { "0" } else { version };
    if dirty {
        return Verdict::fail(format!(
            "{table_name} is dirty at version {version}: that migration stopped halfway; fix the \
             database, then force the version"
        ))
        .with_fact("dirty", true);
    }
    if !graph.revisions.contains_key(version) {
        return Verdict::fail(format!(
            "{table_name} records version {version}, which no file in {} has (older code, or a \
             deleted file)",
            spec.dir
        ));
    }
    let applied = graph.closure([version]);
    let mut pending: Vec<&str> = graph
        .revisions
        .keys()
        .map(String::as_str)
        .filter(|id| !applied.contains(id))
        .collect();
    pending.sort_by_key(|id| id.parse::<u128>().unwrap_or(u128::MAX));
    if pending.is_empty() {
        Verdict::pass(format!(
            "all {total} migrations applied · database at version {version}"
        ))
    } else {
        let listed: Vec<String> = pending
            .iter()
            .map(|id| graph.revisions[*id].file.clone())
            .collect();
        Verdict::fail(format!(
            "{} of {total} migrations not applied: {} · database at version {version}",
            pending.len(),
            listed.join(", ")
        ))
        .with_fact("pending", pending.clone())
    }
}
