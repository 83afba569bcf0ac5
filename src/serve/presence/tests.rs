//! Who is here and who follows whom: joining, leaving, following and its refusals, ending a session.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use std::time::Duration;

fn peer(session: SessionId, name: &str, following: Option<SessionId>) -> Peer {
    Peer {
        session,
        name: name.into(),
        role: Role::Engineer,
        task_id: None,
        view: "Days".into(),
        following,
    }
}

#[tokio::test]
async fn join_and_leave_update_the_roster_and_notify() {
    let room = Room::new();
    let mut rx = room.subscribe();
    assert!(room.is_empty());

    let ana = room.join("ana", Role::Admin);
    let bob = room.join("bob", Role::Viewer);
    assert!(rx.has_changed().unwrap());
    let roster = rx.borrow_and_update().clone();
    let names: Vec<&str> = roster.peers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["ana", "bob"]);
    assert_eq!(roster.get(bob.id()).unwrap().role, Role::Viewer);
    assert_ne!(ana.id(), bob.id());
    assert_eq!(room.len(), 2);
    assert_eq!(
        roster
            .others(ana.id())
            .map(|p| p.session)
            .collect::<Vec<_>>(),
        [bob.id()]
    );

    let bob_id = bob.id();
    drop(bob);
    tokio::time::timeout(Duration::from_secs(1), rx.changed())
        .await
        .unwrap()
        .unwrap();
    assert!(rx.borrow_and_update().get(bob_id).is_none());
    assert_eq!(room.len(), 1);
    assert_eq!(room.roster().peers[0].name, "ana");
}

#[tokio::test]
async fn ids_are_never_reused() {
    let room = Room::new();
    let first = room.join("ana", Role::Viewer).id();
    let second = room.join("ana", Role::Viewer).id();
    let third = room.clone().join("ana", Role::Viewer).id();
    assert!(first < second && second < third);
    assert!(room.is_empty());
}

#[tokio::test]
async fn a_leaving_driver_frees_its_followers() {
    let room = Room::new();
    let ana = room.join("ana", Role::Engineer);
    let bob = room.join("bob", Role::Viewer);
    let cat = room.join("cat", Role::Viewer);
    bob.update(Some("T-1".into()), "Days", Some(ana.id()))
        .unwrap();
    cat.update(None, "Days", Some(bob.id())).unwrap();
    let roster = room.roster();
    let followers: Vec<&str> = roster
        .followers_of(ana.id())
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(followers, ["bob"]);

    let ana_id = ana.id();
    drop(ana);
    let roster = room.roster();
    assert!(roster.get(ana_id).is_none());
    assert_eq!(roster.get(bob.id()).unwrap().following, None);
    // Bob kept where he was looking; only the link went.
    assert_eq!(
        roster.get(bob.id()).unwrap().task_id.as_deref(),
        Some("T-1")
    );
    assert_eq!(roster.get(cat.id()).unwrap().following, Some(bob.id()));
    assert!(
        roster
            .peers
            .iter()
            .all(|p| p.following.is_none_or(|d| roster.get(d).is_some()))
    );
}

#[test]
fn may_follow_refuses_loops() {
    let roster = Roster {
        peers: vec![
            peer(1, "ana", None),
            peer(2, "bob", Some(1)),
            peer(3, "cat", Some(2)),
            peer(4, "dan", None),
            // A loop that does not involve 1–4; it should not exist, but must not hang.
            peer(5, "eve", Some(6)),
            peer(6, "fay", Some(5)),
        ],
    };
    assert_eq!(roster.may_follow(1, 1), Err(FollowRefused::Yourself));
    assert_eq!(
        roster.may_follow(1, 99),
        Err(FollowRefused::NotHere { session: 99 })
    );
    assert_eq!(
        roster.may_follow(1, 2),
        Err(FollowRefused::FollowsYou {
            driver: "bob".into(),
            through: vec![]
        })
    );
    let indirect = roster.may_follow(1, 3).unwrap_err();
    assert_eq!(
        indirect,
        FollowRefused::FollowsYou {
            driver: "cat".into(),
            through: vec!["bob".into()]
        }
    );
    assert_eq!(indirect.to_string(), "cat is following you (through bob)");
    assert_eq!(
        roster.may_follow(2, 3).unwrap_err().to_string(),
        "cat is following you"
    );
    // Chains that do not come back are fine.
    assert_eq!(roster.may_follow(4, 3), Ok(()));
    assert_eq!(roster.may_follow(4, 1), Ok(()));
    assert_eq!(roster.may_follow(1, 4), Ok(()));
    assert_eq!(roster.may_follow(4, 5), Ok(()));
    assert_eq!(
        FollowRefused::Yourself.to_string(),
        "you cannot follow yourself"
    );
}

#[tokio::test]
async fn update_refuses_a_cycle_made_by_a_race() {
    let room = Room::new();
    let ana = room.join("ana", Role::Engineer);
    let bob = room.join("bob", Role::Engineer);
    // Both checked against a roster where nobody followed anybody.
    let before = room.roster();
    assert!(before.may_follow(ana.id(), bob.id()).is_ok());
    assert!(before.may_follow(bob.id(), ana.id()).is_ok());
    ana.update(None, "Days", Some(bob.id())).unwrap();
    let refused = bob.update(Some("T-2".into()), "Plan", Some(ana.id()));
    assert_eq!(
        refused,
        Err(FollowRefused::FollowsYou {
            driver: "ana".into(),
            through: vec![]
        })
    );
    let bob_now = room.roster().get(bob.id()).cloned().unwrap();
    assert_eq!(bob_now.following, None);
    assert_eq!(bob_now.view, "Plan");
    assert_eq!(
        bob.update(None, "Plan", Some(999)),
        Err(FollowRefused::NotHere { session: 999 })
    );
}

#[tokio::test]
async fn an_update_that_changes_nothing_does_not_notify() {
    let room = Room::new();
    let ana = room.join("ana", Role::Engineer);
    let mut rx = room.subscribe();
    rx.borrow_and_update();

    ana.update(Some("T-1".into()), "Days", None).unwrap();
    assert!(rx.has_changed().unwrap());
    rx.borrow_and_update();

    ana.update(Some("T-1".into()), "Days", None).unwrap();
    assert!(!rx.has_changed().unwrap());

    ana.update(Some("T-1".into()), "Plan", None).unwrap();
    assert!(rx.has_changed().unwrap());
    let roster = rx.borrow_and_update().clone();
    assert_eq!(roster.get(ana.id()).unwrap().view, "Plan");
    assert_eq!(roster.on_task("T-1").count(), 1);
    assert_eq!(roster.on_task("T-9").count(), 0);
}

#[tokio::test]
async fn end_session_resolves_ended() {
    let room = Room::new();
    let ana = room.join("ana", Role::Admin);
    let bob = room.join("bob", Role::Viewer);
    let mut rx = room.subscribe();
    rx.borrow_and_update();

    let not_yet = tokio::time::timeout(Duration::from_millis(20), bob.ended()).await;
    assert!(not_yet.is_err());

    assert!(room.end_session(bob.id()));
    tokio::time::timeout(Duration::from_secs(1), bob.ended())
        .await
        .unwrap();
    // Still resolved when asked again, and only bob was ended.
    tokio::time::timeout(Duration::from_secs(1), bob.ended())
        .await
        .unwrap();
    let ana_ended = tokio::time::timeout(Duration::from_millis(20), ana.ended()).await;
    assert!(ana_ended.is_err());
    // Ending does not touch the roster; leaving does.
    assert!(!rx.has_changed().unwrap());
    let bob_id = bob.id();
    drop(bob);
    assert!(!room.end_session(bob_id));
    assert!(!room.end_session(12345));
}

#[test]
fn initials_table() {
    for (name, want) in [
        ("ana", "AN"),
        ("Bob Stone", "BS"),
        ("x", "X"),
        ("mary ann lee", "ML"),
        ("  bob  ", "BO"),
        ("ana-maria", "AM"),
        ("j.doe", "JD"),
        ("élodie", "ÉL"),
        ("straße", "ST"),
        ("ßa", "SA"),
        ("李明", "李明"),
        ("@bob", "BO"),
        ("🚀", "🚀"),
        ("", "?"),
        ("   ", "?"),
    ] {
        assert_eq!(initials(name), want, "initials({name:?})");
    }
}
