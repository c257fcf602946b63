//! One person's deployment, driven over HTTP the way a browser without WASM does it.

use std::time::{Duration, Instant};

use reqwest::{header::LOCATION, redirect::Policy, Client, Response, StatusCode};

use crate::{server::ServerProcess, Result};

pub(crate) fn browser() -> Client {
    Client::builder().cookie_store(true).redirect(Policy::none()).build().expect("an HTTP client")
}

fn location(response: &Response) -> Result<String> {
    Ok(response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| format!("{} without Location", response.status()))?
        .to_owned())
}

/// Form post → Linode's consent page → approve. Returns the callback URL Linode redirects to.
pub(crate) async fn until_callback(browser: &Client, server: &ServerProcess) -> Result<String> {
    let response = browser
        .post(server.url("/api/start_deploy"))
        .header("Accept", "text/html")
        .header("Referer", server.url("/"))
        .form(&[("plan", "g6-nanode-1"), ("region", "us-east"), ("image", "linode/debian12")])
        .send()
        .await?;
    if response.status() != StatusCode::FOUND {
        return Err(format!("the form post answered {}", response.status()).into());
    }
    let authorize = location(&response)?;
    let html = browser.get(&authorize).send().await?.text().await?;
    let mut form = testkit::hidden_inputs(&html);
    // Every permission asked for, as a person who accepts the defaults grants: the callback's
    // path then includes making the app's firewall.
    form.extend([
        ("username".to_owned(), "bench".to_owned()),
        ("scope".to_owned(), "linodes:read_write".to_owned()),
        ("scope".to_owned(), "firewall:read_write".to_owned()),
        ("decision".to_owned(), "approve".to_owned()),
    ]);
    let response = browser.post(&authorize).form(&form).send().await?;
    if !response.status().is_redirection() {
        return Err(format!("the consent page answered {}", response.status()).into());
    }
    location(&response)
}

/// Callback → 303 → the success view. Returns how long that took.
pub(crate) async fn callback_to_success(browser: &Client, server: &ServerProcess, callback: &str) -> Result<Duration> {
    let started = Instant::now();
    let response = browser.get(callback).send().await?;
    if response.status() != StatusCode::SEE_OTHER {
        return Err(format!("the callback answered {}", response.status()).into());
    }
    let next = location(&response)?;
    let page = browser.get(server.url(&next)).send().await?.text().await?;
    let elapsed = started.elapsed();
    if !page.contains("data-testid=\"deployed\"") {
        return Err("the callback did not end on the success view".into());
    }
    Ok(elapsed)
}
