//! Who is connected, what each person is looking at, and who follows whom.
//!
//! Presence is ephemeral: it lives in memory for as long as the sessions do and is never
//! stored. Every view watches one [`Room`]; a session's [`Presence`] guard takes its entry
//! out again however the session ends, since an abrupt disconnect fires no callback.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;

use super::team::Role;

/// Unique per connection for the life of the process, never reused, so a stale id held
/// by a view can only ever miss, never point at somebody else.
pub type SessionId = u64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub session: SessionId,
    pub name: String,
    pub role: Role,
    /// The task under this person's cursor, if any.
    pub task_id: Option<String>,
    /// The title of the view they are on ("Days", …); empty until their first update.
    pub view: String,
    /// The session whose task and view this person mirrors.
    pub following: Option<SessionId>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roster {
    /// In join order, so lists and footers do not reshuffle when someone moves.
    pub peers: Vec<Peer>,
}

impl Roster {
    pub fn get(&self, id: SessionId) -> Option<&Peer> {
        self.peers.iter().find(|p| p.session == id)
    }

    pub fn others(&self, me: SessionId) -> impl Iterator<Item = &Peer> {
        self.peers.iter().filter(move |p| p.session != me)
    }

    pub fn on_task<'a>(&'a self, task_id: &'a str) -> impl Iterator<Item = &'a Peer> {
        self.peers
            .iter()
            .filter(move |p| p.task_id.as_deref() == Some(task_id))
    }

    pub fn followers_of(&self, id: SessionId) -> impl Iterator<Item = &Peer> {
        self.peers.iter().filter(move |p| p.following == Some(id))
    }

    /// Whether `me` may start following `driver`. Following someone who already follows
    /// me, however indirectly, would make both screens wait on each other forever.
    pub fn may_follow(&self, me: SessionId, driver: SessionId) -> Result<(), FollowRefused> {
        if me == driver {
            return Err(FollowRefused::Yourself);
        }
        let Some(first) = self.get(driver) else {
            return Err(FollowRefused::NotHere { session: driver });
        };
        let mut chain: Vec<String> = Vec::new();
        let mut seen = HashSet::from([driver]);
        let mut current = first;
        while let Some(next) = current.following {
            if next == me {
                return Err(FollowRefused::FollowsYou {
                    driver: first.name.clone(),
                    through: chain,
                });
            }
            // A loop that does not pass through me cannot be made worse by joining it.
            if !seen.insert(next) {
                return Ok(());
            }
            let Some(peer) = self.get(next) else {
                return Ok(());
            };
            chain.push(peer.name.clone());
            current = peer;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FollowRefused {
    #[error("you cannot follow yourself")]
    Yourself,
    #[error("they are not here any more")]
    NotHere { session: SessionId },
    #[error("{driver} is following you{}", through_text(through))]
    FollowsYou {
        driver: String,
        /// The people between the driver and me, in order; empty when it is direct.
        through: Vec<String>,
    },
}

fn through_text(through: &[String]) -> String {
    if through.is_empty() {
        String::new()
    } else {
        format!(" (through {})", through.join(", "))
    }
}

/// Two characters to mark a task someone is looking at: "ana" → "AN", "Bob Stone" → "BS".
pub fn initials(name: &str) -> String {
    let words: Vec<&str> = name
        .split(|c: char| c.is_whitespace() || matches!(c, '-' | '_' | '.'))
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .collect();
    let letters: Vec<char> = match words.as_slice() {
        [] => name
            .chars()
            .filter(|c| !c.is_whitespace())
            .take(2)
            .collect(),
        [one] => one
            .chars()
            .filter(|c| c.is_alphanumeric())
            .take(2)
            .collect(),
        [first, .., last] => [first, last]
            .iter()
            .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()))
            .collect(),
    };
    if letters.is_empty() {
        return "?".to_owned();
    }
    // One upper-case char per letter: 'ß' upper-cases to "SS", which would make three.
    letters
        .into_iter()
        .map(|c| c.to_uppercase().next().unwrap_or(c))
        .collect()
}

/// The shared presence state for one server. Cloning is cheap; all clones are one room.
#[derive(Clone)]
pub struct Room {
    inner: Arc<Inner>,
}

struct Inner {
    roster: watch::Sender<Arc<Roster>>,
    next_id: AtomicU64,
    /// One "an admin ended you" flag per live session, apart from the roster so that ending
    /// a session does not wake every view.
    ended: Mutex<HashMap<SessionId, watch::Sender<bool>>>,
}

impl Default for Room {
    fn default() -> Self {
        Self::new()
    }
}

impl Room {
    pub fn new() -> Self {
        Room {
            inner: Arc::new(Inner {
                roster: watch::Sender::new(Arc::new(Roster::default())),
                next_id: AtomicU64::new(1),
                ended: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Adds a person; they stay listed until the returned guard is dropped.
    pub fn join(&self, name: impl Into<String>, role: Role) -> Presence {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let (ended_tx, ended_rx) = watch::channel(false);
        self.ended_map().insert(id, ended_tx);
        let peer = Peer {
            session: id,
            name: name.into(),
            role,
            task_id: None,
            view: String::new(),
            following: None,
        };
        self.inner
            .roster
            .send_modify(|roster| Arc::make_mut(roster).peers.push(peer));
        Presence {
            id,
            room: self.clone(),
            ended: ended_rx,
        }
    }

    /// Every change to the roster, coalesced: a burst of moves is one wake-up.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Roster>> {
        self.inner.roster.subscribe()
    }

    pub fn roster(&self) -> Arc<Roster> {
        self.inner.roster.borrow().clone()
    }

    /// Asks a session to end (an admin kicking someone). The session's own loop sees it
    /// through [`Presence::ended`] and shuts down; its entry goes when its guard drops.
    /// Returns whether such a session was here.
    pub fn end_session(&self, id: SessionId) -> bool {
        match self.ended_map().get(&id) {
            Some(flag) => {
                flag.send_replace(true);
                true
            }
            None => false,
        }
    }

    /// Gives a session the role a reloaded team file says (its view reads it from the roster).
    pub fn set_role(&self, id: SessionId, role: Role) {
        self.inner.roster.send_if_modified(|roster| {
            match roster.peers.iter().position(|p| p.session == id) {
                Some(index) if roster.peers[index].role != role => {
                    Arc::make_mut(roster).peers[index].role = role;
                    true
                }
                _ => false,
            }
        });
    }

    pub fn len(&self) -> usize {
        self.inner.roster.borrow().peers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn ended_map(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, watch::Sender<bool>>> {
        // The map holds no invariant a panicking holder could break halfway.
        self.inner
            .ended
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// One session's place in the room. Dropping it is leaving.
pub struct Presence {
    id: SessionId,
    room: Room,
    ended: watch::Receiver<bool>,
}

impl Presence {
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// Records where this person is. Nothing is sent when nothing changed, so that views do
    /// not redraw for every keypress that did not move anyone.
    ///
    /// The follow is checked again here, under the roster's lock: two people asking to
    /// follow each other at the same moment both pass [`Roster::may_follow`] on their own
    /// copy. When it is refused (or the driver has just left) the task and view are still
    /// recorded, `following` is cleared, and the reason is returned.
    pub fn update(
        &self,
        task_id: Option<String>,
        view: &str,
        following: Option<SessionId>,
    ) -> Result<(), FollowRefused> {
        let mut refused = None;
        self.room.inner.roster.send_if_modified(|roster| {
            let following = match following {
                Some(driver) => match roster.may_follow(self.id, driver) {
                    Ok(()) => Some(driver),
                    Err(why) => {
                        refused = Some(why);
                        None
                    }
                },
                None => None,
            };
            let Some(index) = roster.peers.iter().position(|p| p.session == self.id) else {
                return false;
            };
            let current = &roster.peers[index];
            if current.task_id == task_id && current.view == view && current.following == following
            {
                return false;
            }
            let peer = &mut Arc::make_mut(roster).peers[index];
            peer.task_id = task_id;
            view.clone_into(&mut peer.view);
            peer.following = following;
            true
        });
        match refused {
            Some(why) => Err(why),
            None => Ok(()),
        }
    }

    /// Resolves once an admin has ended this session; pending for ever otherwise.
    pub async fn ended(&self) {
        let mut flag = self.ended.clone();
        if flag.wait_for(|ended| *ended).await.is_err() {
            // The flag is kept alive by the room for as long as this guard exists, so this
            // cannot happen; if it ever does, nobody can end us any more.
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for Presence {
    fn drop(&mut self) {
        let id = self.id;
        self.room.ended_map().remove(&id);
        self.room.inner.roster.send_if_modified(|roster| {
            if roster.get(id).is_none() {
                return false;
            }
            let roster = Arc::make_mut(roster);
            roster.peers.retain(|p| p.session != id);
            // Followers are let go rather than left pointing at an id that will never
            // come back.
            for peer in &mut roster.peers {
                if peer.following == Some(id) {
                    peer.following = None;
                }
            }
            true
        });
    }
}

#[cfg(test)]
mod tests;
