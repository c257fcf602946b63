//! A public demo's sandbox must not grow without bound: what strangers send it is capped.

mod common;

use common::*;
use reqwest::StatusCode;
use sandbox::DEFAULT_CLIENT_ID;

#[tokio::test]
async fn an_oversized_state_is_refused_and_pending_authorizations_are_capped() {
    let sb = start().await;
    let authorize = format!("{}/oauth/authorize", sb.login_base());
    let huge = "s".repeat(4 * 1024);
    let response = http()
        .get(&authorize)
        .query(&[
            ("client_id", DEFAULT_CLIENT_ID),
            ("response_type", "code"),
            ("scopes", "linodes:read_write"),
            ("state", &huge),
        ])
        .send()
        .await
        .expect("get");
    // Refused with the error sent back to the client (and the huge state not echoed).
    assert!(response.status().is_redirection(), "{}", response.status());
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("error=invalid_request") && !location.contains(&huge[..100]), "{location}");
    let ok = http()
        .get(&authorize)
        .query(&[
            ("client_id", DEFAULT_CLIENT_ID),
            ("response_type", "code"),
            ("scopes", "linodes:read_write"),
            ("state", "fine"),
        ])
        .send()
        .await
        .expect("get");
    assert_eq!(ok.status(), StatusCode::OK);
}

#[test]
fn caps_drop_dead_entries_first_then_the_oldest() {
    use std::collections::HashMap;
    let mut map: HashMap<u32, (bool, u32)> = (0..10).map(|i| (i, (i % 2 == 0, i))).collect();
    sandbox::cap_for_tests(&mut map, 8, |v| v.0, |v| v.1);
    assert_eq!(map.len(), 5, "the five dead entries went first");
    assert!(map.values().all(|v| !v.0));
    sandbox::cap_for_tests(&mut map, 3, |_| false, |v| v.1);
    let mut left: Vec<u32> = map.keys().copied().collect();
    left.sort();
    assert_eq!(left, vec![7, 9], "then the oldest");
}
