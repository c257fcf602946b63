//! The deploy flow's store: who runs each OAuth `state`, what came of each deployment (the root
//! password encrypted and handed out once), what its follower last saw, and a journal of every
//! live token with the replica that holds it. One interface, two backends chosen by the URL:
//! SQLite (a file in the data directory; one server process) or PostgreSQL (any number of
//! replicas). Queries are plain SQL both backends accept, checked at run time through sqlx's
//! `Any` driver; the migrations are embedded and applied at start-up.

mod cipher;
mod claims;
mod journal;
mod outcomes;
mod rotation;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};
use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions},
    AnyPool, Executor,
};

pub use cipher::{OpenedWith, RowCipher, Unsealable};
pub use claims::Claim;
pub use journal::{HeldToken, JournalEntry, NewJournalEntry};
pub use outcomes::StoredOutcome;
pub use rotation::Resealed;

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
    /// Also reads what `previous` keys sealed (`SESSION_KEY_PREVIOUS`, during a rotation);
    /// [`Store::reseal`] moves those rows to the current key.
    #[must_use]
    pub fn with_previous_keys<K: AsRef<[u8]>>(self, previous: &[K]) -> Self {
        Self { cipher: self.cipher.with_previous(previous), ..self }
    }

    async fn bounded<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.op_timeout, work).await {
            Ok(result) => result.map_err(StoreError::from),
            Err(_) => Err(StoreError::Timeout(self.op_timeout)),
        }
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
    #[cfg(test)]
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

#[cfg(test)]
mod tests;
