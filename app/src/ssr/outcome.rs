//! What came of each deployment, kept in memory for the browser that started it, plus the ledger
//! that makes a callback single use: a replayed or reloaded callback finds the outcome already
//! obtained instead of creating a second Linode.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use http::{header::CACHE_CONTROL, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::watch;

use super::{context, flow::random_hex, session::OUTCOME_COOKIE};
use crate::{error::AppError, model::Outcome};

/// Beyond this many remembered outcomes the oldest are dropped; it bounds memory under abuse.
const CAPACITY: usize = 50_000;

pub type OutcomeId = String;
type OutcomeWatch = watch::Receiver<Option<OutcomeId>>;

struct Stored {
    outcome: Outcome,
    /// Handed out once, then dropped.
    root_password: Option<SecretString>,
    at: Instant,
}

/// The outcome of a callback for a given `state`: in progress, or finished.
pub enum Claim {
    /// This caller runs the flow and must call [`Outcomes::finish`].
    Mine(ClaimTicket),
    /// Another request already ran (or is running) it; wait for its outcome.
    Taken(watch::Receiver<Option<OutcomeId>>),
}

pub struct ClaimTicket {
    sender: watch::Sender<Option<OutcomeId>>,
}

pub struct Outcomes {
    ttl: Duration,
    stored: Mutex<HashMap<OutcomeId, Stored>>,
    /// By state key: where the flow's outcome will appear, and when it was claimed.
    claims: Mutex<HashMap<String, (OutcomeWatch, Instant)>>,
}

impl Outcomes {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, stored: Mutex::default(), claims: Mutex::default() }
    }

    /// Claims the flow identified by `state_key`, atomically: exactly one caller gets `Mine`.
    pub fn claim(&self, state_key: &str) -> Claim {
        let mut claims = self.claims.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((receiver, _)) = claims.get(state_key) {
            return Claim::Taken(receiver.clone());
        }
        let (sender, receiver) = watch::channel(None);
        prune(&mut claims, self.ttl, |(_, at)| *at);
        claims.insert(state_key.to_owned(), (receiver, Instant::now()));
        Claim::Mine(ClaimTicket { sender })
    }

    /// The outcome channel of a flow claimed earlier, if any.
    pub fn claimed(&self, state_key: &str) -> Option<watch::Receiver<Option<OutcomeId>>> {
        let claims = self.claims.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        claims.get(state_key).map(|(receiver, _)| receiver.clone())
    }

    /// Records an outcome (for a claimed flow or not) and returns the id the browser gets.
    pub fn store(&self, outcome: Outcome, root_password: Option<SecretString>) -> OutcomeId {
        let id = random_hex(16);
        let mut stored = self.stored.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        prune(&mut stored, self.ttl, |entry| entry.at);
        stored.insert(id.clone(), Stored { outcome, root_password, at: Instant::now() });
        id
    }

    /// Publishes the outcome of a claimed flow to everyone waiting on it, now and later: the
    /// watch channel keeps its last value after the sender is gone.
    pub fn finish(&self, ticket: ClaimTicket, id: &OutcomeId) {
        ticket.sender.send_replace(Some(id.clone()));
    }

    /// The outcome as the browser may see it now: the root password is included the first time
    /// only.
    pub fn view(&self, id: &str) -> Option<Outcome> {
        let mut stored = self.stored.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = stored.get_mut(id)?;
        if entry.at.elapsed() > self.ttl {
            stored.remove(id);
            return None;
        }
        let mut outcome = entry.outcome.clone();
        if let (Outcome::Deployed(linode), Some(password)) = (&mut outcome, entry.root_password.take()) {
            linode.root_password = Some(password.expose_secret().to_owned());
        }
        Some(outcome)
    }
}

fn prune<V>(map: &mut HashMap<String, V>, ttl: Duration, at: impl Fn(&V) -> Instant) {
    if map.len() < CAPACITY / 2 {
        return;
    }
    map.retain(|_, value| at(value).elapsed() <= ttl);
    while map.len() >= CAPACITY {
        let Some(oldest) = map.iter().min_by_key(|(_, value)| at(value)).map(|(key, _)| key.clone()) else {
            break;
        };
        map.remove(&oldest);
    }
}

/// Body of the `deployment_outcome` server function.
pub async fn deployment_outcome() -> Result<Option<Outcome>, AppError> {
    let deploy = context::deploy()?;
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        // The page may carry a root password: never cache it anywhere.
        response.insert_header(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let parts: http::request::Parts = leptos_axum::extract()
        .await
        .map_err(|error| AppError::Transport(error.to_string()))?;
    let Some(id) = deploy.sealer.open::<OutcomeId>(&parts.headers, OUTCOME_COOKIE) else {
        return Ok(None);
    };
    let mut outcome = deploy.outcomes.view(&id);
    // A reload shows where the Linode is now, as last seen by its follower.
    if let (Some(Outcome::Deployed(linode)), Some(progress)) = (&mut outcome, deploy.progress.view(&id)) {
        linode.status = progress.status;
        linode.ipv4 = progress.ipv4.or(linode.ipv4.take());
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DeployedLinode, Failure};

    fn deployed() -> Outcome {
        Outcome::Deployed(DeployedLinode {
            id: 1,
            label: "app-us-east-0001".into(),
            tags: vec!["App".into()],
            region: "Newark".into(),
            plan: "Nanode".into(),
            image: "Debian 12".into(),
            ipv4: Some("192.0.2.1".into()),
            status: "provisioning".into(),
            root_password: None,
            ssh_keys: 0,
        })
    }

    #[test]
    fn password_is_handed_out_once() {
        let outcomes = Outcomes::new(Duration::from_secs(60));
        let id = outcomes.store(deployed(), Some(SecretString::from("hunter2-Secret")));
        let Some(Outcome::Deployed(first)) = outcomes.view(&id) else { panic!("missing") };
        assert_eq!(first.root_password.as_deref(), Some("hunter2-Secret"));
        let Some(Outcome::Deployed(second)) = outcomes.view(&id) else { panic!("missing") };
        assert_eq!(second.root_password, None);
        assert_eq!(outcomes.view("unknown"), None);
    }

    #[tokio::test]
    async fn a_state_is_claimed_once_and_waiters_see_the_outcome() {
        let outcomes = Outcomes::new(Duration::from_secs(60));
        let Claim::Mine(ticket) = outcomes.claim("k") else { panic!("first claim must win") };
        let Claim::Taken(mut waiting) = outcomes.claim("k") else { panic!("second claim must lose") };
        let failure = Outcome::Failed(Failure { title: "t".into(), message: "m".into(), kind: "k".into() });
        let id = outcomes.store(failure, None);
        outcomes.finish(ticket, &id);
        let seen = waiting.wait_for(Option::is_some).await.unwrap().clone();
        assert_eq!(seen.as_ref(), Some(&id));
        let Claim::Taken(mut later) = outcomes.claim("k") else { panic!("still taken") };
        assert_eq!(later.wait_for(Option::is_some).await.unwrap().as_ref(), Some(&id));
    }
}
