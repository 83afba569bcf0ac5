//! `remtrack serve` end to end: the real binary on 127.0.0.1 with the demo database, driven by
//! russh clients in the test process whose screens are vt100 parsers — presence, notes, follow,
//! roles, key identity (and the auth-bypass regression), exec reports, and a stalled client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use russh::keys::PrivateKey;
use serde_json::Value;
use support::ssh::{
    Client, LOCALHOST, LoginError, Serve, SignWith, WAIT, has_initials, line_with, new_key,
    public_line, remtrack, task_row, team_toml,
};

/// Terminal size of most tests: below 120 columns the list sits above the detail.
const COLS: u16 = 100;
const ROWS: u16 = 30;

const DAY_1: &str = "Day 1: Audit actual database state";
const DAY_2: &str = "Day 2: Complete pending database migrations";

struct Person {
    name: &'static str,
    role: &'static str,
    key: PrivateKey,
}

fn person(name: &'static str, role: &'static str) -> Person {
    Person {
        name,
        role,
        key: new_key(),
    }
}

fn serve(anon_access: &str, people: &[&Person]) -> Serve {
    serve_with(anon_access, people, &[], &[])
}

fn serve_with(anon_access: &str, people: &[&Person], args: &[&str], env: &[(&str, &str)]) -> Serve {
    let lines: Vec<String> = people.iter().map(|p| public_line(&p.key)).collect();
    let members: Vec<(&str, &str, &str)> = people
        .iter()
        .zip(&lines)
        .map(|(p, line)| (p.name, p.role, line.as_str()))
        .collect();
    Serve::start_with_env(&team_toml(anon_access, &members), args, env)
}

/// `j` on the first day: the second task's detail shows, which proves the keys are this
/// person's own (not held by a dialog, nor moved by someone followed).
async fn moves_down(screen: &Client) {
    screen.send(b"j").await;
    screen
        .wait_for("assets-multi-phase-columns · day 1", WAIT)
        .await;
}

/// `person` logged in with a terminal of COLS×ROWS, once the tracker says who they are.
async fn tracker(serve: &Serve, person: &Person) -> Client {
    tracker_sized(serve, person, COLS, ROWS).await
}

async fn tracker_sized(serve: &Serve, person: &Person, cols: u16, rows: u16) -> Client {
    let mut client = Client::login(serve.port, &person.key).await;
    client.shell(cols, rows).await;
    let me = format!("· {} ({})", person.name, person.role);
    let screen = client
        .wait_until(&format!("line 1 ending with `{me}`"), WAIT, |screen| {
            first_line(screen).ends_with(&me)
        })
        .await;
    assert!(screen.contains(DAY_1), "{screen}");
    client
}

fn first_line(screen: &str) -> &str {
    screen.lines().next().unwrap_or_default().trim_end()
}

fn here_line(screen: &str) -> &str {
    line_with(screen, "here:").unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_members_see_each_others_names_presence_and_initials() {
    let ana = person("ana", "engineer");
    let bob = person("bob", "viewer");
    let serve = serve("no-access", &[&ana, &bob]);
    let ana_screen = tracker(&serve, &ana).await;
    let bob_screen = tracker(&serve, &bob).await;

    ana_screen
        .wait_until("`here:` naming bob", WAIT, |s| here_line(s).contains("bob"))
        .await;
    bob_screen
        .wait_until("`here:` naming ana", WAIT, |s| here_line(s).contains("ana"))
        .await;

    // Bob moves to the second task: his initials appear on that row of ana's list, and only there.
    moves_down(&bob_screen).await;
    let screen = ana_screen
        .wait_until("BO on the row of assets-multi-phase-columns", WAIT, |s| {
            has_initials(task_row(s, "assets-multi-phase-columns"), "BO")
        })
        .await;
    assert!(
        !has_initials(task_row(&screen, "flow-state-extensions-table"), "BO"),
        "bob left the first task:\n{screen}"
    );
    assert!(
        !has_initials(task_row(&screen, "assets-multi-phase-columns"), "AN"),
        "ana's own initials are not shown to her:\n{screen}"
    );
    // And ana's initials sit on her task in bob's list.
    let screen = bob_screen
        .wait_until("AN on the row of flow-state-extensions-table", WAIT, |s| {
            has_initials(task_row(s, "flow-state-extensions-table"), "AN")
        })
        .await;
    assert!(
        !has_initials(task_row(&screen, "assets-multi-phase-columns"), "BO"),
        "bob's own initials are not shown to him:\n{screen}"
    );

    // Ana joins him on that task: her detail says who else is on it.
    ana_screen.send(b"j").await;
    ana_screen.wait_for("also here: bob", WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_by_one_member_appears_for_the_other_at_once_and_is_stored_as_theirs() {
    let ana = person("ana", "engineer");
    let bob = person("bob", "viewer");
    let serve = serve("no-access", &[&ana, &bob]);
    let ana_screen = tracker(&serve, &ana).await;
    let bob_screen = tracker(&serve, &bob).await;
    bob_screen.send(b"4").await;
    bob_screen
        .wait_until("the log view", WAIT, |s| !s.contains(DAY_1))
        .await;

    ana_screen.send(b"c").await;
    ana_screen
        .wait_for("Note on flow-state-extensions-table", WAIT)
        .await;
    ana_screen.send(b"checked in psql").await;
    ana_screen.wait_for("checked in psql", WAIT).await;
    ana_screen.send(b"\x13").await;

    bob_screen
        .wait_for(
            "ana noted on flow-state-extensions-table: \"checked in psql\"",
            Duration::from_secs(3),
        )
        .await;

    let log = remtrack(serve.path(), &["log", "--format", "json"]);
    let events: Value = serde_json::from_slice(&log.stdout).unwrap_or_else(|e| {
        panic!(
            "remtrack log --format json: {e}\n{}",
            String::from_utf8_lossy(&log.stderr)
        )
    });
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["actor"], "ana", "the key says who: {events:?}");
    assert_eq!(events[0]["task_id"], "flow-state-extensions-table");
    assert_eq!(events[0]["note"], "checked in psql");
}

/// Bob follows ana; returns once his screen says so.
async fn follow_ana(bob_screen: &Client) {
    bob_screen
        .wait_until("`here:` naming ana", WAIT, |s| here_line(s).contains("ana"))
        .await;
    bob_screen.send(b"f").await;
    let picker = bob_screen.wait_for("Follow whom?", WAIT).await;
    assert!(picker.contains("ana"), "the picker lists ana:\n{picker}");
    bob_screen.send(b"\r").await;
    bob_screen.wait_for("following ana", WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_moves_with_the_driver_and_stops_following_on_their_own_move() {
    let ana = person("ana", "engineer");
    let bob = person("bob", "viewer");
    let serve = serve("no-access", &[&ana, &bob]);
    let ana_screen = tracker(&serve, &ana).await;
    let bob_screen = tracker(&serve, &bob).await;
    follow_ana(&bob_screen).await;

    ana_screen.send(b"j").await;
    bob_screen
        .wait_for("assets-multi-phase-columns · day 1", WAIT)
        .await;
    ana_screen.send(b"l").await;
    ana_screen.wait_for(DAY_2, WAIT).await;
    let screen = bob_screen.wait_for(DAY_2, WAIT).await;
    assert!(!screen.contains(DAY_1), "{screen}");

    // Bob's own move takes him back to his own selection.
    bob_screen.send(b"j").await;
    bob_screen.wait_for("stopped following ana", WAIT).await;
    ana_screen.send(b"h").await;
    ana_screen.wait_for(DAY_1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let screen = bob_screen.screen();
    assert!(
        screen.contains(DAY_2) && !screen.contains(DAY_1),
        "bob no longer follows ana to day 1:\n{screen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_someone_who_follows_you_is_refused() {
    let ana = person("ana", "engineer");
    let bob = person("bob", "viewer");
    let serve = serve("no-access", &[&ana, &bob]);
    let ana_screen = tracker(&serve, &ana).await;
    let bob_screen = tracker(&serve, &bob).await;
    follow_ana(&bob_screen).await;

    ana_screen.send(b"f").await;
    let picker = ana_screen.wait_for("Follow whom?", WAIT).await;
    assert!(picker.contains("bob"), "the picker lists bob:\n{picker}");
    ana_screen.send(b"\r").await;
    let screen = ana_screen.wait_for("is following you", WAIT).await;
    assert!(!screen.contains("following bob"), "{screen}");

    // Nothing changed for bob: he still follows ana.
    ana_screen.send(b"\x1b").await;
    ana_screen.send(b"j").await;
    bob_screen
        .wait_for("assets-multi-phase-columns · day 1", WAIT)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_is_told_when_the_driver_leaves() {
    let ana = person("ana", "engineer");
    let bob = person("bob", "viewer");
    let serve = serve("no-access", &[&ana, &bob]);
    let ana_screen = tracker(&serve, &ana).await;
    let bob_screen = tracker(&serve, &bob).await;
    follow_ana(&bob_screen).await;

    // An abrupt end: the connection goes without a `q`.
    drop(ana_screen);
    let screen = bob_screen.wait_for("ana left", WAIT).await;
    assert!(!here_line(&screen).contains("ana"), "{screen}");
    // Bob's keys are his own again.
    moves_down(&bob_screen).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_is_refused_verifying_and_noting_with_a_notice() {
    let bob = person("bob", "viewer");
    let cy = person("cy", "viewer");
    let serve = serve("no-access", &[&bob, &cy]);

    let bob_screen = tracker(&serve, &bob).await;
    moves_down(&bob_screen).await;
    bob_screen.send(b"v").await;
    let screen = bob_screen.wait_for("needs the engineer role", WAIT).await;
    assert!(
        !screen.contains("Verify assets-multi-phase-columns"),
        "no dialog opens:\n{screen}"
    );

    let cy_screen = tracker(&serve, &cy).await;
    cy_screen.send(b"c").await;
    let screen = cy_screen.wait_for("needs the engineer role", WAIT).await;
    assert!(!screen.contains("Note on"), "no dialog opens:\n{screen}");

    let log = remtrack(serve.path(), &["log", "--format", "json"]);
    let events: Value = serde_json::from_slice(&log.stdout).unwrap_or(Value::Null);
    assert!(
        events.as_array().is_none_or(Vec::is_empty),
        "nothing was recorded: {events}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_key_is_refused_without_anonymous_access() {
    let ana = person("ana", "admin");
    let serve = serve("no-access", &[&ana]);
    match Client::connect(serve.port, &new_key()).await {
        Err(LoginError::Refused) => {}
        Err(other) => panic!("a refusal, not: {other}"),
        Ok(_) => panic!("an unknown key logged in with anon_access = \"no-access\""),
    }
    // The refusal is about the key, not the server: a member still gets in.
    tracker(&serve, &ana).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_anonymous_viewers_an_unknown_key_is_a_guest_viewer() {
    let ana = person("ana", "admin");
    let serve = serve("viewer", &[&ana]);
    let mut guest = Client::connect(serve.port, &new_key())
        .await
        .unwrap_or_else(|e| panic!("anon_access = \"viewer\" lets an unknown key in: {e}"));
    guest.shell(COLS, ROWS).await;
    let screen = guest
        .wait_until("line 1 naming a guest viewer", WAIT, |s| {
            first_line(s).contains("· guest-") && first_line(s).ends_with("(viewer)")
        })
        .await;
    assert!(!first_line(&screen).contains("ana"), "{screen}");
    guest.send(b"v").await;
    guest.wait_for("needs the engineer role", WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ssh_user_name_is_not_identity() {
    let ana = person("ana", "admin");
    let bob = person("bob", "viewer");
    let serve = serve("no-access", &[&ana, &bob]);
    let mut client = Client::connect_as(serve.port, "ana", &bob.key, LOCALHOST)
        .await
        .unwrap();
    client.shell(COLS, ROWS).await;
    client
        .wait_until("line 1 ending with `· bob (viewer)`", WAIT, |s| {
            first_line(s).ends_with("· bob (viewer)")
        })
        .await;
}

/// Line 1 of the tracker on `client`'s connection: who the server thinks this is.
async fn who_am_i(client: &mut Client) -> String {
    client.shell(COLS, ROWS).await;
    let screen = client
        .wait_until("line 1 naming someone", WAIT, |s| {
            first_line(s).ends_with(')')
        })
        .await;
    first_line(&screen).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_by_another_key_never_logs_in_as_the_key_it_claims() {
    // CVE-2024-45337 style: the request names the admin's key, the signature is the attacker's.
    let admin = person("ana", "admin");
    let attacker = new_key();
    let serve = serve("viewer", &[&admin]);
    let mut client = Client::open(serve.port, LOCALHOST).await.unwrap();
    let forged = client
        .handle
        .authenticate_publickey_with(
            "ana",
            admin.key.public_key().clone(),
            None,
            &mut SignWith {
                key: Some(attacker.clone()),
            },
        )
        .await;
    match forged {
        Ok(result) if result.success() => {
            let who = who_am_i(&mut client).await;
            panic!("a signature by another key was accepted for the admin's key; line 1: {who}");
        }
        Ok(_) | Err(_) => {}
    }

    // The same connection then signs honestly with the attacker's own key: a guest, no more.
    let own = russh::keys::PrivateKeyWithHashAlg::new(std::sync::Arc::new(attacker), None);
    let result = client
        .handle
        .authenticate_publickey("ana", own)
        .await
        .unwrap();
    assert!(
        result.success(),
        "with anon_access = viewer an unknown key gets in"
    );
    let who = who_am_i(&mut client).await;
    assert!(
        who.contains("· guest-") && who.ends_with("(viewer)") && !who.contains("admin"),
        "line 1: {who}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offering_the_admins_key_then_signing_with_ones_own_logs_in_as_oneself() {
    // soft-serve CVE-2023-43809 style: a probe with the admin's key (the server answers PK_OK),
    // then a login signed by another key must not inherit what the probe named.
    for anon_access in ["viewer", "no-access"] {
        let admin = person("ana", "admin");
        let attacker = new_key();
        let serve = serve(anon_access, &[&admin]);
        let mut client = Client::open(serve.port, LOCALHOST).await.unwrap();
        let probe = client
            .handle
            .authenticate_publickey_with(
                "ana",
                admin.key.public_key().clone(),
                None,
                &mut SignWith { key: None },
            )
            .await;
        assert!(
            probe.is_err(),
            "the probe ends with our signer declining, after the server accepted the offer \
             ({anon_access}): {probe:?}"
        );
        let own = russh::keys::PrivateKeyWithHashAlg::new(std::sync::Arc::new(attacker), None);
        let result = client.handle.authenticate_publickey("ana", own).await;
        match (anon_access, result) {
            ("viewer", Ok(result)) if result.success() => {
                let who = who_am_i(&mut client).await;
                assert!(
                    who.contains("· guest-") && who.ends_with("(viewer)") && !who.contains("admin"),
                    "line 1: {who}"
                );
            }
            ("no-access", Ok(result)) if result.success() => {
                let who = who_am_i(&mut client).await;
                panic!("with no-access, a probe of the admin's key let another key in: {who}");
            }
            ("no-access", _) => {}
            (_, other) => panic!("with anon_access = viewer the attacker is a guest: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_key_is_the_bannered_one_private_and_kept_across_restarts() {
    let ana = person("ana", "engineer");
    let mut serve = serve("no-access", &[&ana]);
    let fingerprint = serve.host_key_fingerprint();
    let client = Client::login(serve.port, &ana.key).await;
    assert_eq!(client.host_key().as_deref(), Some(fingerprint.as_str()));
    assert!(
        serve
            .banner()
            .contains(&format!("ssh -p {} 127.0.0.1", serve.port)),
        "{}",
        serve.banner()
    );
    client.close().await;

    let key_file = serve.path().join(".remtrack/ssh_host_ed25519_key");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&key_file)
            .unwrap_or_else(|e| panic!("{}: {e}", key_file.display()))
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "{}", key_file.display());

    serve.restart();
    assert_eq!(serve.host_key_fingerprint(), fingerprint);
    let client = Client::login(serve.port, &ana.key).await;
    assert_eq!(client.host_key().as_deref(), Some(fingerprint.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_dir_says_where_the_host_key_is_kept() {
    let ana = person("ana", "engineer");
    let team = team_toml("no-access", &[("ana", "engineer", &public_line(&ana.key))]);
    let serve = Serve::start_with(&team, &["--state-dir", "keys"]);
    assert!(serve.path().join("keys/ssh_host_ed25519_key").exists());
    assert!(!serve.path().join(".remtrack/ssh_host_ed25519_key").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn q_ends_the_session_with_exit_status_0() {
    let ana = person("ana", "engineer");
    let serve = serve("no-access", &[&ana]);
    let client = tracker(&serve, &ana).await;
    assert_eq!(
        client.replies(),
        [true, true],
        "the PTY and shell requests are answered with success"
    );
    client.send(b"q").await;
    assert_eq!(
        client.exit_status(WAIT).await,
        Some(0),
        "{}",
        client.screen()
    );
    assert!(client.channel_closed(WAIT).await);
    let screen = client.screen();
    assert!(
        !client.alternate_screen(),
        "the session leaves the alternate screen:\n{screen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_change_redraws_at_the_new_size() {
    let ana = person("ana", "engineer");
    let serve = serve("no-access", &[&ana]);
    let client = tracker_sized(&serve, &ana, 80, 24).await;
    let widest = |s: &str| s.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(widest(&client.screen()) <= 80);
    client.resize(200, 50).await;
    let screen = client
        .wait_until("a row 200 columns wide", WAIT, |s| widest(s) == 200)
        .await;
    assert!(screen.lines().count() > 40, "{screen}");
    assert!(
        first_line(&screen).ends_with("· ana (engineer)"),
        "{screen}"
    );
}

/// The demo's report as `remtrack check` gives it, with the moments taken out.
fn report(json: &str) -> Value {
    let mut value: Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("not JSON ({e}):\n{json}"));
    scrub(&mut value);
    value
}

fn scrub(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                if key.ends_with("_at")
                    || key == "at"
                    || key.contains("duration")
                    || key.ends_with("_ms")
                {
                    *inner = Value::Null;
                } else {
                    scrub(inner);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_check_json_gives_the_clis_report_and_exit_status_1() {
    let ana = person("ana", "viewer");
    let serve = serve("no-access", &[&ana]);
    let client = Client::login(serve.port, &ana.key).await;
    let (stdout, status) = client.exec("check --format json").await;
    assert_eq!(status, 1, "the demo has overclaimed tasks:\n{stdout}");
    let served = report(&stdout);
    let tasks = served["tasks"].as_array().expect("a tasks array");
    assert_eq!(tasks.len(), 15, "{served}");
    let overclaimed = tasks
        .iter()
        .find(|t| t["id"] == "master-flow-columns")
        .unwrap();
    assert!(
        overclaimed.to_string().contains("overclaimed"),
        "{overclaimed}"
    );

    let local = remtrack(serve.path(), &["check", "--format", "json"]);
    assert_eq!(local.status.code(), Some(1));
    assert_eq!(served, report(&String::from_utf8_lossy(&local.stdout)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_check_text_markdown_and_junit_print_their_reports() {
    let ana = person("ana", "viewer");
    let serve = serve("no-access", &[&ana]);
    let client = Client::login(serve.port, &ana.key).await;
    for (format, marker) in [
        ("text", "master-flow-columns"),
        ("markdown", "| "),
        ("junit", "<testsuite"),
    ] {
        let out = client.exec_full(&format!("check --format {format}")).await;
        assert_eq!(out.status, Some(1), "{format}: {out:?}");
        assert!(out.stdout.contains(marker), "{format}:\n{}", out.stdout);
        assert!(
            !out.stdout.contains("\x1b["),
            "{format}: no colour without a terminal"
        );
        let local = remtrack(serve.path(), &["check", "--format", format]);
        let local = String::from_utf8_lossy(&local.stdout);
        let words = |s: &str| {
            s.split_whitespace()
                .filter(|w| w.contains("-columns") || w.contains("drop-"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            words(&out.stdout),
            words(&local),
            "{format}: the same tasks"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_exec_command_gets_a_message_and_exit_status_2() {
    let ana = person("ana", "admin");
    let serve = serve("no-access", &[&ana]);
    let client = Client::login(serve.port, &ana.key).await;
    let out = client.exec_full("rm -rf /").await;
    assert_eq!(out.status, Some(2), "{out:?}");
    assert!(
        !(out.stdout.trim().is_empty() && out.stderr.trim().is_empty()),
        "a message says why: {out:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shell_without_a_pty_is_told_to_use_ssh_t_and_exits_1() {
    let ana = person("ana", "engineer");
    let serve = serve("no-access", &[&ana]);
    let client = Client::login(serve.port, &ana.key).await;
    let out = client.shell_without_pty().await;
    assert_eq!(out.status, Some(1), "{out:?}");
    assert!(
        format!("{}{}", out.stdout, out.stderr).contains("needs a terminal: ssh -t"),
        "{out:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_and_agent_forwarding_are_refused() {
    let ana = person("ana", "admin");
    let serve = serve("no-access", &[&ana]);
    let client = Client::login(serve.port, &ana.key).await;

    let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    target.set_nonblocking(true).unwrap();
    let target_port = target.local_addr().unwrap().port();
    let direct = client
        .handle
        .channel_open_direct_tcpip("127.0.0.1", target_port.into(), "127.0.0.1", 40000)
        .await;
    assert!(direct.is_err(), "a direct-tcpip channel was opened");
    assert!(
        target.accept().is_err(),
        "the server connected to the target"
    );

    let remote = client.handle.tcpip_forward("127.0.0.1", 0).await;
    assert!(remote.is_err(), "remote forwarding was granted: {remote:?}");

    let mut channel = client.handle.channel_open_session().await.unwrap();
    channel.agent_forward(true).await.unwrap();
    let reply = tokio::time::timeout(WAIT, async {
        loop {
            match channel.wait().await {
                Some(russh::ChannelMsg::Success) => break Some(true),
                Some(russh::ChannelMsg::Failure) => break Some(false),
                None => break None,
                Some(_) => {}
            }
        }
    })
    .await
    .expect("the agent forwarding request is answered");
    assert_ne!(reply, Some(true), "agent forwarding was granted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_does_not_delay_another() {
    let ana = person("ana", "engineer");
    let carol = person("carol", "viewer");
    let serve = serve("no-access", &[&ana, &carol]);
    let ana_screen = tracker(&serve, &ana).await;

    // Carol has a big terminal, stops reading, and keeps pressing keys that redraw it all.
    let carol_screen = std::sync::Arc::new(tracker_sized(&serve, &carol, 250, 80).await);
    carol_screen.stop_reading();
    let carol_keys = std::sync::Arc::clone(&carol_screen);
    let presser = tokio::spawn(async move {
        loop {
            for key in [&b"l"[..], b"?", b"\x1b", b"3", b"1", b"h", b"4", b"1"] {
                carol_keys.send(key).await;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    });
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut slowest = Duration::ZERO;
    for _ in 0..5 {
        for (key, shows, gone) in [(b"l", DAY_2, DAY_1), (b"h", DAY_1, DAY_2)] {
            let sent = Instant::now();
            ana_screen.send(key).await;
            ana_screen
                .wait_until(
                    &format!("{shows} (within 1 s)"),
                    Duration::from_secs(1),
                    |s| s.contains(shows) && !s.contains(gone),
                )
                .await;
            slowest = slowest.max(sent.elapsed());
        }
    }
    assert!(
        slowest < Duration::from_secs(1),
        "slowest redraw {slowest:?}"
    );

    // The stall was real: what the server sent carol lies unread in her socket.
    let unread = carol_screen.unread_bytes();
    presser.abort();
    assert!(unread > 4096, "carol's unread bytes: {unread}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_one_session_ends_that_session_only_with_its_terminal_put_back() {
    let ana = person("ana", "engineer");
    let bob = person("bob", "viewer");
    // Debug builds panic on this key when the variable names it (the local tracker's test hook).
    let serve = serve_with(
        "no-access",
        &[&ana, &bob],
        &[],
        &[("REMTRACK_TEST_PANIC_KEY", "P")],
    );
    let ana_screen = tracker(&serve, &ana).await;
    let bob_screen = tracker(&serve, &bob).await;
    bob_screen.wait_for("here: bob (you), ana", WAIT).await;

    ana_screen.send(b"P").await;
    assert_eq!(
        ana_screen.exit_status(WAIT).await,
        Some(70),
        "{}",
        ana_screen.screen()
    );
    assert!(
        !ana_screen.alternate_screen(),
        "her terminal is put back:\n{}",
        ana_screen.screen()
    );
    assert!(
        ana_screen.screen().contains("this session failed"),
        "{}",
        ana_screen.screen()
    );

    // Bob goes on: ana is gone from his screen, and his keys still work.
    bob_screen
        .wait_until("ana gone from here:", WAIT, |screen| {
            !screen.contains("here:")
        })
        .await;
    moves_down(&bob_screen).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_session_cap_one_more_is_told_the_server_is_full() {
    let ana = person("ana", "engineer");
    let bob = person("bob", "viewer");
    let serve = serve_with("no-access", &[&ana, &bob], &["--max-sessions", "1"], &[]);
    let ana_screen = tracker(&serve, &ana).await;

    let late = Client::login(serve.port, &bob.key).await;
    let (out, status) = late.exec("check --format json").await;
    assert_eq!(status, 1, "{out}");
    assert!(
        out.contains("remtrack serve is full: 1 sessions are open"),
        "{out}"
    );

    // Once ana leaves, her place is free again.
    ana_screen.send(b"q").await;
    assert_eq!(ana_screen.exit_status(WAIT).await, Some(0));
    drop(ana_screen);
    let deadline = Instant::now() + WAIT;
    loop {
        let again = Client::login(serve.port, &bob.key).await;
        let (out, status) = again.exec("check --format json").await;
        if !out.contains("is full") {
            assert_eq!(status, 1, "the demo overclaims: {out}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the place was never freed: {out}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The session ended with its terminal put back (no alternate screen) and these last words.
async fn assert_left_with(client: &Client, words: &str) {
    assert!(client.channel_closed(WAIT).await, "{}", client.screen());
    assert!(!client.alternate_screen(), "{}", client.screen());
    assert!(
        client.screen().contains(words),
        "the terminal is put back and says {words:?}:\n{}",
        client.screen()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_stopping_says_goodbye_and_puts_every_terminal_back() {
    let ana = person("ana", "engineer");
    let mut serve = serve("no-access", &[&ana]);
    let client = tracker(&serve, &ana).await;
    let status = tokio::task::block_in_place(|| serve.stop());
    assert!(status.success(), "SIGTERM is a clean stop: {status:?}");
    assert_eq!(
        client.exit_status(WAIT).await,
        Some(0),
        "{}",
        client.screen()
    );
    assert_left_with(&client, "the server is shutting down; goodbye").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_ends_a_session_and_its_terminal_is_put_back() {
    let root = person("root", "admin");
    let bob = person("bob", "viewer");
    let serve = serve("no-access", &[&root, &bob]);
    let root_screen = tracker(&serve, &root).await;
    let bob_screen = tracker(&serve, &bob).await;
    root_screen.wait_for("here: root (you), bob", WAIT).await;
    root_screen.send(b"f").await;
    root_screen.wait_for("x end their session", WAIT).await;
    root_screen.send(b"x").await;
    root_screen.wait_for("ended bob's session", WAIT).await;
    assert_eq!(bob_screen.exit_status(WAIT).await, Some(0));
    assert_left_with(&bob_screen, "remtrack: root ended this session").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reloaded_team_file_disconnects_who_it_no_longer_lists_and_demotes_in_place() {
    let root = person("root", "admin");
    let ana = person("ana", "engineer");
    let bob = person("bob", "engineer");
    let serve = serve("no-access", &[&root, &ana, &bob]);
    let root_screen = tracker(&serve, &root).await;
    let ana_screen = tracker(&serve, &ana).await;
    let bob_screen = tracker(&serve, &bob).await;
    // A second connection of bob's, idle (as OpenSSH's multiplexing keeps one).
    let bob_later = Client::login(serve.port, &bob.key).await;

    // Bob is removed, ana becomes a viewer.
    let line = |p: &Person| public_line(&p.key);
    let (root_line, ana_line) = (line(&root), line(&ana));
    let members = [
        ("root", "admin", root_line.as_str()),
        ("ana", "viewer", ana_line.as_str()),
    ];
    std::fs::write(
        serve.path().join("team.toml"),
        team_toml("no-access", &members),
    )
    .unwrap();
    root_screen.send(b"f").await;
    root_screen.wait_for("x end their session", WAIT).await;
    root_screen.send(b"R").await;
    root_screen
        .wait_until("bob gone from here:", WAIT, |screen| {
            screen.contains("here: root (you), ana") && !screen.contains(", bob")
        })
        .await;
    // The whole line is in the log view (the footer cuts it at this width).
    root_screen.send(b"4").await;
    root_screen.wait_for("disconnected bob", WAIT).await;

    assert_left_with(&bob_screen, "remtrack: you are no longer in the team file").await;
    // His other connection is gone too: the server ended it, nothing can be opened on it.
    let deadline = Instant::now() + WAIT;
    while !bob_later.handle.is_closed() {
        assert!(
            Instant::now() < deadline,
            "bob's idle connection is still open"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(bob_later.handle.channel_open_session().await.is_err());

    // Ana is still here, as a viewer now: her header says so and a note is refused.
    ana_screen.wait_for("· ana (viewer)", WAIT).await;
    ana_screen.send(b"c").await;
    ana_screen.wait_for("needs the engineer role", WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_added_to_the_team_file_gets_in_without_a_restart() {
    let root = person("root", "admin");
    let carol = person("carol", "engineer");
    let serve = serve("no-access", &[&root]);
    assert!(
        Client::connect(serve.port, &carol.key).await.is_err(),
        "not in the file yet"
    );
    let (root_line, carol_line) = (public_line(&root.key), public_line(&carol.key));
    let members = [
        ("root", "admin", root_line.as_str()),
        ("carol", "engineer", carol_line.as_str()),
    ];
    std::fs::write(
        serve.path().join("team.toml"),
        team_toml("no-access", &members),
    )
    .unwrap();
    tracker(&serve, &carol).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_may_not_dry_run_a_fix_an_engineer_proves_one_and_asks_a_lead_to_approve_it() {
    let ana = person("ana", "engineer");
    let bob = person("bob", "viewer");
    let lee = person("lee", "lead");
    let serve = serve_with(
        "no-access",
        &[&ana, &bob, &lee],
        &["--apply-url", "sqlite:demo.db"],
        &[],
    );
    let bob_screen = tracker(&serve, &bob).await;
    bob_screen.send(b"l").await;
    bob_screen.wait_for(DAY_2, WAIT).await;
    bob_screen.send(b"p").await;
    let screen = bob_screen
        .wait_for("bob is a viewer: fixes need the engineer role", WAIT)
        .await;
    assert!(
        !screen.contains("Fix master-flow-columns"),
        "no dialog opens:\n{screen}"
    );

    let lee_screen = tracker(&serve, &lee).await;
    let ana_screen = tracker(&serve, &ana).await;
    ana_screen.send(b"l").await;
    ana_screen.wait_for(DAY_2, WAIT).await;
    ana_screen.send(b"p").await;
    let screen = ana_screen
        .wait_for("proven: after this fix, 7 of 7 checks pass", WAIT)
        .await;
    assert!(screen.contains("R ask for approval"), "{screen}");
    assert!(
        !screen.contains("A approve"),
        "approving is for leads:\n{screen}"
    );

    ana_screen.send(b"R").await;
    ana_screen.wait_for("Note for the request", WAIT).await;
    ana_screen.send(b"check the types").await;
    ana_screen.wait_for("check the types", WAIT).await;
    ana_screen.send(b"\x13").await;
    ana_screen
        .wait_for("ana's request for approval recorded", WAIT)
        .await;
    lee_screen
        .wait_for(
            "ana asks for approval of master-flow-columns's fix: check the types",
            WAIT,
        )
        .await;

    let log = remtrack(serve.path(), &["log", "--format", "json"]);
    let events: Value = serde_json::from_slice(&log.stdout).unwrap();
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 1, "the dry run recorded nothing: {events:?}");
    assert_eq!(events[0]["kind"], "approval_requested");
    assert_eq!(events[0]["actor"], "ana", "the key says who: {events:?}");
    assert_eq!(events[0]["evidence"]["role"], "engineer");
    // Proven in a transaction that was rolled back: the task still fails.
    let check = remtrack(serve.path(), &["check", "--format", "json"]);
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    let task = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|task| task["id"] == "master-flow-columns")
        .unwrap();
    assert_eq!(
        task["status"], "failing",
        "the dry run left the database as it was: {task}"
    );
}
