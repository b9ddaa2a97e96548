-- Webhooks (DESIGN.md §7) and the indexes of GET /api/v1/cases (§9).

-- Where case events are POSTed. The secret signs each delivery, so it is kept as it is (an HMAC
-- needs the key itself); only admins see this table's pages.
CREATE TABLE webhook_endpoints (
    id            INTEGER PRIMARY KEY,
    url           TEXT NOT NULL,
    -- Space-separated §7 case event names, or 'all'.
    events        TEXT NOT NULL,
    -- The scope, like an API token's: 'agent' sees every case, 'merchant' its merchants' cases.
    role          TEXT NOT NULL CHECK (role IN ('merchant', 'agent')),
    secret        TEXT NOT NULL,
    -- An admin allowed loopback/private/link-local addresses for this endpoint (SSRF guard off).
    allow_private BOOLEAN NOT NULL DEFAULT FALSE,
    created_by    BIGINT REFERENCES users (id),
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);

CREATE TABLE webhook_endpoint_merchants (
    endpoint_id BIGINT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    merchant_id TEXT NOT NULL REFERENCES merchants (merchant_id),
    PRIMARY KEY (endpoint_id, merchant_id)
);

-- One row per event and endpoint, written in the transaction of the change (like the outbox);
-- the unique key makes a repeated write of the same event one delivery.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    endpoint_id     BIGINT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL,
    event           TEXT NOT NULL,
    case_id         BIGINT,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,
    last_error      TEXT,
    last_status     INTEGER,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);

-- GET /api/v1/cases pages newest first (by id) within a token's scope.
CREATE INDEX cases_by_token_id ON cases (filed_by_token, id);
CREATE INDEX cases_by_merchant_id ON cases (matched_merchant_id, id);
CREATE INDEX cases_by_state_id ON cases (state, id);
