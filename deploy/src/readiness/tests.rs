use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use tokio_util::sync::CancellationToken;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

use super::*;

fn fast() -> ProbeLimits {
    ProbeLimits {
        timeout: Duration::from_secs(30),
        attempt: Duration::from_secs(2),
        first_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_attempts: 4,
        max_concurrent: 2,
    }
}

/// A route to `target` for every address, recording what it was asked for.
fn route_to(target: Option<SocketAddr>, asked: Arc<Mutex<Vec<SocketAddr>>>) -> Network {
    Network::Sandbox(Arc::new(move |declared| {
        asked.lock().unwrap().push(declared);
        target
    }))
}

/// A listener that answers every request with `status` and keeps each request's head.
async fn http_app(status: u16) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = vec![0u8; 4096];
            let read = socket.read(&mut buffer).await.unwrap_or(0);
            seen.lock().unwrap().push(String::from_utf8_lossy(&buffer[..read]).into_owned());
            let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    (address, heads)
}

#[test]
fn templates_are_read_with_their_scheme_port_and_path() {
    let check = ReadyCheck::parse("http://{ipv4}/").unwrap();
    assert_eq!((check.scheme(), check.port(), check.path.as_str()), (Scheme::Http, 80, "/"));
    let check = ReadyCheck::parse("https://{ipv4}:8443/health?deep=1").unwrap();
    assert_eq!((check.scheme(), check.port(), check.path.as_str()), (Scheme::Https, 8443, "/health?deep=1"));
    let ip = Ipv4Addr::new(45, 79, 1, 2);
    assert_eq!(check.link(ip).as_deref(), Some("https://45.79.1.2:8443/health?deep=1"));
    assert_eq!(ReadyCheck::parse("https://{ipv4}").unwrap().link(ip).as_deref(), Some("https://45.79.1.2/"));
    assert_eq!(ReadyCheck::parse("tcp://{ipv4}:80").map(|check| check.port()), Ok(80), "a default port kept");
    assert_eq!(ReadyCheck::parse("http://{ipv4}/#@x").map(|check| check.port()), Ok(80), "@ after the host");
    let check = ReadyCheck::parse("tcp://{ipv4}:22").unwrap();
    assert_eq!((check.scheme(), check.port(), check.link(ip)), (Scheme::Tcp, 22, None));
    assert_eq!(check.address(ip), "45.79.1.2:22");
}

#[test]
fn templates_that_could_aim_elsewhere_are_refused() {
    for (template, error) in [
        ("ftp://{ipv4}/", ReadyCheckError::Scheme),
        ("{ipv4}:80", ReadyCheckError::Scheme),
        ("http://example.com/", ReadyCheckError::Host),
        ("http://127.0.0.1/", ReadyCheckError::Host),
        ("http://{ipv4}.evil.example/", ReadyCheckError::Host),
        ("http://user:pw@{ipv4}/", ReadyCheckError::Credentials),
        ("tcp://{ipv4}", ReadyCheckError::Tcp),
        ("tcp://{ipv4}:22/path", ReadyCheckError::Tcp),
        ("http://{ipv4}:0/", ReadyCheckError::Port),
    ] {
        assert_eq!(ReadyCheck::parse(template), Err(error), "{template}");
    }
    assert!(matches!(ReadyCheck::parse("http://{ipv4}:99999/"), Err(ReadyCheckError::Url(_))));
}

#[test]
fn loopback_private_link_local_and_unroutable_addresses_are_never_checked() {
    for refused in [
        "0.0.0.0",
        "10.1.2.3",
        "100.64.0.1",
        "127.0.0.1",
        "127.255.255.254",
        "169.254.169.254",
        "172.16.0.1",
        "172.31.255.255",
        "192.0.0.8",
        "192.0.2.1",
        "192.168.1.1",
        "198.18.0.1",
        "198.51.100.7",
        "203.0.113.9",
        "224.0.0.1",
        "255.255.255.255",
    ] {
        let address: Ipv4Addr = refused.parse().unwrap();
        assert!(public(address).is_err(), "{refused} must be refused");
    }
    for allowed in ["45.79.1.2", "172.32.0.1", "8.8.8.8", "100.128.0.1", "192.0.3.1"] {
        assert_eq!(public(allowed.parse().unwrap()), Ok(()), "{allowed} is public");
    }
}

#[test]
fn on_the_internet_the_declared_port_of_the_linodes_address_is_the_only_target() {
    let prober = Prober::new(ReadyCheck::parse("https://{ipv4}:8443/").unwrap(), Network::Internet, fast()).unwrap();
    let target = prober.target(Ipv4Addr::new(45, 79, 1, 2)).unwrap();
    assert_eq!(target, Some("45.79.1.2:8443".parse().unwrap()));
    let refused = prober.target(Ipv4Addr::new(169, 254, 169, 254)).unwrap_err();
    assert!(refused.to_string().contains("link-local"), "{refused}");
    // The sandbox's addresses mean nothing on the internet.
    assert!(prober.target(Ipv4Addr::new(203, 0, 113, 9)).is_err());
}

#[test]
fn on_the_sandbox_only_its_addresses_go_through_its_route_and_only_to_loopback() {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let check = ReadyCheck::parse("http://{ipv4}:8080/").unwrap();
    let prober =
        Prober::new(check.clone(), route_to(Some("127.0.0.1:4444".parse().unwrap()), asked.clone()), fast()).unwrap();
    assert_eq!(prober.target(Ipv4Addr::new(192, 0, 2, 7)).unwrap(), Some("127.0.0.1:4444".parse().unwrap()));
    assert_eq!(*asked.lock().unwrap(), vec!["192.0.2.7:8080".parse::<SocketAddr>().unwrap()], "the declared port");
    assert!(prober.target(Ipv4Addr::new(10, 0, 0, 1)).is_err(), "not a sandbox address");
    assert!(prober.target(Ipv4Addr::new(45, 79, 1, 2)).is_err(), "not a sandbox address");

    let elsewhere = Prober::new(check, route_to(Some("10.0.0.5:80".parse().unwrap()), asked), fast()).unwrap();
    assert_eq!(elsewhere.target(Ipv4Addr::new(192, 0, 2, 7)).unwrap(), None, "a route off loopback is ignored");
}

#[tokio::test]
async fn an_http_check_asks_the_declared_path_with_the_linodes_address_as_host() {
    let (app, heads) = http_app(404).await;
    let check = ReadyCheck::parse("http://{ipv4}:8080/health?x=1").unwrap();
    let prober = Prober::new(check, route_to(Some(app), Arc::default()), fast()).unwrap();
    prober.attempt(Ipv4Addr::new(192, 0, 2, 7)).await.expect("any status below 500 counts");
    let head = heads.lock().unwrap()[0].to_ascii_lowercase();
    assert!(head.starts_with("get /health?x=1 http/1.1\r\n"), "{head}");
    assert!(head.contains("\r\nhost: 192.0.2.7:8080\r\n"), "{head}");
}

#[tokio::test]
async fn a_server_error_is_not_an_answer_and_redirects_are_not_followed() {
    let (failing, _) = http_app(503).await;
    let prober =
        Prober::new(ReadyCheck::parse("http://{ipv4}/").unwrap(), route_to(Some(failing), Arc::default()), fast())
            .unwrap();
    assert!(matches!(prober.attempt(Ipv4Addr::new(192, 0, 2, 7)).await, Err(AttemptFailed::ServerError(503))));

    let (redirecting, heads) = http_app(302).await;
    let prober =
        Prober::new(ReadyCheck::parse("http://{ipv4}/").unwrap(), route_to(Some(redirecting), Arc::default()), fast())
            .unwrap();
    prober.attempt(Ipv4Addr::new(192, 0, 2, 7)).await.expect("a redirect is an answer");
    assert_eq!(heads.lock().unwrap().len(), 1, "and is not followed");
}

#[tokio::test]
async fn a_tcp_check_counts_a_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let open = listener.local_addr().unwrap();
    let prober =
        Prober::new(ReadyCheck::parse("tcp://{ipv4}:22").unwrap(), route_to(Some(open), Arc::default()), fast())
            .unwrap();
    prober.attempt(Ipv4Addr::new(198, 51, 100, 3)).await.expect("the port is open");
    drop(listener);
    assert!(matches!(prober.attempt(Ipv4Addr::new(198, 51, 100, 3)).await, Err(AttemptFailed::Connect(_))));
}

#[tokio::test]
async fn attempts_are_bounded_and_reported_until_the_check_gives_up() {
    let attempts = Arc::new(AtomicU32::new(0));
    let counted = attempts.clone();
    let network = Network::Sandbox(Arc::new(move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
        None
    }));
    let prober = Prober::new(ReadyCheck::parse("http://{ipv4}/").unwrap(), network, fast()).unwrap();
    let mut reports = Vec::new();
    let shutdown = CancellationToken::new();
    let outcome = prober
        .until_ready(Ipv4Addr::new(192, 0, 2, 9), &shutdown, |state| {
            reports.push(state);
            std::future::ready(())
        })
        .await
        .expect("a conclusion");
    assert_eq!(attempts.load(Ordering::SeqCst), 4, "max_attempts");
    assert!(matches!(outcome, Readiness::NotAnswering { ref address, .. } if address == "192.0.2.9:80"), "{outcome:?}");
    assert_eq!(reports.len(), 3, "installing reported between attempts: {reports:?}");
    assert!(reports.iter().all(|state| matches!(state, Readiness::Installing { timeout_secs: 30, .. })));
}

#[tokio::test]
async fn the_timeout_bounds_checking_and_shutdown_stops_it() {
    let attempts = Arc::new(AtomicU32::new(0));
    let counted = attempts.clone();
    let network = Network::Sandbox(Arc::new(move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
        None
    }));
    let limits = ProbeLimits { timeout: Duration::from_millis(60), max_attempts: 1000, ..fast() };
    let prober = Prober::new(ReadyCheck::parse("tcp://{ipv4}:22").unwrap(), network.clone(), limits).unwrap();
    let shutdown = CancellationToken::new();
    let outcome = prober.until_ready(Ipv4Addr::new(192, 0, 2, 9), &shutdown, |_| std::future::ready(())).await;
    assert!(matches!(outcome, Some(Readiness::NotAnswering { .. })), "{outcome:?}");
    let tried = attempts.load(Ordering::SeqCst);
    assert!((2..=10).contains(&tried), "a 60 ms timeout at 5–20 ms apart allows a handful, not {tried}");

    let long = Prober::new(
        ReadyCheck::parse("tcp://{ipv4}:22").unwrap(),
        network,
        ProbeLimits { max_attempts: 1000, ..fast() },
    )
    .unwrap();
    shutdown.cancel();
    let stopped = long.until_ready(Ipv4Addr::new(192, 0, 2, 9), &shutdown, |_| std::future::ready(())).await;
    assert_eq!(stopped, None, "shutdown concludes nothing");
}

#[tokio::test]
async fn a_refused_address_is_not_tried_at_all() {
    let prober = Prober::new(ReadyCheck::parse("http://{ipv4}/").unwrap(), Network::Internet, fast()).unwrap();
    let shutdown = CancellationToken::new();
    let outcome = prober.until_ready(Ipv4Addr::new(127, 0, 0, 1), &shutdown, |_| std::future::ready(())).await;
    assert_eq!(outcome, Some(Readiness::NotChecked));
}

#[test]
fn the_number_of_deployments_checked_at_once_is_bounded() {
    let prober = Prober::new(ReadyCheck::parse("http://{ipv4}/").unwrap(), Network::Internet, fast()).unwrap();
    let (first, second) = (prober.slot(), prober.slot());
    assert!(first.is_some() && second.is_some());
    assert!(prober.slot().is_none(), "max_concurrent is 2");
    drop(first);
    assert!(prober.slot().is_some());
}
