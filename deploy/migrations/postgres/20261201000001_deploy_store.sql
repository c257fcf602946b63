-- The deploy flow's store (PostgreSQL). Times are milliseconds since the Unix epoch.

-- Which request runs the flow of an OAuth `state` (by its SHA-256): the first insert wins.
CREATE TABLE flow_claims (
    state_key  TEXT PRIMARY KEY,
    outcome_id TEXT NOT NULL,
    claimed_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- What came of a claimed flow, as JSON; the progress its follower last saw, as JSON.
CREATE TABLE outcomes (
    id         TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    progress   TEXT,
    watched_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- The root password of a deployed outcome, encrypted; deleted when it is shown.
CREATE TABLE outcome_secrets (
    outcome_id TEXT PRIMARY KEY,
    sealed     BYTEA NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Every live token, encrypted, with the replica holding it and the lease it renews. A row is
-- removed only once its token is revoked.
CREATE TABLE token_journal (
    id           TEXT PRIMARY KEY,
    outcome_id   TEXT NOT NULL,
    sealed       BYTEA NOT NULL,
    linode_id    BIGINT,
    holder       TEXT NOT NULL,
    lease_until  BIGINT NOT NULL,
    follow_until BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE INDEX flow_claims_expiry ON flow_claims (expires_at);
CREATE INDEX outcomes_expiry ON outcomes (expires_at);
CREATE INDEX outcome_secrets_expiry ON outcome_secrets (expires_at);
CREATE INDEX token_journal_lease ON token_journal (lease_until);
CREATE INDEX token_journal_holder ON token_journal (holder);
