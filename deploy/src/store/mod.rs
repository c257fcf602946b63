//! The deploy flow's store: who runs each OAuth `state`, what came of each deployment (the root
//! password encrypted and handed out once), what its follower last saw, and a journal of every
//! live token with the replica that holds it. One interface, two backends chosen by the URL:
//! SQLite (a file in the data directory; one server process) or PostgreSQL (any number of
//! replicas). Queries are plain SQL both backends accept, checked at run time through sqlx's
//! `Any` driver; the migrations are embedded and applied at start-up.

mod cipher;
mod journal;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};
use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions},
    AnyPool, Executor,
};

pub use cipher::{RowCipher, Unsealable};
pub use journal::{HeldToken, JournalEntry, NewJournalEntry};

use super::ids::{OutcomeId, StateKey};
use domain::{Outcome, Progress};

/// How long a journaled token is kept at most.
const JOURNAL_KEEP: Duration = Duration::from_secs(2 * 24 * 60 * 60);

/// How long one store operation may take before the flow gives up on it.
pub const DEFAULT_OP_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database cannot be reached: {0}")]
    Unavailable(String),
    #[error("the database did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the database refused the operation: {0}")]
    Query(String),
    #[error("a stored {0} could not be read (altered, or written with another SESSION_KEY)")]
    Corrupt(&'static str),
    #[error("the database's schema could not be brought up to date: {0}")]
    Migrate(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
                StoreError::Unavailable(error.to_string())
            }
            other => StoreError::Query(other.to_string()),
        }
    }
}

/// Where the store lives and how patient it is.
#[derive(Clone, Debug)]
pub struct StoreSettings {
    /// `sqlite://…` or `postgres://…`; never logged (it may hold a password).
    pub url: SecretString,
    pub max_connections: u32,
    pub op_timeout: Duration,
}

pub struct Store {
    pool: AnyPool,
    backend: Backend,
    cipher: RowCipher,
    op_timeout: Duration,
}

/// Which request runs a flow.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// This request won the insert: it runs the flow, whose outcome will be stored under this id.
    Mine(OutcomeId),
    /// Another request (on this replica or another) claimed it first; its outcome goes here.
    Taken(OutcomeId),
}

/// What a browser sees of a stored outcome.
#[derive(Debug)]
pub struct StoredOutcome {
    pub outcome: Outcome,
    pub progress: Option<Progress>,
}

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as i64)
}

fn ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    /// Connects, applies the migrations, and checks that the database answers.
    pub async fn open(settings: &StoreSettings, session_key: &[u8]) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let url = settings.url.expose_secret();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Unavailable("the URL must start with sqlite: or postgres:".into()));
        };
        let options: AnyConnectOptions =
            url.parse().map_err(|error: sqlx::Error| StoreError::Unavailable(error.to_string()))?;
        let op_timeout = settings.op_timeout;
        let statement_timeout = ms(op_timeout);
        let pool = AnyPoolOptions::new()
            // SQLite has one writer at a time; a few connections serve the readers.
            .max_connections(match backend {
                Backend::Sqlite => settings.max_connections.min(4),
                Backend::Postgres => settings.max_connections,
            })
            .acquire_timeout(op_timeout)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    match backend {
                        // WAL: readers do not wait for the writer; a writer waits for another
                        // rather than failing at once.
                        Backend::Sqlite => {
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                            conn.execute(format!("PRAGMA busy_timeout = {statement_timeout}").as_str()).await?;
                        }
                        // A statement stuck behind a lock fails instead of holding the flow.
                        Backend::Postgres => {
                            conn.execute(format!("SET statement_timeout = {statement_timeout}").as_str()).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options);
        let pool = tokio::time::timeout(op_timeout * 2, pool)
            .await
            .map_err(|_| StoreError::Timeout(op_timeout * 2))?
            .map_err(|error| StoreError::Unavailable(error.to_string()))?;
        // PostgreSQL serialises concurrent migrators with an advisory lock; SQLite has none, so
        // a server starting next to another on a fresh file tries once more after it.
        let mut attempt = 0;
        loop {
            let migrated = match backend {
                Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&pool).await,
                Backend::Postgres => sqlx::migrate!("migrations/postgres").run(&pool).await,
            };
            match migrated {
                Ok(()) => break,
                Err(error) if attempt < 2 && backend == Backend::Sqlite => {
                    tracing::warn!(%error, "migrating the SQLite store failed; retrying");
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => return Err(StoreError::Migrate(error.to_string())),
            }
        }
        Ok(Self { pool, backend, cipher: RowCipher::new(session_key), op_timeout })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs one store operation within the configured time.
    async fn bounded<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.op_timeout, work).await {
            Ok(result) => result.map_err(StoreError::from),
            Err(_) => Err(StoreError::Timeout(self.op_timeout)),
        }
    }

    /// Claims the flow of `state`: exactly one caller, across every replica, gets `Mine`.
    pub async fn claim(&self, state: &StateKey, ttl: Duration) -> Result<Claim, StoreError> {
        let proposed = OutcomeId::random();
        let now = now_ms();
        let inserted = self
            .bounded(
                sqlx::query(
                    "INSERT INTO flow_claims (state_key, outcome_id, claimed_at, expires_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (state_key) DO NOTHING",
                )
                .bind(state.as_str())
                .bind(proposed.as_str())
                .bind(now)
                .bind(now + ms(ttl))
                .execute(&self.pool),
            )
            .await?
            .rows_affected();
        if inserted == 1 {
            return Ok(Claim::Mine(proposed));
        }
        self.claimed(state).await?.map(Claim::Taken).ok_or(StoreError::Query("the claim vanished".into()))
    }

    /// The outcome id of a flow claimed earlier, if any.
    pub async fn claimed(&self, state: &StateKey) -> Result<Option<OutcomeId>, StoreError> {
        let row: Option<(String,)> = self
            .bounded(
                sqlx::query_as("SELECT outcome_id FROM flow_claims WHERE state_key = $1")
                    .bind(state.as_str())
                    .fetch_optional(&self.pool),
            )
            .await?;
        Ok(row.map(|(id,)| OutcomeId::from_stored(id)))
    }

    /// Records an outcome, with its root password encrypted. The first write for an id wins
    /// (recovery may race the flow it recovers); returns whether this one did.
    pub async fn put_outcome(
        &self,
        id: &OutcomeId,
        outcome: &Outcome,
        root_password: Option<&SecretString>,
        progress: Option<&Progress>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let body = serde_json::to_string(outcome).map_err(|e| StoreError::Query(e.to_string()))?;
        let progress = progress.map(serde_json::to_string).transpose().map_err(|e| StoreError::Query(e.to_string()))?;
        let now = now_ms();
        let expires = now + ms(ttl);
        let sealed =
            root_password.map(|password| self.cipher.seal(&secret_row(id), password.expose_secret().as_bytes()));
        self.bounded(async {
            let mut tx = self.pool.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO outcomes (id, body, progress, watched_at, expires_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(id.as_str())
            .bind(body)
            .bind(progress)
            .bind(now)
            .bind(expires)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if let (true, Some(sealed)) = (inserted, sealed) {
                sqlx::query("INSERT INTO outcome_secrets (outcome_id, sealed, expires_at) VALUES ($1, $2, $3)")
                    .bind(id.as_str())
                    .bind(sealed)
                    .bind(expires)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(inserted)
        })
        .await
    }

    pub async fn outcome_exists(&self, id: &OutcomeId) -> Result<bool, StoreError> {
        let row: Option<(i64,)> = self
            .bounded(
                sqlx::query_as("SELECT 1 FROM outcomes WHERE id = $1").bind(id.as_str()).fetch_optional(&self.pool),
            )
            .await?;
        Ok(row.is_some())
    }

    /// The outcome and its latest progress, without the password. Expired rows read as absent.
    pub async fn outcome(&self, id: &OutcomeId) -> Result<Option<StoredOutcome>, StoreError> {
        let row: Option<(String, Option<String>)> = self
            .bounded(
                sqlx::query_as("SELECT body, progress FROM outcomes WHERE id = $1 AND expires_at > $2")
                    .bind(id.as_str())
                    .bind(now_ms())
                    .fetch_optional(&self.pool),
            )
            .await?;
        let Some((body, progress)) = row else { return Ok(None) };
        let outcome = serde_json::from_str(&body).map_err(|_| StoreError::Corrupt("outcome"))?;
        let progress =
            progress.map(|p| serde_json::from_str(&p)).transpose().map_err(|_| StoreError::Corrupt("progress"))?;
        Ok(Some(StoredOutcome { outcome, progress }))
    }

    /// Whether the root password of outcome `id` is still kept (not yet taken, not expired).
    pub async fn password_kept(&self, id: &OutcomeId) -> Result<bool, StoreError> {
        let row: Option<(i64,)> = self
            .bounded(
                sqlx::query_as("SELECT 1 FROM outcome_secrets WHERE outcome_id = $1 AND expires_at > $2")
                    .bind(id.as_str())
                    .bind(now_ms())
                    .fetch_optional(&self.pool),
            )
            .await?;
        Ok(row.is_some())
    }

    /// Takes the root password of outcome `id`: the one caller whose delete removes the row
    /// gets it; every later (or concurrent) caller gets `None`.
    pub async fn take_password(&self, id: &OutcomeId) -> Result<Option<SecretString>, StoreError> {
        let row: Option<(Vec<u8>,)> = self
            .bounded(
                sqlx::query_as("DELETE FROM outcome_secrets WHERE outcome_id = $1 RETURNING sealed")
                    .bind(id.as_str())
                    .fetch_optional(&self.pool),
            )
            .await?;
        let Some((sealed,)) = row else { return Ok(None) };
        let plain = self.cipher.open(&secret_row(id), &sealed).map_err(|_| StoreError::Corrupt("root password"))?;
        let password = String::from_utf8(plain).map_err(|_| StoreError::Corrupt("root password"))?;
        Ok(Some(SecretString::from(password)))
    }

    /// What the follower last saw for outcome `id` (the outcome itself is not read or decoded:
    /// this is the progress poll's path).
    pub async fn progress(&self, id: &OutcomeId) -> Result<Option<Progress>, StoreError> {
        let row: Option<(Option<String>,)> = self
            .bounded(
                sqlx::query_as("SELECT progress FROM outcomes WHERE id = $1 AND expires_at > $2")
                    .bind(id.as_str())
                    .bind(now_ms())
                    .fetch_optional(&self.pool),
            )
            .await?;
        row.and_then(|(progress,)| progress)
            .map(|p| serde_json::from_str(&p))
            .transpose()
            .map_err(|_| StoreError::Corrupt("progress"))
    }

    pub async fn set_progress(&self, id: &OutcomeId, progress: &Progress) -> Result<(), StoreError> {
        let body = serde_json::to_string(progress).map_err(|e| StoreError::Query(e.to_string()))?;
        self.bounded(
            sqlx::query("UPDATE outcomes SET progress = $1 WHERE id = $2")
                .bind(body)
                .bind(id.as_str())
                .execute(&self.pool),
        )
        .await?;
        Ok(())
    }

    /// Notes that a browser is watching outcome `id` (written at most once a second).
    pub async fn touch(&self, id: &OutcomeId) -> Result<(), StoreError> {
        let now = now_ms();
        self.bounded(
            sqlx::query("UPDATE outcomes SET watched_at = $1 WHERE id = $2 AND watched_at < $3")
                .bind(now)
                .bind(id.as_str())
                .bind(now - 1000)
                .execute(&self.pool),
        )
        .await?;
        Ok(())
    }

    /// When a browser last watched outcome `id`.
    pub async fn watched_at(&self, id: &OutcomeId) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = self
            .bounded(
                sqlx::query_as("SELECT watched_at FROM outcomes WHERE id = $1")
                    .bind(id.as_str())
                    .fetch_optional(&self.pool),
            )
            .await?;
        Ok(row.map(|(at,)| at))
    }

    /// Claims that were never given an outcome, older than `age`, with no token journaled for
    /// them: their request died before it could create anything.
    pub async fn orphan_claims(&self, age: Duration) -> Result<Vec<OutcomeId>, StoreError> {
        let rows: Vec<(String,)> = self
            .bounded(
                sqlx::query_as(
                    "SELECT c.outcome_id FROM flow_claims c \
                     WHERE c.claimed_at < $1 \
                       AND NOT EXISTS (SELECT 1 FROM outcomes o WHERE o.id = c.outcome_id) \
                       AND NOT EXISTS (SELECT 1 FROM token_journal j WHERE j.outcome_id = c.outcome_id) \
                     LIMIT 100",
                )
                .bind(now_ms() - ms(age))
                .fetch_all(&self.pool),
            )
            .await?;
        Ok(rows.into_iter().map(|(id,)| OutcomeId::from_stored(id)).collect())
    }

    /// Forgets claims, outcomes and passwords past their time.
    pub async fn purge_expired(&self) -> Result<u64, StoreError> {
        let now = now_ms();
        let mut removed = 0;
        for table in ["flow_claims", "outcomes", "outcome_secrets"] {
            let sql = format!("DELETE FROM {table} WHERE expires_at < $1");
            removed += self.bounded(sqlx::query(&sql).bind(now).execute(&self.pool)).await?.rows_affected();
        }
        // Past this, a journaled token has long expired at Linode (access tokens live two
        // hours; a row still here is one no replica could read or revoke).
        let stale = self
            .bounded(
                sqlx::query("DELETE FROM token_journal WHERE created_at < $1")
                    .bind(now - ms(JOURNAL_KEEP))
                    .execute(&self.pool),
            )
            .await?
            .rows_affected();
        if stale > 0 {
            tracing::warn!(stale, "dropped journaled tokens older than two days");
        }
        Ok(removed + stale)
    }

    /// Raw access for tests that plant corrupt or foreign rows.
    #[doc(hidden)]
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

fn secret_row(id: &OutcomeId) -> String {
    format!("outcome_secrets/{id}")
}

#[cfg(test)]
mod tests;
