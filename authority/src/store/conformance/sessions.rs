//! Conformance cases for dashboard sessions.

use super::*;
use crate::ids::MemberId;
use crate::sessions::{SessionActor, SessionRecord, SessionToken};

fn session(org: &str, key: &KeyId, created: i64, seen: i64) -> SessionRecord {
    SessionRecord {
        actor: SessionActor::Key(key.clone()),
        org: org_id(org),
        created_at: T0.plus_secs(created),
        last_seen_at: T0.plus_secs(seen),
    }
}

/// Sessions round-trip by token hash, survive a reopen, are touched
/// upwards only, are never brought back by a touch, and end one by one,
/// per key or member (in its org only), or by the timeouts' sweep.
pub async fn sessions_live_in_the_store<F: StoreFactory>(f: &F) {
    let loc = f.fresh().await;
    let s = f.open(&loc).await;
    let (k1, k2) = (KeyId::generate(), KeyId::generate());
    let tokens: Vec<SessionToken> = (0..5).map(|_| SessionToken::generate()).collect();
    let hash = |i: usize| tokens[i].hash();
    let rows = [
        session("acme", &k1, 0, 0),
        session("acme", &k1, 10, 10),
        session("acme", &k2, 0, 0),
        session("beta", &k1, 0, 0),
        session("acme", &k2, 0, 500),
    ];
    for (i, row) in rows.iter().enumerate() {
        s.create_session(&hash(i), row).await.unwrap();
    }
    drop(s);
    let s = f.open(&loc).await;
    assert_eq!(
        s.get_session(&hash(0)).await.unwrap().as_ref(),
        Some(&rows[0])
    );
    assert_eq!(
        s.get_session(&SessionToken::generate().hash())
            .await
            .unwrap(),
        None
    );

    s.touch_session(&hash(0), T0.plus_secs(60)).await.unwrap();
    s.touch_session(&hash(0), T0.plus_secs(30)).await.unwrap();
    let touched = s.get_session(&hash(0)).await.unwrap().unwrap();
    assert_eq!(
        touched.last_seen_at,
        T0.plus_secs(60),
        "raised, never lowered"
    );
    assert_eq!(touched.created_at, rows[0].created_at);

    s.delete_session(&hash(1)).await.unwrap();
    s.delete_session(&hash(1)).await.unwrap();
    assert_eq!(s.get_session(&hash(1)).await.unwrap(), None);
    s.touch_session(&hash(1), T0.plus_secs(90)).await.unwrap();
    assert_eq!(
        s.get_session(&hash(1)).await.unwrap(),
        None,
        "a touch never brings a session back"
    );

    // k1's sessions in acme end; beta's session of the same key id stays.
    assert_eq!(
        s.delete_sessions_of(&org_id("acme"), &SessionActor::Key(k1.clone()))
            .await
            .unwrap(),
        1
    );
    assert_eq!(s.get_session(&hash(0)).await.unwrap(), None);
    assert!(s.get_session(&hash(3)).await.unwrap().is_some());

    // Sweep: created before +100 s or seen before +400 s. Row 2 (created
    // 0, seen 0) and row 3 go; row 4 was created at 0 too, so it goes by
    // age although seen recently.
    let swept = s
        .sweep_sessions(T0.plus_secs(100), T0.plus_secs(400))
        .await
        .unwrap();
    assert!(swept >= 3, "{swept}");
    for i in [2, 3, 4] {
        assert_eq!(s.get_session(&hash(i)).await.unwrap(), None, "row {i}");
    }
    let fresh = SessionToken::generate();
    s.create_session(&fresh.hash(), &session("acme", &k2, 200, 450))
        .await
        .unwrap();
    s.sweep_sessions(T0.plus_secs(100), T0.plus_secs(400))
        .await
        .unwrap();
    assert!(
        s.get_session(&fresh.hash()).await.unwrap().is_some(),
        "a live session survives the sweep"
    );

    // A member's sessions end together; a key's session stays.
    let member = MemberId::generate();
    let mine = SessionToken::generate();
    let theirs = SessionToken::generate();
    let member_session = SessionRecord {
        actor: SessionActor::Member(member.clone()),
        ..session("acme", &k2, 1000, 1000)
    };
    s.create_session(&mine.hash(), &member_session)
        .await
        .unwrap();
    s.create_session(&theirs.hash(), &session("acme", &k2, 1000, 1000))
        .await
        .unwrap();
    assert_eq!(
        s.get_session(&mine.hash()).await.unwrap().as_ref(),
        Some(&member_session)
    );
    assert_eq!(
        s.delete_sessions_of(&org_id("acme"), &SessionActor::Member(member))
            .await
            .unwrap(),
        1
    );
    assert_eq!(s.get_session(&mine.hash()).await.unwrap(), None);
    assert!(s.get_session(&theirs.hash()).await.unwrap().is_some());
}
