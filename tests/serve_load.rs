//! `remtrack serve` under load on 127.0.0.1 only: idle TCP connections that never speak do
//! not keep others from logging in (the pre-login limits and deadline), and 50 people with
//! terminals at once all get the tracker and leave cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::ssh::{Client, LOCALHOST, LoginError, Serve, new_key, public_line, team_toml};
use tokio::net::{TcpSocket, TcpStream};

/// A TCP connection from `from` to the server that never sends a byte.
async fn idle_connection(port: u16, from: Ipv4Addr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    tokio::time::timeout(
        Duration::from_secs(5),
        socket.connect(SocketAddr::from((LOCALHOST, port))),
    )
    .await
    .expect("the TCP connect is answered")
    .unwrap()
}

/// True once the server has closed `stream` (reads everything it sent; never blocks).
fn closed_by_server(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match stream.try_read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

/// How many of `streams` are still open after the server had `settle` to close the rest.
async fn still_open(streams: &[TcpStream], settle: Duration) -> usize {
    tokio::time::sleep(settle).await;
    streams.iter().filter(|s| !closed_by_server(s)).count()
}

fn one_member(name: &str, role: &str) -> (Serve, russh::keys::PrivateKey) {
    let key = new_key();
    let serve = Serve::start(&team_toml("no-access", &[(name, role, &public_line(&key))]));
    (serve, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_idle_connections_from_one_address_do_not_keep_another_from_logging_in() {
    let (serve, key) = one_member("ana", "engineer");
    let flooder = Ipv4Addr::new(127, 0, 0, 2);
    let mut idle = Vec::new();
    for _ in 0..100 {
        idle.push(idle_connection(serve.port, flooder).await);
    }

    let started = Instant::now();
    let mut client = Client::connect(serve.port, &key)
        .await
        .unwrap_or_else(|e| panic!("a login while 100 idle connections are open: {e}"));
    client.shell(100, 30).await;
    client
        .wait_for("· ana (engineer)", Duration::from_secs(5))
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the login took {:?}",
        started.elapsed()
    );

    let open = still_open(&idle, Duration::from_secs(1)).await;
    assert!(
        open <= 4,
        "at most 4 connections per address wait for their login; {open} of 100 are open"
    );
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_16_connections_wait_for_their_login() {
    let (serve, key) = one_member("ana", "engineer");
    let mut idle = Vec::new();
    for address in 2..8 {
        for _ in 0..4 {
            idle.push(idle_connection(serve.port, Ipv4Addr::new(127, 0, 0, address)).await);
        }
    }
    let open = still_open(&idle, Duration::from_secs(1)).await;
    assert!(
        open <= 16,
        "{open} of 24 idle connections from 6 addresses are open"
    );

    // Once they go, logins work again.
    drop(idle);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match Client::connect(serve.port, &key).await {
            Ok(client) => {
                client.close().await;
                break;
            }
            Err(LoginError::Refused) => panic!("the member's key was refused"),
            Err(LoginError::Closed(why)) => {
                assert!(
                    Instant::now() < deadline,
                    "no login within 5 s of the idle connections going: {why}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_never_logs_in_is_closed_after_20_s() {
    let (serve, key) = one_member("ana", "engineer");
    let idle = idle_connection(serve.port, LOCALHOST).await;
    let opened = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        !closed_by_server(&idle),
        "closed before its login deadline; the log:\n{}",
        serve.log()
    );
    let client = Client::login(serve.port, &key).await;

    while !closed_by_server(&idle) {
        assert!(
            opened.elapsed() < Duration::from_secs(26),
            "an idle connection is still open after {:?}",
            opened.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        opened.elapsed() >= Duration::from_secs(15),
        "closed after {:?}, before its 20 s; the log:\n{}",
        opened.elapsed(),
        serve.log()
    );
    // The logged-in session is not subject to the login deadline.
    let (_, status) = client.exec("check --format json").await;
    assert_eq!(status, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_people_with_terminals_at_once_all_get_the_tracker_and_leave_cleanly() {
    const PEOPLE: usize = 50;
    let keys: Vec<_> = (0..PEOPLE).map(|_| new_key()).collect();
    let names: Vec<String> = (1..=PEOPLE).map(|n| format!("u{n:02}")).collect();
    let lines: Vec<String> = keys.iter().map(public_line).collect();
    let members: Vec<(&str, &str, &str)> = names
        .iter()
        .zip(&lines)
        .map(|(name, line)| (name.as_str(), "viewer", line.as_str()))
        .collect();
    let serve = Serve::start(&team_toml("no-access", &members));
    let port = serve.port;
    let started = Instant::now();

    // Each from an address of its own, at most 8 logging in at a time (the limit is 16).
    let gate = Arc::new(tokio::sync::Semaphore::new(8));
    let mut joins = Vec::new();
    for (index, (key, name)) in keys.into_iter().zip(names).enumerate() {
        let gate = Arc::clone(&gate);
        joins.push(tokio::spawn(async move {
            let from = Ipv4Addr::new(127, 0, 1, u8::try_from(index + 1).unwrap());
            let mut client = {
                let _slot = gate.acquire().await.unwrap();
                Client::connect_as(port, "load", &key, from)
                    .await
                    .unwrap_or_else(|e| panic!("{name} logging in: {e}"))
            };
            client.shell(80, 24).await;
            client
                .wait_for(&format!("· {name} (viewer)"), Duration::from_secs(30))
                .await;
            client
        }));
    }
    let mut clients = Vec::new();
    for join in joins {
        clients.push(join.await.unwrap());
    }
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "50 logins took {:?}",
        started.elapsed()
    );

    // Everyone is still there, and the tracker still answers keys.
    clients[0].send(b"j").await;
    clients[0]
        .wait_for("assets-multi-phase-columns · day 1", Duration::from_secs(5))
        .await;

    for client in &clients {
        client.send(b"q").await;
    }
    for (index, client) in clients.iter().enumerate() {
        assert_eq!(
            client.exit_status(Duration::from_secs(10)).await,
            Some(0),
            "u{:02} quit with q:\n{}",
            index + 1,
            client.screen()
        );
        assert!(client.channel_closed(Duration::from_secs(5)).await);
    }
    for client in clients {
        client.close().await;
    }

    // The server survived it, and SIGTERM still stops it cleanly.
    let mut serve = serve;
    assert!(serve.is_running(), "{}", serve.stderr());
    let status = serve.stop();
    assert!(status.success(), "{status}; stderr:\n{}", serve.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_key_holds_at_most_eight_connections() {
    let (serve, key) = one_member("ana", "engineer");
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(Client::login(serve.port, &key).await);
    }
    let ninth = Client::login(serve.port, &key).await;
    let (out, status) = ninth.exec("check --format json").await;
    assert_eq!(status, 1, "{out}");
    assert!(
        out.contains("8 connections with this key are open already"),
        "{out}"
    );
    // The eight that hold their places still work.
    let (_, status) = held[0].exec("check --format json").await;
    assert_eq!(status, 1, "the demo overclaims");
}
