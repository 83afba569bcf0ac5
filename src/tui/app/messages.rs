//! Results from the world outside the app: changes of the shared board (from the hub, or applied
//! here), and this view's own news; and how this view reacts to what a change meant.

use std::sync::Arc;

use super::{App, Mode};
use crate::engine::board::{Board, Input, News, Update};
use crate::store::EventKind;
use crate::tui::action::{Effect, Msg};

impl App {
    /// Applies a message from a background task.
    pub fn receive(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Board(Update { board, news }) => {
                // Never back to an older board (one seen again after a lag, or twice on joining).
                if self.board.seq > 0 && board.seq <= self.board.seq {
                    return vec![];
                }
                let old = std::mem::replace(&mut self.board, board);
                return self.react(&old, &news);
            }
            Msg::Engine(update) => return self.apply(Input::Engine(update)),
            Msg::StoreLoaded(events) => return self.apply(Input::StoreLoaded(events)),
            Msg::StoreAppended(events) => return self.apply(Input::StoreAppended(events)),
            Msg::StoreFailed(reason) => return self.apply(Input::StoreFailed(reason)),
            Msg::Remembered {
                checked_at,
                verdicts,
            } => {
                return self.apply(Input::Remembered {
                    checked_at,
                    verdicts,
                });
            }
            Msg::PlanFile(result) => return self.apply(Input::PlanFile(result)),
            Msg::MarkRecorded(event) => {
                self.drafts.remove(&event.task_id);
                if let Mode::Dialog(dialog) = &self.mode
                    && dialog.task_id == event.task_id
                {
                    self.mode = Mode::Normal;
                }
                self.notice = Some(
                    crate::store::fix_event_words(&event, true)
                        .unwrap_or_else(|| format!("{} {}", kind_verb(event.kind), event.task_id)),
                );
                self.own_marks.insert(event.id);
                self.log_event(&event);
                // Shown at once; the hub's board has it too as soon as the store's feed brings it.
                return self.apply(Input::StoreAppended(vec![event]));
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
            Msg::Roster(roster) => return self.roster_changed(roster),
            Msg::HostSaid(text) => {
                self.log(text.clone(), false);
                self.notice = Some(text);
            }
            Msg::FixFinished {
                task_id,
                action,
                outcome,
            } => self.fix_finished(&task_id, action, outcome),
            Msg::EditorClosed(Ok(())) => self.notice = Some("back from the editor".into()),
            Msg::EditorClosed(Err(why)) => {
                self.notice = Some(format!("the editor could not run: {why}"));
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

    /// Changes this view's own copy of the board (a view without a hub, as in the app's tests;
    /// with a hub its board is replaced by the hub's next one, which saw the same inputs).
    fn apply(&mut self, input: Input) -> Vec<Effect> {
        let old = self.board.clone();
        let news = Arc::make_mut(&mut self.board).apply(input, self.now);
        self.react(&old, &news)
    }

    /// What this view does about what a change of the board meant.
    fn react(&mut self, old: &Board, news: &[News]) -> Vec<Effect> {
        let mut effects = Vec::new();
        for item in news {
            match item {
                News::FirstCheck {
                    done,
                    total,
                    overclaimed,
                    millis,
                } => self.log(
                    format!(
                        "checked: {done} of {total} tasks done, {overclaimed} overclaimed ({millis} ms)"
                    ),
                    *overclaimed > 0,
                ),
                News::BackOnline => self.log("database is back: checks are live again", true),
                News::Changed(changes) => {
                    for (change, regressed) in changes {
                        self.log(change.clone(), *regressed);
                    }
                }
                News::Refreshed => effects.extend(self.resume_awaiting_dialog(None)),
                News::Offline { reason, log } => {
                    if let Some(line) = log {
                        self.log(line.clone(), true);
                    }
                    effects.extend(self.resume_awaiting_dialog(Some(reason.clone())));
                }
                News::Appended(events) => {
                    for event in events {
                        self.log_event(event);
                        self.tell_of_fix_event(event);
                    }
                }
                News::StoreFailed(reason) => self.log(
                    format!("verification store unavailable (read-only): {reason}"),
                    true,
                ),
                News::ShowingRemembered(at) => self.log(
                    format!(
                        "showing the verdicts of {} (UTC), kept by the store, until the database answers",
                        crate::store::utc_text(*at)
                    ),
                    true,
                ),
                News::PlanReloaded { summary, .. } => self.plan_reloaded(old, summary),
                News::PlanRefused { problems, first } => self.plan_refused(problems, *first),
                News::PlanValidAgain => self.log("the plan file is valid again", false),
            }
        }
        if !Arc::ptr_eq(&old.plan, &self.board.plan) {
            // A view that was behind can miss the change's news: its selection is still by
            // position in the old plan, and must be carried over all the same.
            if !news.iter().any(|n| matches!(n, News::PlanReloaded { .. })) {
                self.plan_reloaded(old, "changed while this view was behind");
            }
            self.keep_dialog_on_its_task();
            self.keep_fix_dialog_on_its_task();
        }
        effects
    }

    /// One line in the activity log for a recorded event: "you …" for this view's own.
    fn log_event(&mut self, event: &crate::store::Event) {
        if self.activity.iter().any(|a| a.event == Some(event.id)) {
            return;
        }
        let own = self.own_marks.contains(&event.id);
        let who = if own { "you" } else { event.actor.as_str() };
        let text = crate::store::fix_event_words(event, own).unwrap_or_else(|| {
            format!(
                "{who} {} {}{}",
                kind_verb(event.kind),
                event.task_id,
                quoted_note(&event.note)
            )
        });
        let at = if own { self.now } else { event.at };
        self.log_event_line(at, text, !own, event.id);
    }
}

/// The note's first line, for the activity log: `: "checked in psql"`, or nothing.
pub(crate) fn quoted_note(note: &str) -> String {
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
        // Fix events read as sentences of their own (`fix_event_words`); these are the verbs.
        EventKind::Applied => "applied the fix to",
        EventKind::ApplyFailed => "failed to apply the fix to",
        EventKind::Approved => "approved the fix of",
        EventKind::ApprovalRequested => "asked for approval of the fix of",
    }
}
