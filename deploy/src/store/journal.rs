//! The journal of live tokens. A token is written here (encrypted) as soon as the code exchange
//! returns it, before any Linode is created with it; the replica that holds it renews a lease
//! while it works; the row is deleted only after Linode confirmed the revocation. A lease that
//! lapses (the replica was killed, lost its database, or was stopped without finishing) lets any
//! replica take the token over: follow its Linode again, or revoke it.

use std::time::Duration;

use linode::{AccessToken, RefreshToken};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{ms, now_ms, Store, StoreError};
use crate::ids::{JournalId, OutcomeId, ReplicaId};

/// What a journal row seals: the tokens, and what recovery needs to finish the deployment the
/// way the flow would have (the root password and label of the Linode being created).
pub struct HeldToken {
    pub access: AccessToken,
    pub refresh: Option<RefreshToken>,
    /// `None` when the person chose SSH keys only: the Linode is created without one.
    pub root_password: Option<SecretString>,
    /// The label the create call uses: recovery finds the Linode by it when the replica died
    /// before it learned the Linode's id.
    pub label: String,
    pub ssh_keys: usize,
    /// The label of the firewall made for the app, when one is to be made: recorded before it
    /// is created, so recovery finds (and removes) one a crash left without its Linode.
    pub firewall_label: Option<String>,
}

impl std::fmt::Debug for HeldToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldToken").field("label", &self.label).finish_non_exhaustive()
    }
}

/// The sealed form; never leaves this module.
#[derive(Serialize, Deserialize)]
struct Sealed {
    access: String,
    refresh: Option<String>,
    /// A string in rows sealed before password-less deploys; `null` for one.
    root_password: Option<String>,
    label: String,
    ssh_keys: usize,
    /// Absent in rows sealed before firewalls were made.
    #[serde(default)]
    firewall_label: Option<String>,
}

pub struct NewJournalEntry<'a> {
    pub outcome_id: &'a OutcomeId,
    pub held: &'a HeldToken,
    pub holder: &'a ReplicaId,
    pub lease: Duration,
    /// Past this, recovery revokes instead of following.
    pub follow_bound: Duration,
}

/// A row taken over by this replica.
#[derive(Debug)]
pub struct JournalEntry {
    pub id: JournalId,
    pub outcome_id: OutcomeId,
    pub held: HeldToken,
    pub linode_id: Option<u64>,
    /// Milliseconds since the epoch after which following stops.
    pub follow_until: i64,
    pub created_at: i64,
}

/// `outcome_id, sealed, linode_id, follow_until, created_at` of a row just taken over.
type TakenRow = (String, Vec<u8>, Option<i64>, i64, i64);

/// A row taken over, or why it cannot be used here.
pub(super) type TakeOver = Result<JournalEntry, (JournalId, StoreError)>;

pub(super) fn row(id: &JournalId) -> String {
    format!("token_journal/{id}")
}

impl Store {
    pub async fn journal_token(&self, entry: NewJournalEntry<'_>) -> Result<JournalId, StoreError> {
        let id = JournalId::random();
        let held = entry.held;
        let sealed = Sealed {
            access: held.access.secret().to_owned(),
            refresh: held.refresh.as_ref().map(|t| t.secret().to_owned()),
            root_password: held.root_password.as_ref().map(|password| password.expose_secret().to_owned()),
            label: held.label.clone(),
            ssh_keys: held.ssh_keys,
            firewall_label: held.firewall_label.clone(),
        };
        let plain = serde_json::to_vec(&sealed).map_err(|e| StoreError::Query(e.to_string()))?;
        let sealed = self.cipher.seal(&row(&id), &plain);
        let now = now_ms();
        self.bounded(
            sqlx::query(
                "INSERT INTO token_journal (id, outcome_id, sealed, linode_id, holder, lease_until, follow_until, created_at) \
                 VALUES ($1, $2, $3, NULL, $4, $5, $6, $7)",
            )
            .bind(id.as_str())
            .bind(entry.outcome_id.as_str())
            .bind(sealed)
            .bind(entry.holder.as_str())
            .bind(now + ms(entry.lease))
            .bind(now + ms(entry.follow_bound))
            .bind(now)
            .execute(&self.pool),
        )
        .await?;
        Ok(id)
    }

    /// Records the id of the Linode the token created, so recovery follows it directly.
    pub async fn journal_linode(&self, id: &JournalId, linode_id: u64) -> Result<(), StoreError> {
        self.bounded(
            sqlx::query("UPDATE token_journal SET linode_id = $1 WHERE id = $2")
                .bind(linode_id as i64)
                .bind(id.as_str())
                .execute(&self.pool),
        )
        .await?;
        Ok(())
    }

    /// Removes a token once Linode confirmed its revocation.
    pub async fn forget_token(&self, id: &JournalId) -> Result<(), StoreError> {
        self.bounded(sqlx::query("DELETE FROM token_journal WHERE id = $1").bind(id.as_str()).execute(&self.pool))
            .await?;
        Ok(())
    }

    /// Whether `holder` still holds row `id` with a lease that has not lapsed.
    pub async fn holds(&self, id: &JournalId, holder: &ReplicaId) -> Result<bool, StoreError> {
        let row: Option<(i64,)> = self
            .bounded(
                sqlx::query_as("SELECT 1 FROM token_journal WHERE id = $1 AND holder = $2 AND lease_until > $3")
                    .bind(id.as_str())
                    .bind(holder.as_str())
                    .bind(now_ms())
                    .fetch_optional(&self.pool),
            )
            .await?;
        Ok(row.is_some())
    }

    /// Extends every lease `holder` has; returns how many.
    pub async fn renew_leases(&self, holder: &ReplicaId, lease: Duration) -> Result<u64, StoreError> {
        let result = self
            .bounded(
                sqlx::query("UPDATE token_journal SET lease_until = $1 WHERE holder = $2")
                    .bind(now_ms() + ms(lease))
                    .bind(holder.as_str())
                    .execute(&self.pool),
            )
            .await?;
        Ok(result.rows_affected())
    }

    /// Lets every lease not held by `holder` lapse now. Only for SQLite, whose file one process
    /// uses: at start-up, any other holder is a process that is gone.
    pub async fn lapse_others(&self, holder: &ReplicaId) -> Result<u64, StoreError> {
        let result = self
            .bounded(
                sqlx::query("UPDATE token_journal SET lease_until = 0 WHERE holder <> $1")
                    .bind(holder.as_str())
                    .execute(&self.pool),
            )
            .await?;
        Ok(result.rows_affected())
    }

    /// Takes over up to `limit` tokens whose lease lapsed. Each row goes to exactly one replica:
    /// the conditional update is the arbiter.
    pub async fn take_over_lapsed(
        &self,
        holder: &ReplicaId,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<TakeOver>, StoreError> {
        let now = now_ms();
        let candidates: Vec<(String,)> = self
            .bounded(
                sqlx::query_as("SELECT id FROM token_journal WHERE lease_until < $1 ORDER BY lease_until LIMIT $2")
                    .bind(now)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool),
            )
            .await?;
        let mut taken = Vec::new();
        for (id,) in candidates {
            // Each row's lease starts when it is taken, not when the batch was listed.
            let now = now_ms();
            let row: Option<TakenRow> = self
                .bounded(
                    sqlx::query_as(
                        "UPDATE token_journal SET holder = $1, lease_until = $2 WHERE id = $3 AND lease_until < $4 \
                         RETURNING outcome_id, sealed, linode_id, follow_until, created_at",
                    )
                    .bind(holder.as_str())
                    .bind(now + ms(lease))
                    .bind(&id)
                    .bind(now)
                    .fetch_optional(&self.pool),
                )
                .await?;
            let Some((outcome_id, sealed, linode_id, follow_until, created_at)) = row else { continue };
            let id = JournalId::from_stored(id);
            taken.push(match self.open_held(&id, &sealed) {
                Ok(held) => Ok(JournalEntry {
                    id,
                    outcome_id: OutcomeId::from_stored(outcome_id),
                    held,
                    linode_id: linode_id.and_then(|id| u64::try_from(id).ok()),
                    follow_until,
                    created_at,
                }),
                Err(error) => Err((id, error)),
            });
        }
        Ok(taken)
    }

    /// Lets go of a row for `delay` (a token whose revocation failed, a row this replica cannot
    /// read): no replica renews it, and any replica may take it over afterwards.
    pub async fn defer_token(&self, id: &JournalId, delay: Duration) -> Result<(), StoreError> {
        self.bounded(
            sqlx::query("UPDATE token_journal SET holder = '', lease_until = $1 WHERE id = $2")
                .bind(now_ms() + ms(delay))
                .bind(id.as_str())
                .execute(&self.pool),
        )
        .await?;
        Ok(())
    }

    fn open_held(&self, id: &JournalId, sealed: &[u8]) -> Result<HeldToken, StoreError> {
        let plain = self.cipher.open(&row(id), sealed).map_err(|_| StoreError::Corrupt("journaled token"))?;
        let sealed: Sealed = serde_json::from_slice(&plain).map_err(|_| StoreError::Corrupt("journaled token"))?;
        Ok(HeldToken {
            access: AccessToken::new(sealed.access),
            refresh: sealed.refresh.map(RefreshToken::new),
            root_password: sealed.root_password.map(SecretString::from),
            label: sealed.label,
            ssh_keys: sealed.ssh_keys,
            firewall_label: sealed.firewall_label,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Sealed;

    #[test]
    fn rows_sealed_before_password_less_deploys_still_hold_their_password() {
        let old = r#"{"access":"a","refresh":null,"root_password":"pw-Old-1","label":"l","ssh_keys":0}"#;
        let sealed: Sealed = serde_json::from_str(old).unwrap();
        assert_eq!(sealed.root_password.as_deref(), Some("pw-Old-1"));
        assert_eq!(sealed.firewall_label, None);
        let keys_only = r#"{"access":"a","refresh":null,"root_password":null,"label":"l","ssh_keys":1}"#;
        assert_eq!(serde_json::from_str::<Sealed>(keys_only).unwrap().root_password, None);
    }
}
