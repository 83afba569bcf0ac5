//! `remtrack check`: one refresh, one report, an exit code a script can act on.

use std::io::Write as _;
use std::path::Path;

use super::{Format, LimitArgs, ReportArgs, exit};
use crate::check::{Refresh, Target, judge_code_only, refresh_with};
use crate::plan::{Plan, load_plan};
use crate::report::{Report, render_junit, render_markdown, render_text};
use crate::status::{Marks, derive};
use crate::store::{Event, Store, StoreLocation, to_status_marks};

pub async fn run(args: &super::CheckArgs) -> u8 {
    let plan = match load_plan(&args.plan) {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("{}", crate::printable::printable(&error.to_string()));
            return exit::BAD_INPUT;
        }
    };
    if args.code_only {
        return code_only_report(&plan, &args.plan, &args.report, &args.limits);
    }
    let Some(url) = &args.database_url else {
        eprintln!(
            "remtrack: no database to check: set DATABASE_URL or pass --database-url \
             (postgres://user@host/db or sqlite:path.db; or try the embedded demo: remtrack demo)"
        );
        return exit::BAD_INPUT;
    };
    let store = args.store.location(&args.plan);
    check_and_report(
        &plan,
        &args.plan,
        url,
        Some(&store),
        &args.report,
        &args.limits,
    )
    .await
}

/// Checks `plan` against the database at `url` and prints the report; returns the exit code.
pub(crate) async fn check_and_report(
    plan: &Plan,
    plan_file: &Path,
    url: &str,
    store: Option<&StoreLocation>,
    report_args: &ReportArgs,
    limits: &LimitArgs,
) -> u8 {
    let target = match Target::open_with(url, limits.limits(), limits.search_path(plan)) {
        Ok(target) => target,
        Err(error) => {
            eprintln!(
                "remtrack: {}",
                crate::printable::printable(&error.to_string())
            );
            return exit::BAD_INPUT;
        }
    };
    let refreshed = refresh_with(plan, &target, &limits.code_source(plan, plan_file)).await;
    target.close().await;
    let refreshed = match refreshed {
        Ok(refreshed) => refreshed,
        Err(error) => {
            eprintln!(
                "remtrack: {}",
                crate::printable::one_line(&error.to_string())
            );
            return exit::UNREACHABLE;
        }
    };
    let (marks, events) = match store {
        Some(store) => read_history(plan, store, url).await,
        None => (Marks::new(), Vec::new()),
    };
    let status = derive(plan, Some(&refreshed.verdicts), &marks);
    let report = Report::build(
        plan,
        &plan_file.display().to_string(),
        target.display_url(),
        &refreshed,
        &status,
        &marks,
    )
    .with_backend(target.backend())
    .with_last_applies(&events, url);
    print_report(&report, report_args);
    exit_code(&status, report_args)
}

/// `check --code-only`: the code checks alone, no database needed; every database check says
/// it was not read, so its task is unknown, never done.
fn code_only_report(
    plan: &Plan,
    plan_file: &Path,
    report_args: &ReportArgs,
    limits: &LimitArgs,
) -> u8 {
    let started = std::time::Instant::now();
    let code = limits.code_source(plan, plan_file);
    // A code repository's CI answers for the code work: the tasks whose checks all read the
    // code, their dependencies on other work set aside (it cannot judge those).
    let mut code_plan = plan.clone();
    code_plan.tasks.retain(crate::plan::Task::is_code_work);
    let kept: Vec<String> = code_plan.tasks.iter().map(|t| t.id.clone()).collect();
    for task in &mut code_plan.tasks {
        task.depends_on.retain(|dep| kept.contains(dep));
    }
    code_plan.risks.clear();
    if code_plan.tasks.is_empty() {
        eprintln!(
            "remtrack: no task in {} reads only the code (code_absent, code_present, path_exists, path_absent): nothing to check without a database",
            plan_file.display()
        );
        return exit::BAD_INPUT;
    }
    let plan = &code_plan;
    let verdicts = judge_code_only(plan, &code, "--code-only reads no database");
    let refreshed = Refresh {
        verdicts,
        checked_at: time::OffsetDateTime::now_utc(),
        duration: started.elapsed(),
        queries: 0,
        search_path: Default::default(),
    };
    let marks = Marks::new();
    let status = derive(plan, Some(&refreshed.verdicts), &marks);
    let report = Report::build(
        plan,
        &plan_file.display().to_string(),
        "(none: --code-only)",
        &refreshed,
        &status,
        &marks,
    );
    print_report(&report, report_args);
    exit_code(&status, report_args)
}

pub(crate) fn exit_code(status: &crate::status::PlanStatus, report_args: &ReportArgs) -> u8 {
    if status.overclaimed().next().is_some() || (report_args.strict && !status.all_done()) {
        exit::NOT_DONE
    } else {
        exit::OK
    }
}

/// The report in one of the four formats.
pub(crate) fn render_report(report: &Report, format: Format) -> String {
    match format {
        Format::Text => render_text(report),
        Format::Json => serde_json::to_string_pretty(report).unwrap_or_default() + "\n",
        Format::Junit => render_junit(report),
        Format::Markdown => render_markdown(report),
    }
}

fn print_report(report: &Report, report_args: &ReportArgs) {
    let rendered = render_report(report, report_args.format);
    let written = if report_args.format == Format::Text {
        write!(anstream::stdout(), "{rendered}")
    } else {
        write!(std::io::stdout(), "{rendered}")
    };
    if let Err(error) = written
        && error.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("remtrack: cannot write the report: {error}");
    }
}

/// People's marks, and the events they come from (the report shows the last apply of each task
/// from them too). A read-only command creates no store; one that cannot be read costs the
/// report its verifications and applies, not its verdicts, and says so.
async fn read_history(
    plan: &Plan,
    location: &StoreLocation,
    database: &str,
) -> (Marks, Vec<Event>) {
    let events = match Store::open_existing(location).await {
        Ok(Some(store)) => {
            let events = store.events(None).await;
            store.close().await;
            events
        }
        Ok(None) => return (Marks::new(), Vec::new()),
        Err(error) => Err(error),
    };
    match events {
        Ok(events) => (to_status_marks(plan, &events, database), events),
        Err(error) => {
            eprintln!(
                "remtrack: warning: {error}; verifications and applies are left out of this report"
            );
            (Marks::new(), Vec::new())
        }
    }
}
