//! Two server processes that share nothing but `SESSION_KEY` (as behind a load balancer), both
//! talking to one standalone sandbox: a deployment started on the first finishes on the second.
//! And two processes that would share one SQLite file: the second refuses to start.

use std::{
    process::Stdio,
    time::{Duration, Instant},
};

use crate::support::{
    browser, location,
    process::{self, await_all_revoked, live_tokens, standalone_sandbox, until_callback, ServerProcess},
    testid_text,
};
use reqwest::StatusCode;

#[tokio::test]
async fn a_deployment_started_on_one_process_finishes_on_the_other() {
    let (port_a, port_b) = (crate::support::free_port(), crate::support::free_port());
    // Both processes stand behind one public address; Linode knows only that one.
    let public_base = format!("http://127.0.0.1:{port_a}");
    let sandbox = standalone_sandbox(&public_base, Duration::from_millis(300), Duration::from_millis(300)).await;
    // Each process has a SQLite store of its own: they share nothing but the key.
    let store = |name| [("DATA_DIR", crate::support::temp_dir(name).display().to_string())];
    let a = ServerProcess::start(port_a, &public_base, &sandbox, &store("two-processes-a")).await;
    let b = ServerProcess::start(port_b, &public_base, &sandbox, &store("two-processes-b")).await;
    let browser = browser();

    // The form post and the login on A.
    let (authorize, callback) = until_callback(&browser, &a.base).await;
    assert!(authorize.starts_with(&sandbox.login_base()), "{authorize}");
    assert!(callback.starts_with(&format!("{public_base}/auth/callback?")), "{callback}");

    // Linode's redirect reaches B instead; B holds no memory of the flow, only the key.
    let callback_on_b = callback.replacen(&public_base, &b.base, 1);
    let response = browser.get(&callback_on_b).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/deployment");
    // Outcomes live in the store of the process that ran the callback.
    let html = browser.get(format!("{}/deployment", b.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-testid=\"deployed\""), "{html}");

    let inspection = sandbox.sandbox.inspect();
    assert_eq!(inspection.instances.len(), 1);
    assert_eq!(inspection.tokens.len(), 1);
    await_all_revoked(&sandbox.sandbox, Duration::from_secs(10)).await;
    drop((a, b));
}

#[tokio::test]
async fn a_second_process_on_the_same_sqlite_file_refuses_to_start_and_leaves_the_first_its_tokens() {
    let (port_a, port_b) = (crate::support::free_port(), crate::support::free_port());
    let public_base = format!("http://127.0.0.1:{port_a}");
    // Linodes take 4 s to run: the first process is still following (holding the token, its lease
    // renewed) when the second one starts.
    let sandbox = standalone_sandbox(&public_base, Duration::from_secs(3), Duration::from_secs(1)).await;
    let data = crate::support::temp_dir("one-sqlite-file");
    let env = [("DATA_DIR", data.display().to_string()), ("FOLLOW_IDLE_SECS", "120".to_owned())];
    let a = ServerProcess::start(port_a, &public_base, &sandbox, &env).await;
    let browser = browser();
    let (_, callback) = until_callback(&browser, &a.base).await;
    let response = browser.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(live_tokens(&sandbox.sandbox), 1, "the first process follows the new Linode");

    // The same file, another port: a second copy started by mistake (a unit started twice, a
    // deploy script run while the old process still runs).
    let mut second = process::command(port_b, &public_base, &sandbox, &env)
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server binary starts");
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = second.kill();
            let _ = second.wait();
            panic!("a second server process started on the SQLite file the first one uses");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut second.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success(), "{status}: {stderr}");
    let file = data.join("install-on-linode.sqlite3");
    assert!(stderr.contains(&file.display().to_string()), "the message names the file: {stderr}");
    assert!(stderr.contains("another server process"), "{stderr}");
    assert!(stderr.contains("DATABASE_URL"), "the message says what to do: {stderr}");

    // The first process still holds its token, follows the Linode to running, revokes, and shows
    // the password once.
    assert_eq!(live_tokens(&sandbox.sandbox), 1, "nobody took the token over");
    await_all_revoked(&sandbox.sandbox, Duration::from_secs(20)).await;
    let tokens = sandbox.sandbox.inspect().tokens;
    assert_eq!(tokens.len(), 1);
    let page = |browser: &reqwest::Client| browser.get(format!("{}/deployment", a.base)).send();
    let first = page(&browser).await.unwrap().text().await.unwrap();
    assert!(testid_text(&first, "root-password").is_some_and(|p| !p.is_empty()), "{first}");
    assert!(first.contains("running"), "{first}");
    assert_eq!(sandbox.sandbox.inspect().instances.len(), 1);
    drop(a);
}
