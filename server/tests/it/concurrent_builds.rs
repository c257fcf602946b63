//! Several servers in one process — every test binary here, or an operator embedding more than
//! one: building one must never stall a page that another is rendering. Leptos lists an app's
//! routes by rendering it with a process-wide flag set that keeps resources from loading; the
//! server lists them once per process, so no build can set that flag while pages render.

use std::time::Duration;

use crate::support::spawn_app;
use reqwest::{Client, StatusCode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn building_a_server_never_stalls_the_pages_of_another() {
    let app = spawn_app(&[]).await;
    // Far above a page's few milliseconds; a stalled page never answers at all.
    let client = Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    for round in 0..15 {
        let builds = tokio::spawn(async {
            for _ in 0..4 {
                spawn_app(&[]).await;
            }
        });
        let mut pages = tokio::task::JoinSet::new();
        for _ in 0..20 {
            pages.spawn(client.get(app.url("/")).send());
        }
        while let Some(page) = pages.join_next().await {
            let page = page
                .unwrap()
                .unwrap_or_else(|error| panic!("round {round}: a page stalled while servers were built: {error}"));
            assert_eq!(page.status(), StatusCode::OK);
        }
        builds.await.unwrap();
    }
}
