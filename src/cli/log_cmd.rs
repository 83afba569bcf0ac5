//! `remtrack log`: the verification history, newest first.

use std::io::Write as _;

use super::{LogArgs, LogFormat, exit};
use crate::plan::load_plan;
use crate::printable::{one_line, printable};
use crate::store::{EventKind, Store, task_fingerprint, utc_text};

pub async fn run(args: &LogArgs) -> u8 {
    // The plan is optional here: without it the history still prints, only staleness is unknown.
    let plan = load_plan(&args.plan).ok();
    let location = args.store.location(&args.plan);
    let store = match Store::open_existing(&location).await {
        Ok(Some(store)) => store,
        Ok(None) => {
            if args.format == LogFormat::Json {
                println!("[]");
            } else {
                println!(
                    "no verifications recorded yet (store: {})",
                    location.display()
                );
            }
            return exit::OK;
        }
        Err(error) => {
            eprintln!("remtrack: {error}");
            return exit::UNREACHABLE;
        }
    };
    let events = store.events(args.task.as_deref()).await;
    store.close().await;
    let mut events = match events {
        Ok(events) => events,
        Err(error) => {
            eprintln!("remtrack: {error}");
            return exit::UNREACHABLE;
        }
    };
    // No history for an id the plan does not know is a typo (a task removed from the plan keeps
    // its events); `find_task` says so and names the nearest id.
    if let (Some(task), Some(plan)) = (&args.task, &plan)
        && events.is_empty()
        && super::mark_cmd::find_task(plan, task).is_none()
    {
        return exit::BAD_INPUT;
    }
    events.reverse();
    let mut out = String::new();
    match args.format {
        LogFormat::Json => {
            out = serde_json::to_string_pretty(&events).unwrap_or_default() + "\n";
        }
        LogFormat::Text => {
            if events.is_empty() {
                out.push_str("no verifications recorded yet\n");
            }
            for event in &events {
                let stale = plan
                    .as_ref()
                    .and_then(|plan| plan.task(&event.task_id))
                    .is_some_and(|task| {
                        event.kind == EventKind::Verified
                            && task_fingerprint(task) != event.fingerprint
                    });
                // Marks made over `remtrack serve` say which key made them.
                let key = event
                    .evidence
                    .get("ssh_key")
                    .and_then(|key| key.as_str())
                    .map(|key| format!(" (key {})", one_line(key)))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "{}  {:<10}  {}  by {}{key}{}\n",
                    utc_text(event.at),
                    event.kind.as_str(),
                    one_line(&event.task_id),
                    one_line(&event.actor),
                    if stale {
                        "  (stale: the checks changed since)"
                    } else {
                        ""
                    }
                ));
                for line in event.note.lines() {
                    out.push_str(&format!("    {}\n", printable(line)));
                }
            }
        }
    }
    if let Err(error) = std::io::stdout().write_all(out.as_bytes())
        && error.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("remtrack: cannot write the log: {error}");
    }
    exit::OK
}
