//! Working together over SSH: who I am to the others (my role), who else is here, and following
//! one of them. Presence arrives as a roster message; where I am leaves through the host, which
//! reads it from the app's state. Nothing here is stored.

use std::sync::Arc;

use super::{App, Mode};
use crate::serve::presence::{Peer, Roster, SessionId};
use crate::serve::team::Role;
use crate::tui::action::{Action, Effect, View};

/// One person's place in a shared tracker.
#[derive(Debug, Clone)]
pub struct Pairing {
    /// This view's session.
    pub me: SessionId,
    /// My role when I logged in; the roster's word wins once it arrives (the team file can be
    /// reloaded meanwhile).
    pub role: Role,
    pub roster: Arc<Roster>,
    /// The person this view follows, with their name (kept to say who left).
    pub following: Option<(SessionId, String)>,
}

impl Pairing {
    pub fn new(me: SessionId, role: Role) -> Pairing {
        Pairing {
            me,
            role,
            roster: Arc::new(Roster::default()),
            following: None,
        }
    }

    /// Everyone else here, in the order they came.
    pub fn others(&self) -> impl Iterator<Item = &Peer> {
        self.roster
            .peers
            .iter()
            .filter(|peer| peer.session != self.me)
    }
}

/// The follow picker: who to follow, by position among the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerPicker {
    pub cursor: usize,
}

impl App {
    /// Whether this person may record marks; why not, when not (a viewer only watches).
    pub(super) fn refuse_mark(&self, what: &str) -> Option<String> {
        let pairing = self.pairing.as_ref()?;
        (!pairing.role.may_mark()).then(|| {
            format!(
                "{} is {}: {what} needs the engineer role",
                self.user,
                pairing.role.with_article()
            )
        })
    }

    /// A new roster: who is here and where. Following moves me to where my driver is.
    pub(super) fn roster_changed(&mut self, roster: Arc<Roster>) -> Vec<Effect> {
        let Some(pairing) = &mut self.pairing else {
            return vec![];
        };
        if let Some(me) = roster.get(pairing.me) {
            pairing.role = me.role;
        }
        pairing.roster = roster;
        let Some((driver, name)) = pairing.following.clone() else {
            return vec![];
        };
        let Some(peer) = pairing.roster.get(driver).cloned() else {
            pairing.following = None;
            self.notice = Some(format!("{name} left: you are no longer following"));
            self.log(format!("{name} left; you are no longer following"), false);
            return vec![];
        };
        self.go_where(&peer);
        vec![]
    }

    /// Moves this view to where `peer` is: their view, and their task in it. A dialog being
    /// typed in is never taken away: the move waits for the next roster after it closes.
    fn go_where(&mut self, peer: &Peer) {
        if !matches!(self.mode, Mode::Normal) {
            return;
        }
        let view = View::ALL
            .into_iter()
            .find(|view| view.title() == peer.view)
            .unwrap_or(self.view);
        let task = peer
            .task_id
            .as_deref()
            .and_then(|id| self.board.plan.task_index(id));
        match (view, task) {
            (View::Days | View::Phases, Some(index)) => {
                self.view = view;
                if self.selected_task_index() != Some(index) {
                    self.go_to_task(index);
                }
            }
            _ => self.show(view),
        }
    }

    /// `f`: choose whom to follow.
    pub(super) fn open_peer_picker(&mut self) {
        let Some(pairing) = &self.pairing else {
            self.notice = Some("following is for a shared tracker (remtrack serve)".into());
            return;
        };
        // An admin alone still needs the list: it is where the team file is reloaded.
        if pairing.others().next().is_none() && !pairing.role.may_administer() {
            self.notice = Some("nobody else is here".into());
            return;
        }
        self.mode = Mode::PickPeer(PeerPicker { cursor: 0 });
    }

    /// Keys while the follow picker is open.
    pub(super) fn act_in_picker(&mut self, action: Action) -> Vec<Effect> {
        let Mode::PickPeer(picker) = &self.mode else {
            return vec![];
        };
        let cursor = picker.cursor;
        let Some(pairing) = &self.pairing else {
            self.mode = Mode::Normal;
            return vec![];
        };
        let others: Vec<Peer> = pairing.others().cloned().collect();
        let chosen = others
            .get(cursor.min(others.len().saturating_sub(1)))
            .cloned();
        match action {
            Action::Quit => return vec![Effect::Quit],
            Action::Cancel | Action::FollowPicker => self.mode = Mode::Normal,
            Action::Up => {
                self.mode = Mode::PickPeer(PeerPicker {
                    cursor: cursor.saturating_sub(1),
                })
            }
            Action::Down => {
                self.mode = Mode::PickPeer(PeerPicker {
                    cursor: (cursor + 1).min(others.len().saturating_sub(1)),
                });
            }
            Action::Submit => {
                self.mode = Mode::Normal;
                if let Some(peer) = chosen {
                    self.follow(&peer);
                }
            }
            Action::EndSession => {
                if !pairing.role.may_administer() {
                    self.notice = Some(format!(
                        "{} is {}: ending a session needs the admin role",
                        self.user,
                        pairing.role.with_article()
                    ));
                } else if let Some(peer) = chosen {
                    self.mode = Mode::Normal;
                    self.notice = Some(format!("ending {}'s session", peer.name));
                    return vec![Effect::EndSession(peer.session)];
                }
            }
            Action::ReloadTeam => {
                if pairing.role.may_administer() {
                    self.mode = Mode::Normal;
                    self.notice = Some("reloading the team file…".into());
                    return vec![Effect::ReloadTeam];
                }
                self.notice = Some(format!(
                    "{} is {}: reloading the team file needs the admin role",
                    self.user,
                    pairing.role.with_article()
                ));
            }
            _ => {}
        }
        vec![]
    }

    fn follow(&mut self, peer: &Peer) {
        let Some(pairing) = &mut self.pairing else {
            return;
        };
        if let Err(refused) = pairing.roster.may_follow(pairing.me, peer.session) {
            self.notice = Some(format!("cannot follow {}: {refused}", peer.name));
            return;
        }
        pairing.following = Some((peer.session, peer.name.clone()));
        self.notice = Some(format!("following {}: moving yourself stops it", peer.name));
        self.go_where(peer);
    }

    /// A move of my own: I stop following, and say so.
    pub(super) fn stop_following(&mut self) {
        if let Some(pairing) = &mut self.pairing
            && let Some((_, name)) = pairing.following.take()
        {
            self.notice = Some(format!("stopped following {name}"));
        }
    }

    /// Where this view is, for the others: its selected task and its view.
    pub fn whereabouts(&self) -> (Option<String>, &'static str, Option<SessionId>) {
        let task = match self.view {
            View::Days | View::Phases => self.selected_task().map(|task| task.id.clone()),
            View::Risks | View::Log => None,
        };
        let following = self
            .pairing
            .as_ref()
            .and_then(|p| p.following.as_ref().map(|(id, _)| *id));
        (task, self.view.title(), following)
    }

    /// The others on task `id` (for the task list and the detail pane).
    pub fn others_on(&self, id: &str) -> Vec<&Peer> {
        match &self.pairing {
            Some(pairing) => pairing
                .others()
                .filter(|peer| peer.task_id.as_deref() == Some(id))
                .collect(),
            None => vec![],
        }
    }
}

/// Whether an action moves the view (and so ends following).
pub(super) fn moves(action: &Action) -> bool {
    matches!(
        action,
        Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Home
            | Action::End
            | Action::NextGroup
            | Action::PrevGroup
            | Action::Show(_)
            | Action::NextView
            | Action::Open
            | Action::NextTodo
            | Action::NextProblem
            | Action::Click { .. }
            | Action::StartFilter
            | Action::ToggleOpenOnly
    )
}
