//! `outcomes` and `outcome_secrets`: what came of each flow, where its Linode is now, and its
//! root password, encrypted and handed out once.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::{ms, now_ms, Store, StoreError};
use crate::ids::OutcomeId;
use domain::{Outcome, Progress};

/// What a browser sees of a stored outcome.
#[derive(Debug)]
pub struct StoredOutcome {
    pub outcome: Outcome,
    pub progress: Option<Progress>,
}

impl Store {
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
}

pub(super) fn secret_row(id: &OutcomeId) -> String {
    format!("outcome_secrets/{id}")
}
