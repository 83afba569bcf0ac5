//! A shared tracker without SSH: roles refuse what a viewer may not do, presence shows who is
//! where, and following moves one view with another until its person moves.

use super::tests::live_app;
use super::*;
use crate::serve::presence::{Presence, Room};
use crate::serve::team::Role;
use crate::tui::action::Msg;

/// A person's view in `room`, with their presence, as the server makes it.
fn person(room: &Room, name: &str, role: Role) -> (App, Presence) {
    let presence = room.join(name, role);
    let mut app = live_app();
    app.user = name.into();
    app.pairing = Some(Pairing::new(presence.id(), role));
    app.receive(Msg::Roster(room.roster()));
    (app, presence)
}

/// What the host does after every change: tell the room where this view is, then hand every
/// view the new roster.
fn sync(room: &Room, people: &mut [(&mut App, &Presence)]) {
    for (app, presence) in people.iter() {
        let (task, view, following) = app.whereabouts();
        let _ = presence.update(task, view, following);
    }
    for (app, _) in people.iter_mut() {
        app.receive(Msg::Roster(room.roster()));
    }
}

/// Ana (engineer) and bob (viewer) in `room`, each told where the other is.
fn ana_and_bob(room: &Room) -> ((App, Presence), (App, Presence)) {
    let (mut ana, ana_here) = person(room, "ana", Role::Engineer);
    let (mut bob, bob_here) = person(room, "bob", Role::Viewer);
    sync(room, &mut [(&mut ana, &ana_here), (&mut bob, &bob_here)]);
    ((ana, ana_here), (bob, bob_here))
}

/// `f`, then Enter on the first person listed.
fn follow_the_first(app: &mut App) {
    app.act(Action::FollowPicker);
    app.act(Action::Submit);
}

fn selected_id(app: &App) -> Option<String> {
    app.selected_task().map(|task| task.id.clone())
}

#[test]
fn a_viewer_may_look_but_not_verify_unverify_or_note_and_says_why() {
    let room = Room::new();
    let (mut bob, _presence) = person(&room, "bob", Role::Viewer);
    for (action, what) in [
        (Action::Verify, "verifying"),
        (Action::Unverify, "withdrawing a verification"),
        (Action::Note, "adding a note"),
    ] {
        let effects = bob.act(action);
        assert!(effects.is_empty());
        assert!(matches!(bob.mode, Mode::Normal), "no dialog opens");
        assert_eq!(
            bob.notice.as_deref(),
            Some(format!("bob is a viewer: {what} needs the engineer role").as_str())
        );
    }
    // Looking around is his to do.
    bob.act(Action::Down);
    assert_eq!(bob.notice, None);
}

#[test]
fn an_engineer_opens_the_dialog_and_the_local_tracker_has_no_roles() {
    let room = Room::new();
    let (mut ana, _presence) = person(&room, "ana", Role::Engineer);
    ana.act(Action::Note);
    assert!(matches!(ana.mode, Mode::Dialog(_)));

    let mut local = live_app();
    local.act(Action::Note);
    assert!(matches!(local.mode, Mode::Dialog(_)));
}

#[test]
fn a_role_changed_by_a_reloaded_team_file_applies_at_once() {
    let room = Room::new();
    let (mut ana, presence) = person(&room, "ana", Role::Engineer);
    room.set_role(presence.id(), Role::Viewer);
    ana.receive(Msg::Roster(room.roster()));
    ana.act(Action::Note);
    assert!(matches!(ana.mode, Mode::Normal));
    assert!(
        ana.notice
            .as_deref()
            .is_some_and(|n| n.contains("needs the engineer role"))
    );
}

#[test]
fn others_show_on_the_task_they_are_on_and_leave_when_they_go() {
    let room = Room::new();
    let (mut ana, ana_here) = person(&room, "ana", Role::Engineer);
    let (mut bob, bob_here) = person(&room, "bob", Role::Viewer);
    bob.act(Action::NextGroup);
    sync(&room, &mut [(&mut ana, &ana_here), (&mut bob, &bob_here)]);
    let bobs_task = selected_id(&bob).unwrap();
    assert_eq!(
        ana.others_on(&bobs_task)
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["bob"]
    );
    assert!(
        ana.others_on(&selected_id(&ana).unwrap()).is_empty(),
        "nobody else on ana's"
    );
    assert!(
        bob.others_on(&bobs_task).is_empty(),
        "one is not 'another' to oneself"
    );

    drop(bob_here);
    ana.receive(Msg::Roster(room.roster()));
    assert!(ana.others_on(&bobs_task).is_empty());
}

#[test]
fn following_moves_with_the_driver_until_the_follower_moves() {
    let room = Room::new();
    let ((mut ana, ana_here), (mut bob, bob_here)) = ana_and_bob(&room);

    bob.act(Action::FollowPicker);
    assert!(matches!(bob.mode, Mode::PickPeer(_)));
    bob.act(Action::Submit);
    assert_eq!(
        bob.notice.as_deref(),
        Some("following ana: moving yourself stops it")
    );

    // Ana goes to day 2, then down a task, then to the risks view: bob goes with her.
    for action in [Action::NextGroup, Action::Down] {
        ana.act(action);
        sync(&room, &mut [(&mut ana, &ana_here), (&mut bob, &bob_here)]);
        assert_eq!(selected_id(&bob), selected_id(&ana));
        assert_eq!(bob.day, ana.day);
    }
    ana.act(Action::Show(crate::tui::action::View::Risks));
    sync(&room, &mut [(&mut ana, &ana_here), (&mut bob, &bob_here)]);
    assert_eq!(bob.view, crate::tui::action::View::Risks);
    ana.act(Action::Show(crate::tui::action::View::Days));
    sync(&room, &mut [(&mut ana, &ana_here), (&mut bob, &bob_here)]);
    assert_eq!(bob.view, crate::tui::action::View::Days);
    assert_eq!(selected_id(&bob), selected_id(&ana));

    // Bob moves himself: following stops, and ana's next move leaves him where he is.
    bob.act(Action::Up);
    assert_eq!(bob.notice.as_deref(), Some("stopped following ana"));
    let bobs = selected_id(&bob);
    ana.act(Action::NextGroup);
    sync(&room, &mut [(&mut ana, &ana_here), (&mut bob, &bob_here)]);
    assert_eq!(selected_id(&bob), bobs);
    assert_ne!(selected_id(&bob), selected_id(&ana));
}

#[test]
fn following_someone_who_follows_you_is_refused() {
    let room = Room::new();
    let ((mut ana, ana_here), (mut bob, bob_here)) = ana_and_bob(&room);
    follow_the_first(&mut bob);
    sync(&room, &mut [(&mut ana, &ana_here), (&mut bob, &bob_here)]);

    follow_the_first(&mut ana);
    assert!(
        ana.notice
            .as_deref()
            .is_some_and(|n| n.starts_with("cannot follow bob:") && n.contains("is following you")),
        "{:?}",
        ana.notice
    );
    assert!(ana.pairing.as_ref().unwrap().following.is_none());
}

#[test]
fn when_the_driver_leaves_the_follower_is_told_and_stays_put() {
    let room = Room::new();
    let ((mut ana, ana_here), (mut bob, bob_here)) = ana_and_bob(&room);
    follow_the_first(&mut bob);
    ana.act(Action::NextGroup);
    sync(&room, &mut [(&mut ana, &ana_here), (&mut bob, &bob_here)]);
    let there = selected_id(&bob);

    drop(ana_here);
    bob.receive(Msg::Roster(room.roster()));
    assert_eq!(
        bob.notice.as_deref(),
        Some("ana left: you are no longer following")
    );
    assert!(bob.pairing.as_ref().unwrap().following.is_none());
    assert_eq!(selected_id(&bob), there);
}

#[test]
fn the_follow_list_is_refused_alone_and_ending_sessions_is_for_admins() {
    let room = Room::new();
    let (mut ana, _ana_here) = person(&room, "ana", Role::Engineer);
    ana.act(Action::FollowPicker);
    assert_eq!(ana.notice.as_deref(), Some("nobody else is here"));
    assert!(matches!(ana.mode, Mode::Normal));

    let (mut root, root_here) = person(&room, "root", Role::Admin);
    ana.receive(Msg::Roster(room.roster()));
    ana.act(Action::FollowPicker);
    assert!(ana.act(Action::EndSession).is_empty());
    assert!(
        ana.notice
            .as_deref()
            .is_some_and(|n| n.contains("needs the admin role"))
    );
    ana.act(Action::Cancel);

    root.receive(Msg::Roster(room.roster()));
    root.act(Action::FollowPicker);
    let effects = root.act(Action::EndSession);
    let ana_id = room.roster().peers[0].session;
    assert_eq!(effects, vec![Effect::EndSession(ana_id)]);
    assert_ne!(ana_id, root_here.id());
    assert!(matches!(root.mode, Mode::Normal));
}
