//! Results from the engine and the store, applied to the app's state.

use super::{App, Connection, Mode};
use crate::engine::EngineUpdate;
use crate::store::{EventKind, to_status_marks};
use crate::tui::action::{Effect, Msg};

impl App {
    /// Applies a message from a background task.
    pub fn receive(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Engine(EngineUpdate::RefreshStarted { run }) => {
                if run > self.latest_run {
                    self.refreshing = true;
                }
            }
            Msg::Engine(EngineUpdate::RefreshFinished {
                run,
                plan,
                outcome,
                code_only,
                retry_in,
            }) => {
                // A newer refresh has already been shown: this one is stale. One of a plan
                // that was replaced since is of no use either: its verdicts are by position.
                if run <= self.latest_run || !std::sync::Arc::ptr_eq(&plan, &self.plan) {
                    return vec![];
                }
                self.latest_run = run;
                self.refreshing = false;
                match outcome.as_ref() {
                    Ok(refresh) => {
                        let was_offline = matches!(self.connection, Connection::Offline { .. });
                        let first = self.last_refresh.is_none() || self.verdicts_remembered;
                        let before = self.status.clone();
                        let refresh = std::sync::Arc::new(refresh.clone());
                        self.last_refresh = Some(refresh.clone());
                        self.code_checked_at = Some(self.now);
                        self.verdicts_remembered = false;
                        self.connection = Connection::Live;
                        self.rederive();
                        if was_offline {
                            self.log("database is back: checks are live again", true);
                        }
                        if first {
                            let done = self
                                .status
                                .tasks
                                .iter()
                                .filter(|t| t.status == crate::status::TaskStatus::Done)
                                .count();
                            let overclaimed = self.status.overclaimed().count();
                            self.log(
                                format!(
                                    "checked: {done} of {} tasks done, {overclaimed} overclaimed ({} ms)",
                                    self.plan.tasks.len(),
                                    refresh.duration.as_millis()
                                ),
                                overclaimed > 0,
                            );
                        }
                        self.log_changes(&before);
                        // The hub keeps the verdicts in the store, once for every view.
                        return self.resume_awaiting_dialog(None);
                    }
                    Err(error) => {
                        if let Some(code) = code_only {
                            self.take_code_verdicts(&code);
                        }
                        // The header names the database already; the log says which, too.
                        let mut reason = error.reason().to_string();
                        let retrying = if error.is_refused() {
                            reason.push_str(" · not retrying: r tries again");
                            "not retrying until you press r".to_string()
                        } else {
                            format!("retrying in {} s", retry_in.as_secs().max(1))
                        };
                        if self.connection
                            != (Connection::Offline {
                                reason: reason.clone(),
                            })
                        {
                            self.log(format!("offline: {error}; {retrying}"), true);
                        }
                        self.connection = Connection::Offline {
                            reason: reason.clone(),
                        };
                        return self.resume_awaiting_dialog(Some(reason));
                    }
                }
            }
            Msg::StoreLoaded(events) => {
                self.history = events;
                self.store_problem = None;
                self.remark();
            }
            Msg::StoreAppended(events) => {
                for event in events {
                    if self.history.iter().any(|known| known.id == event.id) {
                        continue;
                    }
                    let text = format!(
                        "{} {} {}{}",
                        event.actor,
                        kind_verb(event.kind),
                        event.task_id,
                        quoted_note(&event.note)
                    );
                    self.log_at(event.at, text, true);
                    self.history.push(event);
                }
                self.remark();
            }
            Msg::StoreFailed(reason) => {
                if self.store_problem.as_deref() != Some(reason.as_str()) {
                    self.log(
                        format!("verification store unavailable (read-only): {reason}"),
                        true,
                    );
                }
                self.store_problem = Some(reason);
            }
            Msg::MarkRecorded(event) => {
                self.drafts.remove(&event.task_id);
                if let Mode::Dialog(dialog) = &self.mode
                    && dialog.task_id == event.task_id
                {
                    self.mode = Mode::Normal;
                }
                self.notice = Some(format!("{} {}", kind_verb(event.kind), event.task_id));
                self.log(
                    format!(
                        "you {} {}{}",
                        kind_verb(event.kind),
                        event.task_id,
                        quoted_note(&event.note)
                    ),
                    false,
                );
                if !self.history.iter().any(|known| known.id == event.id) {
                    self.history.push(event);
                }
                self.remark();
            }
            Msg::MarkFailed { task_id, error } => {
                if let Mode::Dialog(dialog) = &mut self.mode
                    && dialog.task_id == task_id
                {
                    dialog.fail(error.clone());
                }
                self.log(
                    format!("mark on {task_id} NOT recorded: {error} (your note is kept)"),
                    true,
                );
            }
            Msg::Remembered {
                checked_at,
                verdicts,
            } => {
                // Kept for the plan the tracker started with, not for one reloaded since.
                if self.last_refresh.is_none()
                    && self.plan_generation == 0
                    && verdicts.tasks.len() == self.plan.tasks.len()
                {
                    self.last_refresh = Some(std::sync::Arc::new(crate::check::Refresh {
                        verdicts,
                        checked_at,
                        duration: std::time::Duration::ZERO,
                        queries: 0,
                        search_path: Default::default(),
                    }));
                    self.verdicts_remembered = true;
                    self.rederive();
                    self.log(
                        format!(
                            "showing the verdicts of {} (UTC), kept by the store, until the database answers",
                            crate::store::utc_text(checked_at)
                        ),
                        true,
                    );
                }
            }
            Msg::PlanFile(result) => return self.plan_file_changed(result),
            Msg::EditorClosed(Ok(())) => self.notice = Some("back from the editor".into()),
            Msg::EditorClosed(Err(why)) => {
                self.notice = Some(format!("the editor could not run: {why}"));
            }
            Msg::Roster(roster) => return self.roster_changed(roster),
            Msg::HostSaid(text) => {
                self.log(text.clone(), false);
                self.notice = Some(text);
            }
            Msg::Tick(now) => self.now = now,
            Msg::Resized { width, height } => self.size = (width, height),
            Msg::Drawn(drawn) => {
                self.scroll_limit = drawn.scroll_limit;
                self.detail_scroll = self.detail_scroll.min(drawn.scroll_limit);
                self.risk_cursor = self
                    .risk_cursor
                    .min(drawn.task_rows.len().saturating_sub(1));
                self.task_rows = drawn.task_rows;
                self.overlay_scroll_limit = drawn.overlay_scroll_limit;
                self.overlay_scroll = self.overlay_scroll.min(drawn.overlay_scroll_limit);
            }
        }
        vec![]
    }

    /// The database could not be read, the code could: the code checks' verdicts are live,
    /// the database checks keep what they last said (or say they were not read).
    fn take_code_verdicts(&mut self, code: &crate::check::Verdicts) {
        let mut merged = match &self.last_refresh {
            Some(last) => (**last).clone(),
            None => crate::check::Refresh {
                verdicts: code.clone(),
                checked_at: self.now,
                duration: std::time::Duration::ZERO,
                queries: 0,
                search_path: Default::default(),
            },
        };
        let plan = self.plan.clone();
        for ((task, old), new) in plan
            .tasks
            .iter()
            .zip(merged.verdicts.tasks.iter_mut())
            .zip(&code.tasks)
        {
            let checks = task
                .checks
                .iter()
                .zip(old.checks.iter_mut())
                .zip(&new.checks);
            let guards = task
                .fix
                .iter()
                .flat_map(|fix| fix.guards.iter())
                .zip(old.guards.iter_mut())
                .zip(&new.guards);
            for ((check, old), new) in checks.chain(guards) {
                if check.spec.is_code() {
                    *old = new.clone();
                }
            }
        }
        self.code_checked_at = Some(self.now);
        if self.last_refresh.as_deref() != Some(&merged) {
            self.last_refresh = Some(std::sync::Arc::new(merged));
            self.rederive();
        }
    }

    pub(super) fn remark(&mut self) {
        self.marks = to_status_marks(&self.plan, &self.history, &self.database);
        let here = crate::identity::database_identity(&self.database);
        self.made_elsewhere = self
            .history
            .iter()
            .zip(crate::store::event_databases(&self.history))
            .filter_map(|(event, there)| {
                let there = there?;
                (!there.is_empty() && there != here).then_some((event.id, there))
            })
            .collect();
        self.rederive();
    }

    /// Logs tasks whose status changed between two derivations.
    fn log_changes(&mut self, before: &crate::status::PlanStatus) {
        if self.latest_run <= 1 || before.tasks.len() != self.status.tasks.len() {
            return;
        }
        let changes: Vec<String> = self
            .plan
            .tasks
            .iter()
            .zip(before.tasks.iter().zip(&self.status.tasks))
            .filter(|(_, (old, new))| {
                old.status != new.status || old.verification != new.verification
            })
            .map(|(task, (old, new))| {
                let regressed = new.verification == Some(crate::status::Verification::Regressed);
                format!(
                    "{}: {} -> {}{}",
                    task.id,
                    old.status.as_str(),
                    new.status.as_str(),
                    if regressed {
                        " (REGRESSED: was verified)"
                    } else {
                        ""
                    }
                )
            })
            .collect();
        for change in changes {
            let important = change.contains("REGRESSED");
            self.log(change, important);
        }
    }
}

/// The note's first line, for the activity log: `: "checked in psql"`, or nothing.
fn quoted_note(note: &str) -> String {
    match note.lines().map(str::trim).find(|line| !line.is_empty()) {
        Some(line) => format!(": \"{line}\""),
        None => String::new(),
    }
}

pub(crate) fn kind_verb(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Verified => "verified",
        EventKind::Unverified => "unverified",
        EventKind::Note => "noted on",
    }
}
