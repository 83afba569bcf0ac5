//! `remtrack demo`: the seed report's reality in a fresh SQLite database, checked against the plan.

use std::path::{Path, PathBuf};

use super::check_cmd::check_and_report;
use super::exit;
use crate::demo::{SHIPPED_PLAN, build_demo_database};
use crate::plan::{load_plan, parse_plan};

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
    if args.db.is_some() {
        eprintln!(
            "remtrack: demo database created at {} (check it again with --database-url {url})",
            db_path.display()
        );
    }
    // Until the interactive tracker lands, the demo shows the headless report either way.
    let _ = args.check;
    let store = args
        .store
        .store
        .as_deref()
        .map(crate::store::StoreLocation::parse);
    check_and_report(
        &plan,
        &plan_name,
        &url,
        store.as_ref(),
        &args.report,
        &args.limits,
    )
    .await
}
