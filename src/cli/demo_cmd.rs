//! `remtrack demo`: the seed report's reality in a fresh SQLite database, checked against the plan.

use std::path::{Path, PathBuf};

use std::io::IsTerminal as _;

use super::check_cmd::check_and_report;
use super::exit;
use super::tui_cmd::open_tracker;
use crate::demo::{SHIPPED_PLAN, build_demo_database};
use crate::plan::{load_plan, parse_plan};
use crate::store::StoreLocation;

/// How to open a kept demo again, from any folder: every path absolute, and the plan named (the
/// built-in one has no file, so the hint says how to write it out).
fn reopen_hint(
    args: &super::DemoArgs,
    db_path: &Path,
    store: &StoreLocation,
    code_root: &Path,
) -> String {
    let absolute = |path: &Path| {
        std::path::absolute(path)
            .unwrap_or_else(|_| path.to_path_buf())
            .display()
            .to_string()
    };
    let plan = match &args.plan {
        Some(file) => absolute(file),
        None => "plan.json   (the built-in plan: remtrack plan example > plan.json)".into(),
    };
    let store = match store {
        StoreLocation::Sqlite(path) => absolute(path),
        StoreLocation::Postgres(_) => store.display(),
    };
    format!(
        "remtrack: open it again from any folder with:\n  remtrack --database-url sqlite:{} --store {store} --code-root {} --plan {plan}",
        absolute(db_path),
        absolute(code_root)
    )
}

pub async fn run(args: &super::DemoArgs) -> u8 {
    let (plan, plan_name) = match &args.plan {
        Some(file) => (load_plan(file), file.clone()),
        None => (
            parse_plan(SHIPPED_PLAN.as_bytes(), Path::new("plan.json (built in)")),
            PathBuf::from("plan.json (built in)"),
        ),
    };
    let plan = match plan {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("{}", crate::printable::printable(&error.to_string()));
            return exit::BAD_INPUT;
        }
    };
    // The temporary directory lives until the report is printed, then is removed.
    let temporary = match &args.db {
        Some(_) => None,
        None => match tempfile::Builder::new().prefix("remtrack-demo-").tempdir() {
            Ok(dir) => Some(dir),
            Err(error) => {
                eprintln!("remtrack: cannot create a temporary directory for the demo: {error}");
                return exit::BAD_INPUT;
            }
        },
    };
    let db_path = match (&args.db, &temporary) {
        (Some(path), _) => path.clone(),
        (None, Some(dir)) => dir.path().join("demo.db"),
        (None, None) => return exit::BAD_INPUT,
    };
    let url = match build_demo_database(&db_path).await {
        Ok(url) => url,
        Err(error) => {
            eprintln!("remtrack: {error}");
            return exit::BAD_INPUT;
        }
    };
    // The code beside it, as the report found it; the plan's code checks read it unless the
    // person names other code.
    let code_root = crate::demo::code::beside(&db_path);
    if let Err(error) = crate::demo::code::lay_out(&code_root) {
        eprintln!("remtrack: cannot lay out the demo's code: {error}");
        return exit::BAD_INPUT;
    }
    let mut limits = args.limits.clone();
    if limits.code_root.is_none() {
        limits.code_root = Some(code_root.clone());
    }
    if args.db.is_some() {
        eprintln!(
            "remtrack: demo database created at {}, its code at {}",
            db_path.display(),
            code_root.display()
        );
    }
    let on_terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if on_terminal && !args.check && args.report.format == super::Format::Text {
        let scratch = temporary
            .as_ref()
            .map_or_else(|| db_path.with_extension("d"), |d| d.path().to_path_buf());
        let store = match &args.store.store {
            Some(store) => StoreLocation::parse(store),
            None => StoreLocation::beside_plan(&db_path),
        };
        let tui_args = super::TuiArgs {
            plan: plan_name.clone(),
            database_url: Some(url.clone()),
            refresh: args.refresh,
            ascii: args.ascii,
            store: args.store.clone(),
            actor: args.actor.clone(),
            limits: limits.clone(),
            // The demo's database is its own throwaway copy: `--fixes` lets `p` and `a` run the
            // plan's fixes on it.
            apply_url: args.fixes.then(|| url.clone()),
        };
        let log_dir = match &store {
            StoreLocation::Sqlite(path) => path.parent().map_or(scratch.clone(), Path::to_path_buf),
            StoreLocation::Postgres(_) => scratch.clone(),
        };
        let code = open_tracker(
            plan,
            args.plan.as_deref(),
            &url,
            store.clone(),
            &log_dir,
            &tui_args,
        )
        .await;
        if temporary.is_some() && args.store.store.is_none() {
            eprintln!(
                "remtrack: the demo's database and marks were temporary and are gone; \
                 keep them with --db FILE (marks go beside it) or --store FILE"
            );
        } else {
            eprintln!("remtrack: demo marks are kept in {}", store.display());
        }
        if args.db.is_some() {
            eprintln!("{}", reopen_hint(args, &db_path, &store, &code_root));
        }
        return code;
    }
    let store = args
        .store
        .store
        .as_deref()
        .map(crate::store::StoreLocation::parse);
    let code = check_and_report(
        &plan,
        &plan_name,
        &url,
        store.as_ref(),
        &args.report,
        &limits,
    )
    .await;
    if args.db.is_some() {
        let store = store.unwrap_or_else(|| StoreLocation::beside_plan(&db_path));
        eprintln!("{}", reopen_hint(args, &db_path, &store, &code_root));
    }
    code
}
