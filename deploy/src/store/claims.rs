//! `flow_claims`: one row per OAuth `state`, so exactly one request on any replica runs a
//! flow's callback; and the claims whose request died before it recorded anything.

use std::time::Duration;

use super::{ms, now_ms, Store, StoreError};
use crate::ids::{OutcomeId, StateKey};

/// Which request runs a flow.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// This request won the insert: it runs the flow, whose outcome will be stored under this id.
    Mine(OutcomeId),
    /// Another request (on this replica or another) claimed it first; its outcome goes here.
    Taken(OutcomeId),
}

impl Store {
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
}
