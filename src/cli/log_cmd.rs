//! `remtrack log`: the verification history, newest first: marks, and fixes applied, failed,
//! approved and asked for, in plain words.

use std::io::Write as _;

use super::{LogArgs, LogFormat, exit};
use crate::identity::database_identity;
use crate::plan::load_plan;
use crate::printable::{one_line, printable};
use crate::store::{Event, EventKind, Store, fix_event_words, task_fingerprint, utc_text};

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
                if let Some(words) = fix_event_words(event, false) {
                    out.push_str(&format!(
                        "{}  {}{key}\n",
                        utc_text(event.at),
                        one_line(&words)
                    ));
                    for line in fix_event_details(event) {
                        out.push_str(&format!("    {}\n", printable(&line)));
                    }
                    continue;
                }
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

/// What a fix event's line leaves out: the database it was for (applies are per database), and
/// the note's lines its sentence did not already say.
fn fix_event_details(event: &Event) -> Vec<String> {
    let mut details = Vec::new();
    if let Some(url) = event.evidence.get("database").and_then(|d| d.as_str()) {
        details.push(format!("on {}", database_identity(url)));
    }
    let reason = event
        .evidence
        .get("reason")
        .and_then(|r| r.as_str())
        .map(str::trim)
        .filter(|r| !r.is_empty());
    // The sentence took the note's first line; a failure's note restates its reason ("not
    // applied (…)"), which the sentence says already.
    let sentence_has_first_line = match event.kind {
        EventKind::Approved | EventKind::ApprovalRequested => true,
        EventKind::ApplyFailed => reason.is_none_or(|reason| event.note.contains(reason)),
        _ => false,
    };
    let mut lines = event.note.lines().skip_while(|line| line.trim().is_empty());
    if sentence_has_first_line {
        lines.next();
    }
    details.extend(lines.map(str::to_string));
    details
}
