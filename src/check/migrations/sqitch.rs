//! sqitch's plan file: `%project=` and the changes in order (`name [deps] timestamp planner
//! <email> # note`), `@tag` lines, and reworked changes (a name that comes again after a tag).
//! Deployed changes are matched to the registry by project and name, instance by instance.

use std::path::Path;

/// One change of the plan, in deploy order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub name: String,
    /// Which instance of its name this is (1 for the first; 2 for its first rework, …).
    pub instance: usize,
    /// `file:line` of its line in the plan.
    pub at: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SqitchPlan {
    pub project: String,
    pub changes: Vec<Change>,
}

/// The plan at `dir/sqitch.plan` (or `dir` itself when it names the plan file) under `root`.
pub fn read(root: &Path, dir: &str) -> Result<SqitchPlan, String> {
    let trimmed = dir.trim_end_matches('/');
    let (file, shown) = if trimmed.ends_with(".plan") {
        (root.join(trimmed), trimmed.to_string())
    } else {
        (
            root.join(trimmed).join("sqitch.plan"),
            format!("{trimmed}/sqitch.plan"),
        )
    };
    let meta = file
        .symlink_metadata()
        .map_err(|error| format!("{shown} cannot be read: {error}"))?;
    if meta.file_type().is_symlink() || !meta.is_file() {
        return Err(format!(
            "{shown} is not a file (symbolic links are not followed)"
        ));
    }
    match file.canonicalize() {
        Ok(resolved) if resolved.starts_with(root) => {}
        _ => return Err(format!("{shown} leads outside the code root")),
    }
    let text = std::fs::read_to_string(&file)
        .map_err(|error| format!("{shown} cannot be read: {error}"))?;
    parse(&text, &shown)
}

fn parse(text: &str, shown: &str) -> Result<SqitchPlan, String> {
    let mut plan = SqitchPlan::default();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('@') {
            continue;
        }
        if let Some(pragma) = line.strip_prefix('%') {
            // `%project=flipr`, spaces allowed around the `=`.
            if let Some((key, value)) = pragma.split_once('=')
                && key.trim() == "project"
            {
                plan.project = value.trim().to_string();
            }
            continue;
        }
        let token = line.split_whitespace().next().unwrap_or_default();
        let reverted = token.starts_with('-');
        let name = token.trim_start_matches(['+', '-']);
        if name.is_empty() || name.contains(['[', ']', '<', '>']) {
            return Err(format!("{shown}:{}: expected a change name", number + 1));
        }
        // `-name` reverts the change at that point of the plan: it is no longer to deploy.
        if reverted {
            if let Some(at) = plan.changes.iter().rposition(|c| c.name == name) {
                plan.changes.remove(at);
                if let Some(count) = seen.get_mut(name) {
                    *count -= 1;
                }
            }
            continue;
        }
        let instance = seen.entry(name.to_string()).or_insert(0);
        *instance += 1;
        plan.changes.push(Change {
            name: name.to_string(),
            instance: *instance,
            at: format!("{shown}:{}", number + 1),
        });
    }
    if plan.project.is_empty() {
        return Err(format!("{shown}: no %project= line"));
    }
    if plan.changes.is_empty() {
        return Err(format!(
            "{shown}: no change: a migrations check of nothing proves nothing"
        ));
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_tags_and_reworks_are_read_in_order() {
        let plan = parse(
            "%syntax-version=1.0.0\n%project=flipr\n%uri=https://example.com/\n\n\
             users 2024-01-01T00:00:00Z Ana <ana@example.com> # users\n\
             flows [users] 2024-01-02T00:00:00Z Ana <ana@example.com> # flows\n\
             @v1.0 2024-01-03T00:00:00Z Ana <ana@example.com> # tag\n\n\
             flows [flows@v1.0] 2024-01-04T00:00:00Z Ana <ana@example.com> # reworked\n",
            "db/sqitch.plan",
        )
        .unwrap();
        assert_eq!(plan.project, "flipr");
        let names: Vec<(&str, usize)> = plan
            .changes
            .iter()
            .map(|c| (c.name.as_str(), c.instance))
            .collect();
        assert_eq!(names, [("users", 1), ("flows", 1), ("flows", 2)]);
        assert_eq!(plan.changes[2].at, "db/sqitch.plan:9");
        assert!(
            parse("users 2024 Ana <a@b>\n", "p")
                .unwrap_err()
                .contains("no %project=")
        );
    }
}
