//! A `SESSION_KEY` rotation: rows sealed with a key the operator replaced (and still lists in
//! `SESSION_KEY_PREVIOUS`) are sealed again with the current key, so the previous key can be
//! dropped once nothing else needs it. Each row is swapped only if nobody changed it meanwhile.

use super::{journal::row, outcomes::secret_row, OpenedWith, Store, StoreError};
use crate::ids::{JournalId, OutcomeId};

/// What one pass over the sealed rows did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resealed {
    /// Rows moved from a previous key to the current one.
    pub resealed: u64,
    /// Rows no key here opens: sealed with a key this server does not have, or altered.
    pub unreadable: u64,
}

impl Store {
    /// Seals again, with the current key, every journaled token and kept password that only a
    /// previous key opens. Does nothing without previous keys.
    pub async fn reseal(&self) -> Result<Resealed, StoreError> {
        let mut done = Resealed::default();
        if !self.cipher.has_previous() {
            return Ok(done);
        }
        let tokens: Vec<(String, Vec<u8>)> =
            self.bounded(sqlx::query_as("SELECT id, sealed FROM token_journal").fetch_all(&self.pool)).await?;
        for (id, sealed) in tokens {
            let name = row(&JournalId::from_stored(id.clone()));
            self.reseal_one(&mut done, "token_journal", "id", &id, &name, &sealed).await?;
        }
        let secrets: Vec<(String, Vec<u8>)> = self
            .bounded(sqlx::query_as("SELECT outcome_id, sealed FROM outcome_secrets").fetch_all(&self.pool))
            .await?;
        for (id, sealed) in secrets {
            let name = secret_row(&OutcomeId::from_stored(id.clone()));
            self.reseal_one(&mut done, "outcome_secrets", "outcome_id", &id, &name, &sealed).await?;
        }
        Ok(done)
    }

    async fn reseal_one(
        &self,
        done: &mut Resealed,
        table: &'static str,
        key_column: &'static str,
        id: &str,
        row_name: &str,
        sealed: &[u8],
    ) -> Result<(), StoreError> {
        match self.cipher.open_telling(row_name, sealed) {
            Ok((_, OpenedWith::Current)) => {}
            Ok((plain, OpenedWith::Previous)) => {
                let again = self.cipher.seal(row_name, &plain);
                // Only if the row still holds what was read: a concurrent writer wins.
                let sql = format!("UPDATE {table} SET sealed = $1 WHERE {key_column} = $2 AND sealed = $3");
                let updated = self
                    .bounded(sqlx::query(&sql).bind(again).bind(id).bind(sealed.to_vec()).execute(&self.pool))
                    .await?;
                done.resealed += updated.rows_affected();
            }
            Err(_) => done.unreadable += 1,
        }
        Ok(())
    }
}
