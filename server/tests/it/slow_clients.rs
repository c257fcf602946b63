//! Clients that hold connections open without finishing a request (slowloris and kin), over real
//! TCP: a request line or headers sent slowly, a body dribbled, too many connections from one
//! address. Each is cut off, and the site keeps answering everyone else.

use std::{
    net::IpAddr,
    time::{Duration, Instant},
};

use crate::support::spawn_app;
use reqwest::StatusCode;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// What the server did with a connection that went on sending `dribble` every `every`: closed it
/// (with what it wrote before closing) after how long, or `None` if it was still open at `limit`.
async fn closed_within(
    stream: &mut TcpStream,
    dribble: &[u8],
    every: Duration,
    limit: Duration,
) -> Option<(Duration, String)> {
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let mut tick = tokio::time::interval(every);
    while started.elapsed() < limit {
        tokio::select! {
            read = stream.read(&mut buffer) => match read {
                Ok(0) | Err(_) => return Some((started.elapsed(), String::from_utf8_lossy(&answer).into_owned())),
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            },
            _ = tick.tick() => {
                // The server may have closed its side already; the read above tells.
                if !dribble.is_empty() {
                    let _ = stream.write_all(dribble).await;
                }
            }
        }
    }
    None
}

/// `/` answers within a second.
async fn site_answers(base: &str) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(1)).build().unwrap();
    let started = Instant::now();
    let response = client.get(format!("{base}/")).send().await.expect("/ answers while slow clients hang on");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(1));
}

fn address(base: &str) -> &str {
    base.trim_start_matches("http://")
}

#[tokio::test]
async fn a_client_that_sends_its_request_line_or_headers_slowly_is_cut_off_while_the_site_answers() {
    let app = spawn_app(&[("HTTP_HEADER_TIMEOUT_SECS", "1")]).await;
    // Half a request line, then nothing.
    let mut half = TcpStream::connect(address(&app.base)).await.unwrap();
    half.write_all(b"GET /deplo").await.unwrap();
    // A request line, then one more header every 200 ms, never the blank line.
    let mut slow = TcpStream::connect(address(&app.base)).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: example\r\n").await.unwrap();
    // Connected, nothing sent at all.
    let mut silent = TcpStream::connect(address(&app.base)).await.unwrap();
    site_answers(&app.base).await;

    let every = Duration::from_millis(200);
    let limit = Duration::from_secs(5);
    let (half, slow, silent) = tokio::join!(
        closed_within(&mut half, b"", every, limit),
        closed_within(&mut slow, b"X-Slow: 1\r\n", every, limit),
        closed_within(&mut silent, b"", every, limit),
    );
    for (what, closed) in [("half a request line", half), ("headers dribbled", slow), ("nothing sent", silent)] {
        let (after, answer) = closed.unwrap_or_else(|| panic!("{what}: still open after {limit:?}"));
        assert!(after < Duration::from_secs(3), "{what}: closed only after {after:?}");
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{what}: {answer}");
    }
    site_answers(&app.base).await;
}

#[tokio::test]
async fn a_kept_alive_connection_left_idle_is_closed_after_the_header_timeout() {
    let app = spawn_app(&[("HTTP_HEADER_TIMEOUT_SECS", "1")]).await;
    let mut stream = TcpStream::connect(address(&app.base)).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: example\r\n\r\n").await.unwrap();
    let (after, answer) = closed_within(&mut stream, b"", Duration::from_millis(200), Duration::from_secs(5))
        .await
        .expect("an idle kept-alive connection is closed");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(after < Duration::from_secs(3), "closed only after {after:?}");
}

#[tokio::test]
async fn a_client_that_dribbles_its_body_is_cut_off_while_the_site_answers() {
    let app = spawn_app(&[("HTTP_BODY_TIMEOUT_SECS", "1")]).await;
    let mut stream = TcpStream::connect(address(&app.base)).await.unwrap();
    let head = format!(
        "POST /api/start_deploy HTTP/1.1\r\nHost: {host}\r\nOrigin: {base}\r\nAccept: text/html\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\nplan=",
        host = address(&app.base),
        base = app.base,
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    site_answers(&app.base).await;
    // One byte every 200 ms: the 200 bytes would take 40 s.
    let (after, answer) = closed_within(&mut stream, b"x", Duration::from_millis(200), Duration::from_secs(6))
        .await
        .expect("a dribbled body is cut off");
    assert!(after < Duration::from_secs(4), "closed only after {after:?}");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    site_answers(&app.base).await;
    assert_eq!(app.sandbox.inspect().codes.len(), 0);
}

/// Sends one request on `stream` and reads its answer, keeping the connection open.
async fn healthz_on(stream: &mut TcpStream) -> Option<String> {
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: example\r\n\r\n").await.ok()?;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 1024];
    while !answer.ends_with(b"ok") {
        let n = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buffer)).await.ok()?.ok()?;
        if n == 0 {
            return None;
        }
        answer.extend_from_slice(&buffer[..n]);
    }
    Some(String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test]
async fn connections_over_the_cap_for_one_address_are_closed_while_other_addresses_are_served() {
    let app = spawn_app(&[("MAX_CONNECTIONS_PER_CLIENT", "4")]).await;
    // Four connections from 127.0.0.1, each kept open after a request.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut stream = TcpStream::connect(address(&app.base)).await.unwrap();
        let answer = healthz_on(&mut stream).await.expect("a connection under the cap is served");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        held.push(stream);
    }
    // A fifth from the same address is closed without an answer.
    let mut fifth = TcpStream::connect(address(&app.base)).await.unwrap();
    assert_eq!(healthz_on(&mut fifth).await, None, "a fifth connection from one address is served");
    // Another address (all of 127/8 is loopback) is served meanwhile.
    let other = reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, 2]))
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let response = other.get(app.url("/")).send().await.expect("/ answers another address");
    assert_eq!(response.status(), StatusCode::OK);

    // One of the four goes away: 127.0.0.1 is served again.
    drop(held.pop());
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let mut stream = TcpStream::connect(address(&app.base)).await.unwrap();
        if let Some(answer) = healthz_on(&mut stream).await {
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
            break;
        }
        assert!(Instant::now() < deadline, "a closed connection's place was not given back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
