//! The store's own guarantees, on a real SQLite file.

use std::{sync::Arc, time::Duration};

use linode::AccessToken;
use secrecy::{ExposeSecret, SecretString};

use super::*;
use crate::ids::{OutcomeId, ReplicaId, StateKey};
use domain::{DeployedLinode, Outcome};

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef-store-tests";

async fn store_at(path: &std::path::Path, key: &[u8]) -> Store {
    let settings = StoreSettings {
        url: SecretString::from(format!("sqlite://{}?mode=rwc", path.display())),
        max_connections: 4,
        op_timeout: Duration::from_secs(5),
    };
    Store::open(&settings, key).await.expect("store opens")
}

fn temp_file() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("iol-store-{}-{}", std::process::id(), OutcomeId::random()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("store.sqlite3")
}

fn deployed() -> Outcome {
    Outcome::Deployed(DeployedLinode {
        id: 7,
        label: "app-us-east-00000001".into(),
        tags: vec![],
        region: "Newark".into(),
        plan: "Nanode".into(),
        image: "Debian".into(),
        ipv4: None,
        status: domain::InstanceStatus::Provisioning,
        root_password: None,
        password_kept: false,
        ssh_keys: 0,
        root_login: Default::default(),
        extra_grant: Vec::new(),
        checks_app: false,
        app: Default::default(),
        sent: None,
        firewall: None,
    })
}

/// Journals `held` for outcome `id` on `holder`, with a lease that has already lapsed.
async fn journal_lapsed(store: &Store, id: &OutcomeId, held: &HeldToken, holder: &ReplicaId) {
    let entry =
        NewJournalEntry { outcome_id: id, held, holder, lease: Duration::ZERO, follow_bound: Duration::from_secs(60) };
    store.journal_token(entry).await.unwrap();
}

fn held() -> HeldToken {
    HeldToken {
        access: AccessToken::new("token-value"),
        refresh: None,
        root_password: Some(SecretString::from("pw")),
        label: "l".into(),
        ssh_keys: 0,
        firewall_label: None,
    }
}

#[tokio::test]
async fn exactly_one_of_many_concurrent_claims_wins() {
    let store = Arc::new(store_at(&temp_file(), KEY).await);
    let key = StateKey::of("some-state");
    let claims = (0..32).map(|_| {
        let store = store.clone();
        let key = key.clone();
        tokio::spawn(async move { store.claim(&key, Duration::from_secs(60)).await.unwrap() })
    });
    let mut mine = Vec::new();
    let mut taken = Vec::new();
    for claim in claims {
        match claim.await.unwrap() {
            Claim::Mine(id) => mine.push(id),
            Claim::Taken(id) => taken.push(id),
        }
    }
    assert_eq!(mine.len(), 1);
    assert!(taken.iter().all(|id| *id == mine[0]), "every loser is pointed at the winner's outcome");
}

#[tokio::test]
async fn the_password_is_encrypted_at_rest_and_taken_once() {
    let path = temp_file();
    let store = store_at(&path, KEY).await;
    let id = OutcomeId::random();
    let password = SecretString::from("hunter2-Secret-value");
    assert!(store.put_outcome(&id, &deployed(), Some(&password), None, Duration::from_secs(60)).await.unwrap());
    assert!(
        !store.put_outcome(&id, &deployed(), Some(&password), None, Duration::from_secs(60)).await.unwrap(),
        "first write wins"
    );
    drop(store);
    let bytes = std::fs::read(&path).unwrap();
    let wal = std::fs::read(path.with_extension("sqlite3-wal")).unwrap_or_default();
    for file in [&bytes, &wal] {
        assert!(!file.windows(20).any(|w| w == b"hunter2-Secret-value"), "no clear password on disk");
    }
    let store = store_at(&path, KEY).await;
    assert!(store.password_kept(&id).await.unwrap(), "looking does not take it");
    assert!(store.password_kept(&id).await.unwrap());
    let takes = futures_join(&store, &id).await;
    assert_eq!(takes.iter().filter(|t| t.is_some()).count(), 1, "one of the concurrent takes gets it");
    assert_eq!(takes.into_iter().flatten().next().unwrap().expose_secret(), "hunter2-Secret-value");
    assert!(store.take_password(&id).await.unwrap().is_none());
    assert!(!store.password_kept(&id).await.unwrap());
}

async fn futures_join(store: &Store, id: &OutcomeId) -> Vec<Option<SecretString>> {
    let (a, b, c) = tokio::join!(store.take_password(id), store.take_password(id), store.take_password(id));
    vec![a.unwrap(), b.unwrap(), c.unwrap()]
}

#[tokio::test]
async fn rows_sealed_with_another_key_or_altered_are_refused() {
    let path = temp_file();
    let store = store_at(&path, KEY).await;
    let id = OutcomeId::random();
    store.put_outcome(&id, &deployed(), Some(&SecretString::from("pw")), None, Duration::from_secs(60)).await.unwrap();
    let held = held();
    let holder = ReplicaId::random();
    journal_lapsed(&store, &id, &held, &holder).await;

    let foreign = store_at(&path, b"another-key-another-key-another-key!!").await;
    assert!(matches!(foreign.take_password(&id).await, Err(StoreError::Corrupt(_))));
    tokio::time::sleep(Duration::from_millis(5)).await;
    let taken = foreign.take_over_lapsed(&ReplicaId::random(), Duration::from_secs(10), 10).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert!(matches!(&taken[0], Err((_, StoreError::Corrupt(_)))), "a foreign journal row is refused");

    sqlx::query("UPDATE outcomes SET body = 'garbage'").execute(store.pool()).await.unwrap();
    assert!(matches!(store.outcome(&id).await, Err(StoreError::Corrupt(_))));
}

#[tokio::test]
async fn a_lapsed_lease_goes_to_exactly_one_replica() {
    let path = temp_file();
    let store = Arc::new(store_at(&path, KEY).await);
    let id = OutcomeId::random();
    let held = held();
    let dead = ReplicaId::random();
    journal_lapsed(&store, &id, &held, &dead).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let replicas = (0..4).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            store.take_over_lapsed(&ReplicaId::random(), Duration::from_secs(30), 10).await.unwrap().len()
        })
    });
    let mut total = 0;
    for replica in replicas {
        total += replica.await.unwrap();
    }
    assert_eq!(total, 1);
    let taken = store.take_over_lapsed(&ReplicaId::random(), Duration::from_secs(30), 10).await.unwrap();
    assert!(taken.is_empty(), "a renewed lease is not taken again");
}

#[tokio::test]
async fn after_a_key_rotation_the_previous_keys_rows_are_read_and_sealed_again_with_the_new_key() {
    const NEW: &[u8] = b"fedcba9876543210fedcba9876543210-store-tests";
    let path = temp_file();
    let old = store_at(&path, KEY).await;
    let id = OutcomeId::random();
    old.put_outcome(&id, &deployed(), Some(&SecretString::from("hunter2")), None, Duration::from_secs(60))
        .await
        .unwrap();
    let (held, holder) = (held(), ReplicaId::random());
    journal_lapsed(&old, &id, &held, &holder).await;

    // Without the previous key nothing reads; with it, both rows move to the new key.
    let rotated = store_at(&path, NEW).await.with_previous_keys(&[KEY]);
    assert_eq!(rotated.reseal().await.unwrap(), Resealed { resealed: 2, unreadable: 0 });
    assert_eq!(rotated.reseal().await.unwrap(), Resealed::default(), "nothing left to move");

    // The previous key can now be dropped: the new key alone reads both.
    let new_only = store_at(&path, NEW).await;
    assert_eq!(new_only.reseal().await.unwrap(), Resealed::default(), "no previous key, nothing to do");
    tokio::time::sleep(Duration::from_millis(5)).await;
    let taken = new_only.take_over_lapsed(&ReplicaId::random(), Duration::from_secs(10), 10).await.unwrap();
    let [Ok(entry)] = taken.as_slice() else { panic!("the journaled token reads with the new key: {taken:?}") };
    assert_eq!(entry.held.access.secret(), "token-value");
    let password = new_only.take_password(&id).await.unwrap().expect("the password reads with the new key");
    assert_eq!(password.expose_secret(), "hunter2");
}

#[tokio::test]
async fn a_password_less_deployment_journals_no_password_and_keeps_none() {
    let path = temp_file();
    let store = store_at(&path, KEY).await;
    let id = OutcomeId::random();
    store.put_outcome(&id, &deployed(), None, None, Duration::from_secs(60)).await.unwrap();
    assert!(!store.password_kept(&id).await.unwrap());
    assert!(store.take_password(&id).await.unwrap().is_none());
    let held = HeldToken { root_password: None, ..held() };
    let holder = ReplicaId::random();
    journal_lapsed(&store, &id, &held, &holder).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let taken = store.take_over_lapsed(&ReplicaId::random(), Duration::from_secs(10), 10).await.unwrap();
    let entry = taken.into_iter().next().unwrap().unwrap();
    assert!(entry.held.root_password.is_none(), "recovery creates no password either");
}
