//! `remtrack serve` with the real OpenSSH client: the tracker in a private tmux server through
//! `ssh -tt` (size, resize, quitting), `ssh -T` and `ssh HOST check …` without a terminal, and a
//! host key that known_hosts still accepts after a restart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::ssh::{Serve, remtrack, team_toml};
use support::tmux::Tmux;

/// An OpenSSH key pair made by ssh-keygen in `dir`; returns the private key's path.
fn keygen(dir: &Path, name: &str) -> PathBuf {
    let found = Command::new("ssh-keygen").arg("-?").output();
    assert!(
        found.is_ok(),
        "ssh-keygen is needed for this test: install it (Debian/Ubuntu: apt-get install -y openssh-client)"
    );
    let path = dir.join(name);
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    path
}

/// A server whose team is ana (engineer) with a fresh OpenSSH key; the key's path.
fn serve_ana() -> (Serve, tempfile::TempDir, PathBuf) {
    let keys = tempfile::tempdir().unwrap();
    let key = keygen(keys.path(), "ana");
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let serve = Serve::start(&team_toml("no-access", &[("ana", "engineer", &public)]));
    (serve, keys, key)
}

/// The ssh command line (without the remote command) for `key` against `port`.
fn ssh_args(port: u16, key: &Path, known_hosts: &str, strict: &str) -> Vec<String> {
    let found = Command::new("ssh").arg("-V").output();
    assert!(
        found.is_ok(),
        "ssh is needed for this test: install it (Debian/Ubuntu: apt-get install -y openssh-client)"
    );
    [
        "-F",
        "/dev/null",
        "-p",
        &port.to_string(),
        "-i",
        key.to_str().unwrap(),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "IdentityAgent=none",
        "-o",
        &format!("StrictHostKeyChecking={strict}"),
        "-o",
        &format!("UserKnownHostsFile={known_hosts}"),
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=10",
        "-o",
        "LogLevel=ERROR",
        "127.0.0.1",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect()
}

/// `ssh` (no terminal, stdin null) with a deadline; (status code, stdout, stderr).
fn ssh(args: &[String], extra: &[&str]) -> (Option<i32>, String, String) {
    let out_dir = tempfile::tempdir().unwrap();
    let out_path = out_dir.path().join("out");
    let err_path = out_dir.path().join("err");
    let mut child = Command::new("ssh")
        .args(args)
        .args(extra)
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "ssh {extra:?} did not end within 30 s; stdout:\n{}\nstderr:\n{}",
                std::fs::read_to_string(&out_path).unwrap_or_default(),
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (
        status.code(),
        std::fs::read_to_string(&out_path).unwrap(),
        std::fs::read_to_string(&err_path).unwrap(),
    )
}

/// `ssh -tt` to the tracker in a tmux window of 80×24; the shell reports ssh's exit.
fn tracker_in_tmux(serve: &Serve, key: &Path) -> Tmux {
    let known_hosts = serve.path().join("known_hosts");
    let args = ssh_args(serve.port, key, known_hosts.to_str().unwrap(), "no");
    let command = format!(
        "env -u SSH_AUTH_SOCK ssh -tt {}; echo \"ssh exited with $?\"; sleep 600",
        args.join(" ")
    );
    let tmux = Tmux::start(serve.path(), &command);
    let screen = tmux.wait_for("· ana (engineer)");
    assert!(
        screen
            .lines()
            .next()
            .unwrap_or_default()
            .trim_end()
            .ends_with("· ana (engineer)"),
        "line 1 says who:\n{screen}"
    );
    tmux
}

/// Waits until `ready(screen)`; panics naming `what` with the last screen after 10 s.
fn wait_until(tmux: &Tmux, what: &str, ready: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let screen = tmux.screen();
        if ready(&screen) {
            return screen;
        }
        assert!(
            Instant::now() < deadline,
            "{what} never appeared; the screen:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn widest(screen: &str) -> usize {
    screen
        .lines()
        .map(|line| line.trim_end().chars().count())
        .max()
        .unwrap_or(0)
}

#[test]
fn the_tracker_shows_at_80x24_and_redraws_at_200x50_after_a_resize() {
    let (serve, _keys, key) = serve_ana();
    let tmux = tracker_in_tmux(&serve, &key);
    let screen = tmux.wait_for("Day 1: Audit actual database state");
    assert_eq!(tmux.flag("alternate_on"), "1", "the alternate screen");
    assert!(widest(&screen) <= 80, "{screen}");
    // The box around the list spans the whole width.
    assert!(
        screen.lines().any(|l| l.trim_end().chars().count() == 80),
        "{screen}"
    );

    assert!(
        tmux.run(&["resize-window", "-t", "e2e", "-x", "200", "-y", "50"])
            .status
            .success()
    );
    assert_eq!(tmux.flag("window_width"), "200");
    let screen = wait_until(&tmux, "a screen 200 columns wide", |s| widest(s) == 200);
    // From 180 columns the claim gets a column of its own; the last row is row 50.
    assert!(screen.lines().count() >= 45, "{screen}");
    let list_row = support::ssh::task_row(&screen, "flow-state-extensions-table");
    assert!(
        list_row.contains("crewai_flow_state_extensions table exists"),
        "{screen}"
    );
}

#[test]
fn q_ends_the_ssh_session_with_status_0_and_restores_the_terminal() {
    let (serve, _keys, key) = serve_ana();
    let tmux = tracker_in_tmux(&serve, &key);
    tmux.keys(&["j"]);
    tmux.wait_for("assets-multi-phase-columns · day 1");
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("ssh exited with");
    assert!(screen.contains("ssh exited with 0"), "{screen}");
    assert_eq!(
        tmux.flag("alternate_on"),
        "0",
        "back on the normal screen:\n{screen}"
    );
    assert_eq!(tmux.flag("cursor_flag"), "1", "the cursor is visible again");
    assert_eq!(tmux.flag("mouse_any_flag"), "0", "mouse reporting is off");
}

#[test]
fn the_host_key_known_on_first_use_is_accepted_after_a_restart() {
    let (mut serve, keys, key) = serve_ana();
    // Beside the key, so that it outlives the first server's directory.
    let known_hosts = keys.path().join("known_hosts");
    let known = known_hosts.to_str().unwrap().to_string();

    let (status, _, stderr) = ssh(
        &ssh_args(serve.port, &key, &known, "accept-new"),
        &["check", "--format", "text"],
    );
    assert_eq!(status, Some(1), "{stderr}");
    let recorded = std::fs::read_to_string(&known_hosts).unwrap();
    assert!(
        recorded.contains(&format!("[127.0.0.1]:{}", serve.port)),
        "{recorded}"
    );

    serve.restart();
    let (status, stdout, stderr) = ssh(
        &ssh_args(serve.port, &key, &known, "yes"),
        &["check", "--format", "text"],
    );
    assert_eq!(
        status,
        Some(1),
        "the same host key after a restart; stdout:\n{stdout}\nstderr:\n{stderr}"
    );

    // The check is real: a server with another host key on that port is refused.
    drop(serve);
    let (other, _other_keys, other_key) = serve_ana();
    let recorded = recorded.replace(
        &format!("[127.0.0.1]:{}", recorded_port(&recorded)),
        &format!("[127.0.0.1]:{}", other.port),
    );
    std::fs::write(&known_hosts, recorded).unwrap();
    let (status, _, stderr) = ssh(
        &ssh_args(other.port, &other_key, &known, "yes"),
        &["check", "--format", "text"],
    );
    assert_eq!(status, Some(255), "another host key is refused: {stderr}");
}

fn recorded_port(known_hosts: &str) -> u16 {
    let start = known_hosts.find("]:").unwrap() + 2;
    known_hosts[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn ssh_t_without_a_terminal_is_told_to_use_ssh_t_and_exits_1() {
    let (serve, _keys, key) = serve_ana();
    let known = serve.path().join("known_hosts");
    let mut args = vec!["-T".to_string()];
    args.extend(ssh_args(serve.port, &key, known.to_str().unwrap(), "no"));
    let (status, stdout, stderr) = ssh(&args, &[]);
    assert_eq!(status, Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains("needs a terminal: ssh -t"),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
}

#[test]
fn ssh_with_a_check_command_prints_the_report_and_its_exit_status() {
    let (serve, _keys, key) = serve_ana();
    let known = serve.path().join("known_hosts");
    let args = ssh_args(serve.port, &key, known.to_str().unwrap(), "no");
    let (status, stdout, stderr) = ssh(&args, &["check", "--format", "text"]);
    assert_eq!(status, Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let local = remtrack(serve.path(), &["check", "--format", "text"]);
    let local = String::from_utf8_lossy(&local.stdout);
    for id in [
        "flow-state-extensions-table",
        "master-flow-columns",
        "websocket-system",
    ] {
        assert!(stdout.contains(id), "{id} in the report:\n{stdout}");
        assert!(local.contains(id));
    }
    assert!(
        !stdout.contains("\x1b["),
        "no colour without a terminal:\n{stdout}"
    );
}
