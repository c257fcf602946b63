//! The flow's promises when things go wrong around it: a browser that gives up during the
//! callback, a server killed with SIGKILL while it holds a token, and a store that is down,
//! unreachable or slow. Real processes, a real SQLite file and a real PostgreSQL cluster.

use std::time::{Duration, Instant};

use crate::support::{
    browser, failure_kind, location,
    postgres::Postgres,
    process::{await_all_revoked, live_tokens, standalone_sandbox, until_callback, ServerProcess},
    spawn_app, testid_text, TestApp,
};
use reqwest::StatusCode;
use sandbox::FaultRule;

const CREATE: &str = "POST /v4/linode/instances";

fn password_of(html: &str) -> Option<String> {
    testid_text(html, "root-password").filter(|p| !p.is_empty())
}

#[tokio::test]
async fn a_browser_that_gives_up_during_the_create_gets_its_linode_on_reload() {
    let app = spawn_app(&[("FOLLOW_IDLE_SECS", "60")]).await;
    app.sandbox.add_fault(FaultRule::latency(CREATE, 2500).times(1));
    let authorize = app.start().await;
    let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;

    // The browser waits one second, then goes away (tab closed, signal lost).
    let gave_up = app.browser.get(&callback).timeout(Duration::from_secs(1)).send().await;
    assert!(gave_up.is_err_and(|e| e.is_timeout()), "the callback should still be creating");

    // The deployment went on without it; reloading the callback shows it, once.
    let response = app.browser.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/deployment");
    let first = app.result_page().await;
    assert!(first.contains("data-testid=\"deployed\""), "{first}");
    assert!(password_of(&first).is_some(), "the first view shows the root password");
    let second = app.result_page().await;
    assert!(second.contains("data-testid=\"deployed\"") && password_of(&second).is_none());

    assert_eq!(app.sandbox.inspect().instances.len(), 1, "one Linode for one click");
    app.assert_all_tokens_revoked_within(Duration::from_secs(15)).await;
}

#[tokio::test]
async fn a_browser_that_gives_up_finds_its_result_on_the_result_page() {
    let app = spawn_app(&[]).await;
    app.sandbox.add_fault(FaultRule::latency(CREATE, 1500).times(1));
    let authorize = app.start().await;
    let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;
    let gave_up = app.browser.get(&callback).timeout(Duration::from_millis(300)).send().await;
    assert!(gave_up.is_err());
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Straight to /deployment, without the callback's cookie: the pending flow names it.
    let page = app.result_page().await;
    assert!(page.contains("data-testid=\"deployed\"") && password_of(&page).is_some(), "{page}");
    assert_eq!(app.sandbox.inspect().instances.len(), 1);
}

/// A server killed with SIGKILL while it follows a new Linode with the token it holds: the
/// deployment's result not yet viewed, the token journaled and alive.
struct KilledWhileFollowing {
    port: u16,
    public_base: String,
    sandbox: sandbox::RunningSandbox,
    browser: reqwest::Client,
    /// The killed server's environment beside the defaults, to restart it with.
    env: [(&'static str, String); 2],
}

async fn killed_while_following(name: &str) -> KilledWhileFollowing {
    let port = crate::support::free_port();
    let public_base = format!("http://127.0.0.1:{port}");
    // Linodes take 4 s to run, so the server is still following when it is killed.
    let sandbox = standalone_sandbox(&public_base, Duration::from_secs(3), Duration::from_secs(1)).await;
    let data = crate::support::temp_dir(name);
    let env = [("DATA_DIR", data.display().to_string()), ("FOLLOW_IDLE_SECS", "120".to_owned())];
    let mut server = ServerProcess::start(port, &public_base, &sandbox, &env).await;
    let browser = browser();
    let (_, callback) = until_callback(&browser, &server.base).await;
    let response = browser.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(live_tokens(&sandbox.sandbox), 1, "the follower holds the token");
    server.kill9();
    KilledWhileFollowing { port, public_base, sandbox, browser, env }
}

#[tokio::test]
async fn after_kill_9_while_following_the_restarted_server_revokes_the_token_and_shows_the_result_once() {
    let KilledWhileFollowing { port, public_base, sandbox, browser, env, .. } = killed_while_following("crash").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(live_tokens(&sandbox.sandbox), 1, "killed: nobody revoked it");

    let restarted_at = Instant::now();
    let _server = ServerProcess::start(port, &public_base, &sandbox, &env).await;
    // The restarted server takes the token over at start, follows the Linode to running, revokes.
    let took = await_all_revoked(&sandbox.sandbox, Duration::from_secs(20)).await;
    println!("token revoked {:?} after the restart", restarted_at.elapsed().max(took));

    // The result was never viewed: it is still there, with its password, once.
    let first = browser.get(format!("{public_base}/deployment")).send().await.unwrap().text().await.unwrap();
    assert!(first.contains("data-testid=\"deployed\""), "{first}");
    assert!(password_of(&first).is_some(), "the unviewed password survives the crash");
    assert!(first.contains("running"), "the restarted follower saw it run");
    let second = browser.get(format!("{public_base}/deployment")).send().await.unwrap().text().await.unwrap();
    assert!(password_of(&second).is_none(), "shown exactly once");
    assert_eq!(sandbox.sandbox.inspect().instances.len(), 1);
}

#[tokio::test]
async fn a_session_key_rotated_across_a_kill_9_loses_no_token_and_no_unviewed_result() {
    const NEW_KEY: &str = "7d1a4c0e9b2f83a65e4d17c9b0a3f2e8c5d6b7a8091f2e3d4c5b6a7980f1e2d3";
    // The token is journaled, and the password kept, under the old key.
    let KilledWhileFollowing { port, public_base, sandbox, browser, env } = killed_while_following("rotate").await;

    // The operator rotates: a new SESSION_KEY, the old one kept for reading only.
    let mut rotated = env.to_vec();
    rotated.push(("SESSION_KEY", NEW_KEY.to_owned()));
    rotated.push(("SESSION_KEY_PREVIOUS", crate::support::process::SESSION_KEY.to_owned()));
    let _server = ServerProcess::start(port, &public_base, &sandbox, &rotated).await;
    // The journaled token is read with the old key and revoked: none is left unrevocable.
    await_all_revoked(&sandbox.sandbox, Duration::from_secs(20)).await;
    // The browser's outcome cookie was sealed with the old key, the password with it too.
    let first = browser.get(format!("{public_base}/deployment")).send().await.unwrap().text().await.unwrap();
    assert!(first.contains("data-testid=\"deployed\""), "{first}");
    assert!(password_of(&first).is_some(), "the unviewed password survives the rotation");
    let second = browser.get(format!("{public_base}/deployment")).send().await.unwrap().text().await.unwrap();
    assert!(password_of(&second).is_none(), "shown exactly once");
    assert_eq!(sandbox.sandbox.inspect().instances.len(), 1);
}

#[tokio::test]
async fn after_kill_9_during_the_create_the_restarted_server_tells_what_happened_and_revokes() {
    let port = crate::support::free_port();
    let public_base = format!("http://127.0.0.1:{port}");
    let sandbox = standalone_sandbox(&public_base, Duration::from_millis(300), Duration::from_millis(300)).await;
    sandbox.sandbox.add_fault(FaultRule::latency(CREATE, 1500).times(1));
    let data = crate::support::temp_dir("crash-create");
    // Recovery waits out the longest a create call can take before it believes "no Linode".
    let env = [("DATA_DIR", data.display().to_string()), ("LINODE_HTTP_TIMEOUT_SECS", "3".to_owned())];
    let mut server = ServerProcess::start(port, &public_base, &sandbox, &env).await;
    let browser = browser();
    let (_, callback) = until_callback(&browser, &server.base).await;
    let pending = browser.get(&callback).timeout(Duration::from_millis(700)).send().await;
    assert!(pending.is_err(), "killed while the create call is in flight");
    server.kill9();
    tokio::time::sleep(Duration::from_secs(2)).await;

    let _server = ServerProcess::start(port, &public_base, &sandbox, &env).await;
    await_all_revoked(&sandbox.sandbox, Duration::from_secs(20)).await;
    // Whether or not Linode finished the create, the page says what is true.
    let response = browser.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = browser.get(format!("{public_base}/deployment")).send().await.unwrap().text().await.unwrap();
    let instances = sandbox.sandbox.inspect().instances;
    match instances.len() {
        0 => {
            assert_eq!(failure_kind(&page), Some("interrupted"), "{page}");
            assert!(page.contains("Nothing was created"), "{page}");
        }
        1 => {
            assert!(page.contains("data-testid=\"deployed\"") && page.contains(&instances[0].label), "{page}");
            assert!(password_of(&page).is_some());
        }
        n => panic!("{n} Linodes for one click"),
    }
}

#[tokio::test]
async fn after_kill_9_between_the_firewall_and_the_create_no_firewall_is_left_without_its_linode() {
    let port = crate::support::free_port();
    let public_base = format!("http://127.0.0.1:{port}");
    let sandbox = standalone_sandbox(&public_base, Duration::from_millis(300), Duration::from_millis(300)).await;
    // The firewall is made at once; the create call then hangs until the server is killed.
    sandbox.sandbox.add_fault(FaultRule::latency(CREATE, 1500).times(1));
    let data = crate::support::temp_dir("crash-firewall");
    let env = [("DATA_DIR", data.display().to_string()), ("LINODE_HTTP_TIMEOUT_SECS", "3".to_owned())];
    let mut server = ServerProcess::start(port, &public_base, &sandbox, &env).await;
    let browser = browser();
    let (_, callback) = crate::support::process::until_callback_granting(
        &browser,
        &server.base,
        &["linodes:read_write", "firewall:read_write"],
    )
    .await;
    let pending = browser.get(&callback).timeout(Duration::from_millis(700)).send().await;
    assert!(pending.is_err(), "killed while the create call is in flight");
    let ours = |inspection: &sandbox::Inspection| {
        inspection.firewalls.iter().filter(|f| f.label != sandbox::DEFAULT_FIREWALL_LABEL).cloned().collect::<Vec<_>>()
    };
    assert_eq!(ours(&sandbox.sandbox.inspect()).len(), 1, "the firewall was made before the create");
    server.kill9();
    tokio::time::sleep(Duration::from_secs(2)).await;

    let _server = ServerProcess::start(port, &public_base, &sandbox, &env).await;
    await_all_revoked(&sandbox.sandbox, Duration::from_secs(20)).await;
    let inspection = sandbox.sandbox.inspect();
    assert!(inspection.instances.len() <= 1, "one Linode per click at most");
    let firewalls = ours(&inspection);
    assert_eq!(firewalls.len(), inspection.instances.len(), "{firewalls:?}");
    for firewall in &firewalls {
        assert_eq!(firewall.linode_ids, [inspection.instances[0].id], "a firewall only with its Linode");
    }
}

#[tokio::test]
async fn an_unreachable_database_at_start_names_database_url() {
    let port = crate::support::free_port();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .env_clear()
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("LEPTOS_OUTPUT_NAME", "install-on-linode")
        .env("DATABASE_URL", format!("postgres://nobody:hunter2@127.0.0.1:{port}/none"))
        .env("DATABASE_TIMEOUT_SECS", "1")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "the database password is not printed: {stderr}");
}

async fn app_on(cluster: &Postgres, name: &str, extra: &[(&str, &str)]) -> TestApp {
    let url = cluster.database(name);
    let mut vars = vec![("DATABASE_URL", url.as_str()), ("DATABASE_TIMEOUT_SECS", "1")];
    vars.extend_from_slice(extra);
    spawn_app(&vars).await
}

#[tokio::test]
async fn a_database_lost_mid_flow_creates_nothing_and_a_reload_succeeds_once_it_is_back() {
    let cluster = Postgres::start();
    let app = app_on(&cluster, "lost_mid_flow", &[]).await;
    let authorize = app.start().await;
    let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;

    cluster.stop();
    let response = app.browser.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = app.result_page().await;
    assert_eq!(failure_kind(&page), Some("store_unavailable"), "{page}");
    assert!(page.contains("Nothing was created"), "{page}");
    assert_eq!(app.sandbox.inspect().instances.len(), 0);
    assert_eq!(app.sandbox.inspect().tokens.len(), 0, "the code was not even exchanged");
    // The form still renders from the catalog cache.
    let form = app.browser.get(app.url("/")).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    // The success view's poll meanwhile is told the database is down, with the status every
    // "down for now" error has (503), not as a fault of the server (500).
    let poll = app
        .browser
        .post(app.url("/api/deployment_progress"))
        .header("Origin", app.base.as_str())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(poll.status(), StatusCode::SERVICE_UNAVAILABLE);
    let error: app::error::AppError = serde_json::from_str(&poll.text().await.unwrap()).unwrap();
    assert_eq!(error, app::error::AppError::StoreUnavailable);

    cluster.start_again();
    let page = app.finish(&callback).await;
    assert!(page.contains("data-testid=\"deployed\"") && password_of(&page).is_some(), "{page}");
    assert_eq!(app.sandbox.inspect().instances.len(), 1);
    app.assert_all_tokens_revoked_within(Duration::from_secs(15)).await;
}

#[tokio::test]
async fn a_database_slower_than_its_timeout_is_refused_clearly_and_creates_nothing() {
    let cluster = Postgres::start();
    let app = app_on(&cluster, "slow", &[]).await;
    let authorize = app.start().await;
    let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;

    // Another session holds the claims table for 6 s: every claim waits behind it.
    let mut lock = cluster
        .psql_command("slow", "BEGIN; LOCK TABLE flow_claims IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;")
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let response = app.browser.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(started.elapsed() < Duration::from_secs(4), "answered after {:?}", started.elapsed());
    let page = app.result_page().await;
    assert_eq!(failure_kind(&page), Some("store_unavailable"), "{page}");
    assert_eq!(app.sandbox.inspect().instances.len(), 0);
    let _ = lock.wait();
}

#[tokio::test]
async fn corrupt_and_foreign_rows_are_refused_without_a_panic() {
    let cluster = Postgres::start();
    let app = app_on(&cluster, "corrupt", &[]).await;
    let page = app.deploy().await;
    assert!(page.contains("data-testid=\"deployed\""));
    // Someone edits the stored outcome: the page says so; the server keeps serving.
    let out = cluster.psql("corrupt", "UPDATE outcomes SET body = '{\"not\": \"an outcome\"'");
    assert!(out.status.success());
    let page = app.browser.get(app.url("/deployment")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("could not be read"), "{html}");
    let healthy = app.browser.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(healthy.status(), StatusCode::OK);
}
