//! Several server processes on one PostgreSQL database, sharing only `DATABASE_URL` and
//! `SESSION_KEY`, with no sticky sessions: every request of every flow goes to a random replica.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use crate::support::{
    browser,
    postgres::Postgres,
    process::{await_all_revoked, live_tokens, standalone_sandbox, until_callback_on, ServerProcess},
    testid_text,
};
use rand::Rng;
use reqwest::StatusCode;

struct Replicas {
    bases: Vec<String>,
}

impl Replicas {
    fn any(&self) -> &str {
        &self.bases[rand::rng().random_range(0..self.bases.len())]
    }
}

/// One person's whole flow, each request to a random replica. Returns (the replica that ran the
/// callback, whether the password was shown on the first view and never again).
async fn one_flow(replicas: &Replicas, public_base: &str) -> (usize, bool) {
    let browser = browser();
    // The form post on one random replica (the consent is on Linode's page), allowing both
    // permissions asked for: each flow makes the app's firewall, then its Linode. The browser is
    // on the public address, which is what its Referer names.
    let scopes = ["linodes:read_write", "firewall:read_write"];
    let (_, callback) = until_callback_on(&browser, replicas.any(), public_base, &scopes).await;
    let replica = rand::rng().random_range(0..replicas.bases.len());
    let on_replica = callback.replacen(public_base, &replicas.bases[replica], 1);
    let response = browser.get(&on_replica).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "callback");
    // A replay of the same callback on another replica: the same outcome, nothing more created.
    let replay = callback.replacen(public_base, replicas.any(), 1);
    assert_eq!(browser.get(&replay).send().await.unwrap().status(), StatusCode::SEE_OTHER);

    let first = browser.get(format!("{}/deployment", replicas.any())).send().await.unwrap().text().await.unwrap();
    assert!(first.contains("data-testid=\"deployed\""), "{first}");
    let progress = browser
        .post(format!("{}/api/deployment_progress", replicas.any()))
        .header("Origin", public_base)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(progress.status(), StatusCode::OK);
    let second = browser.get(format!("{}/deployment", replicas.any())).send().await.unwrap().text().await.unwrap();
    let shown = |html: &str| testid_text(html, "root-password").is_some_and(|p| !p.is_empty());
    (replica, shown(&first) && !shown(&second))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_flows_across_three_replicas_without_sticky_sessions() {
    let cluster = Postgres::start();
    cluster.database("replicas");
    // The sandbox sends people back to the first replica's address (the "public" one).
    let (public_base, servers, sandbox) = {
        // Start the sandbox knowing the public base: pick the ports first.
        let ports: Vec<u16> = (0..3).map(|_| crate::support::free_port()).collect();
        let public_base = format!("http://127.0.0.1:{}", ports[0]);
        let sandbox = standalone_sandbox(&public_base, Duration::from_millis(300), Duration::from_millis(300)).await;
        let env = vec![("DATABASE_URL", cluster.url("replicas")), ("DATABASE_MAX_CONNECTIONS", "8".to_owned())];
        let mut servers = Vec::new();
        for port in ports {
            servers.push(ServerProcess::start(port, &public_base, &sandbox, &env).await);
        }
        (public_base, servers, sandbox)
    };
    let replicas = Arc::new(Replicas { bases: servers.iter().map(|s| s.base.clone()).collect() });
    let started = Instant::now();
    let flows: Vec<_> = (0..100)
        .map(|_| {
            let replicas = replicas.clone();
            let public_base = public_base.clone();
            tokio::spawn(async move { one_flow(&replicas, &public_base).await })
        })
        .collect();
    let mut once = 0;
    for flow in flows {
        let (_, shown_once) = flow.await.expect("a flow failed");
        once += usize::from(shown_once);
    }
    println!("100 flows across 3 replicas in {:?}", started.elapsed());
    assert_eq!(once, 100, "each password shown exactly once");
    let inspection = sandbox.sandbox.inspect();
    assert_eq!(inspection.instances.len(), 100, "exactly one Linode per flow");
    // And one firewall per Linode, replays and replicas notwithstanding.
    let firewalls: Vec<_> =
        inspection.firewalls.iter().filter(|f| f.label != sandbox::DEFAULT_FIREWALL_LABEL).collect();
    assert_eq!(firewalls.len(), 100, "exactly one firewall per flow");
    assert!(firewalls.iter().all(|f| f.linode_ids.len() == 1), "each protecting its own Linode");
    assert_eq!(inspection.count("POST /v4/networking/firewalls"), 100);
    let took = await_all_revoked(&sandbox.sandbox, Duration::from_secs(30)).await;
    println!("all 100 tokens revoked {took:?} after the last flow");
    drop(servers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tokens_of_a_killed_replica_are_revoked_by_the_others_within_30_s() {
    let cluster = Postgres::start();
    cluster.database("killed");
    let ports: Vec<u16> = (0..3).map(|_| crate::support::free_port()).collect();
    let public_base = format!("http://127.0.0.1:{}", ports[0]);
    // Linodes run after 3 s: the replica is still following (holding tokens) when killed.
    let sandbox = standalone_sandbox(&public_base, Duration::from_secs(2), Duration::from_secs(1)).await;
    let env = vec![
        ("DATABASE_URL", cluster.url("killed")),
        ("DATABASE_MAX_CONNECTIONS", "8".to_owned()),
        ("FOLLOW_IDLE_SECS", "300".to_owned()),
    ];
    let mut servers = Vec::new();
    for port in &ports {
        servers.push(ServerProcess::start(*port, &public_base, &sandbox, &env).await);
    }
    let replicas = Arc::new(Replicas { bases: servers.iter().map(|s| s.base.clone()).collect() });
    let flows: Vec<_> = (0..30)
        .map(|_| {
            let replicas = replicas.clone();
            let public_base = public_base.clone();
            tokio::spawn(async move { one_flow(&replicas, &public_base).await })
        })
        .collect();
    let mut on_victim = 0;
    for flow in flows {
        let (replica, shown_once) = flow.await.unwrap();
        assert!(shown_once);
        on_victim += usize::from(replica == 1);
    }
    assert!(on_victim > 0, "some flows ran on the replica about to be killed");
    let alive_before = live_tokens(&sandbox.sandbox);
    assert!(alive_before >= on_victim, "{alive_before} live tokens, {on_victim} held by the victim");

    servers[1].kill9();
    let killed_at = Instant::now();
    let took = await_all_revoked(&sandbox.sandbox, Duration::from_secs(30)).await;
    println!("{on_victim} tokens of the killed replica (and all others) revoked {took:?} after the kill");
    assert!(killed_at.elapsed() <= Duration::from_secs(31));
    assert_eq!(sandbox.sandbox.inspect().instances.len(), 30);
}
