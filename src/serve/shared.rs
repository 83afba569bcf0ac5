//! What every connection of one server shares: the hub, the room, the team file as it stands,
//! the places among the live sessions, and the logged-in connections — so that a reloaded team
//! file reaches the connections already open, not only the next logins.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use russh::keys::PublicKey;
use russh::server::Handle;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use super::presence::{Room, SessionId};
use super::team::{Identity, Role, Team};
use crate::engine::hub::Hub;
use crate::tui::TuiOptions;

/// Connections one key may hold at once: a person with a few terminals, never all the places.
pub const MAX_PER_KEY: usize = 8;

pub struct Shared {
    pub hub: Arc<Hub>,
    pub room: Room,
    pub tui: TuiOptions,
    pub ascii: bool,
    pub plan_file_name: String,
    pub max_sessions: usize,
    pub shutdown: watch::Sender<bool>,
    team: RwLock<Team>,
    team_file: Option<PathBuf>,
    live_sessions: Arc<Semaphore>,
    /// Guests (unknown keys let in to watch) share a quarter of the places: people who are
    /// not on the team can never keep those who are out.
    guest_sessions: Arc<Semaphore>,
    logins: Mutex<HashMap<u64, LoginEntry>>,
    next_login: AtomicU64,
    /// Why a session was ended, for its person to read.
    end_reasons: Mutex<HashMap<SessionId, String>>,
    /// The team file's size and modification time when it was read, to read it again at the
    /// next login when it changed.
    team_stamp: Mutex<Option<(u64, Option<std::time::SystemTime>)>>,
}

/// A logged-in connection, as a reloaded team file needs it.
struct LoginEntry {
    key: PublicKey,
    identity: Identity,
    handle: Option<Handle>,
    sessions: Vec<SessionId>,
}

/// A connection's registration among the logged-in ones; removed on drop.
pub struct Login {
    id: u64,
    shared: Arc<Shared>,
}

impl Login {
    /// The connection's handle, for a reload to disconnect it.
    pub fn attach(&self, handle: Handle) {
        if let Some(entry) = self.shared.lock_logins().get_mut(&self.id) {
            entry.handle = Some(handle);
        }
    }

    pub fn id(&self) -> u64 {
        self.id
    }
}

impl Drop for Login {
    fn drop(&mut self) {
        self.shared.lock_logins().remove(&self.id);
    }
}

/// What identifies a version of a file without reading it.
fn stamp(file: &std::path::Path) -> Option<(u64, Option<std::time::SystemTime>)> {
    std::fs::metadata(file)
        .ok()
        .map(|meta| (meta.len(), meta.modified().ok()))
}

/// A tracker session's registration under its connection; removed on drop (a panic too).
pub struct SessionRegistration {
    login: u64,
    session: SessionId,
    shared: Arc<Shared>,
}

impl Drop for SessionRegistration {
    fn drop(&mut self) {
        if let Some(entry) = self.shared.lock_logins().get_mut(&self.login) {
            entry.sessions.retain(|s| *s != self.session);
        }
    }
}

impl Shared {
    pub fn new(
        hub: Arc<Hub>,
        tui: TuiOptions,
        plan_file_name: String,
        team: Team,
        team_file: Option<PathBuf>,
        max_sessions: usize,
    ) -> Shared {
        let (shutdown, _) = watch::channel(false);
        Shared {
            hub,
            room: Room::new(),
            ascii: tui.ascii,
            tui,
            plan_file_name,
            max_sessions,
            shutdown,
            team: RwLock::new(team),
            live_sessions: Arc::new(Semaphore::new(max_sessions)),
            guest_sessions: Arc::new(Semaphore::new((max_sessions / 4).max(1))),
            logins: Mutex::new(HashMap::new()),
            next_login: AtomicU64::new(1),
            end_reasons: Mutex::new(HashMap::new()),
            team_stamp: Mutex::new(team_file.as_deref().and_then(stamp)),
            team_file,
        }
    }

    /// Ends a session, saying why to its person.
    pub fn end_session(&self, session: SessionId, why: String) -> bool {
        self.end_reasons
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(session, why);
        self.room.end_session(session)
    }

    /// Why `session` was ended, once.
    pub fn end_reason(&self, session: SessionId) -> Option<String> {
        self.end_reasons
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&session)
    }

    /// Reads the team file again when it changed since it was read (called at each login, so
    /// that a person added to the file gets in without a restart). A file that does not load
    /// leaves the team as it was, and the log says why.
    pub fn reload_team_if_changed(&self) {
        let Some(file) = &self.team_file else {
            return;
        };
        let now = stamp(file);
        {
            let mut seen = self
                .team_stamp
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if *seen == now {
                return;
            }
            *seen = now;
        }
        let said = self.reload_team("a login after the file changed");
        tracing::info!("{said}");
    }

    /// Who a key belongs to, by the team file as it stands now.
    pub fn identify(&self, key: &PublicKey) -> Option<Identity> {
        self.team
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .identify(key)
    }

    /// A place among the live sessions (and a guest's among the guests'), or why there is none.
    pub fn take_places(&self, identity: &Identity) -> Result<Vec<OwnedSemaphorePermit>, String> {
        let full = || {
            format!(
                "remtrack serve is full: {} sessions are open; try again later",
                self.max_sessions
            )
        };
        let same_key = self
            .lock_logins()
            .values()
            .filter(|entry| entry.identity.fingerprint == identity.fingerprint)
            .count();
        if same_key >= MAX_PER_KEY {
            return Err(format!(
                "{MAX_PER_KEY} connections with this key are open already; close one first"
            ));
        }
        let place = self
            .live_sessions
            .clone()
            .try_acquire_owned()
            .map_err(|_| full())?;
        if !identity.anonymous {
            return Ok(vec![place]);
        }
        let guest = self
            .guest_sessions
            .clone()
            .try_acquire_owned()
            .map_err(|_| "every place for guests is taken; try again later".to_string())?;
        Ok(vec![place, guest])
    }

    /// Registers a logged-in connection.
    pub fn logged_in(self: &Arc<Self>, key: &PublicKey, identity: &Identity) -> Login {
        let id = self.next_login.fetch_add(1, Ordering::Relaxed);
        self.lock_logins().insert(
            id,
            LoginEntry {
                key: key.clone(),
                identity: identity.clone(),
                handle: None,
                sessions: Vec::new(),
            },
        );
        Login {
            id,
            shared: self.clone(),
        }
    }

    /// Registers a tracker session under its connection.
    pub fn register(self: &Arc<Self>, login: u64, session: SessionId) -> SessionRegistration {
        if let Some(entry) = self.lock_logins().get_mut(&login) {
            entry.sessions.push(session);
        }
        SessionRegistration {
            login,
            session,
            shared: self.clone(),
        }
    }

    fn lock_logins(&self) -> MutexGuard<'_, HashMap<u64, LoginEntry>> {
        self.logins.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the team file again (an admin asked). A connection whose key the file no longer
    /// lists, or now gives to someone else, is disconnected; one whose role changed keeps its
    /// sessions with the new role. Says what happened.
    pub fn reload_team(&self, by: &str) -> String {
        let Some(file) = &self.team_file else {
            return "there is no team file to reload: the server admits your own keys".into();
        };
        let team = match Team::load(file) {
            Ok(team) => team,
            Err(error) => {
                return format!(
                    "the team file was not reloaded: {}",
                    crate::printable::one_line(&error.to_string())
                );
            }
        };
        *self
            .team_stamp
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = stamp(file);
        let summary = team.describe();
        let mut ended = Vec::new();
        let mut gone: Vec<(Handle, Vec<SessionId>)> = Vec::new();
        let mut role_changes: Vec<(SessionId, Role)> = Vec::new();
        {
            let mut logins = self.lock_logins();
            for entry in logins.values_mut() {
                match team.identify(&entry.key) {
                    Some(now) if now.name == entry.identity.name => {
                        if now.role != entry.identity.role {
                            role_changes.extend(entry.sessions.iter().map(|s| (*s, now.role)));
                            entry.identity.role = now.role;
                        }
                    }
                    // Gone from the file, or given to someone else: this connection is over
                    // (a former member let in as a guest comes back as one).
                    _ => {
                        ended.push(entry.identity.name.clone());
                        if let Some(handle) = entry.handle.clone() {
                            gone.push((handle, entry.sessions.clone()));
                        }
                    }
                }
            }
        }
        *self.team.write().unwrap_or_else(PoisonError::into_inner) = team;
        for (session, role) in role_changes {
            self.room.set_role(session, role);
        }
        const WHY: &str = "you are no longer in the team file";
        for (handle, sessions) in gone {
            for session in &sessions {
                self.end_session(*session, WHY.into());
            }
            // The sessions first put their terminals back; then the connection goes.
            let room = self.room.clone();
            tokio::spawn(async move {
                let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(3);
                while sessions.iter().any(|s| room.roster().get(*s).is_some())
                    && tokio::time::Instant::now() < deadline
                {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                super::handler::disconnect(&handle, WHY).await;
            });
        }
        tracing::info!(by, "team file reloaded: {summary}");
        let members = self
            .team
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .members()
            .len();
        if ended.is_empty() {
            format!("team file reloaded: {members} members")
        } else {
            ended.sort();
            ended.dedup();
            format!(
                "team file reloaded: {members} members; disconnected {} (no longer listed)",
                ended.join(", ")
            )
        }
    }
}
