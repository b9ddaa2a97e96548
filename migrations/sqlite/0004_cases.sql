-- Disputes: the claim as filed, the finding, the remedy, and where the case stands.
CREATE TABLE cases (
    id                  INTEGER PRIMARY KEY,
    kind                TEXT NOT NULL,
    state               TEXT NOT NULL,
    -- Optimistic concurrency: every change bumps it; a change based on an old version fails.
    version             BIGINT NOT NULL DEFAULT 1,
    customer_user_id    BIGINT REFERENCES users (id),
    contact_email       TEXT NOT NULL,
    contact_email_norm  TEXT NOT NULL,
    email_confirmed_at  BIGINT,
    lang                TEXT NOT NULL,
    via                 TEXT NOT NULL CHECK (via IN ('web', 'api')),
    filed_by_token      BIGINT REFERENCES api_tokens (id),
    card_last4          TEXT NOT NULL,
    card_first6         TEXT,
    amount_minor        BIGINT NOT NULL,
    currency            TEXT NOT NULL,
    expected_minor      BIGINT,
    occurred_at         TEXT NOT NULL,
    merchant_id         TEXT,
    terminal_id         TEXT,
    merchant_name       TEXT,
    description         TEXT,
    finding             TEXT,
    review_reason       TEXT,
    remedy_kind         TEXT NOT NULL DEFAULT 'none',
    remedy_minor        BIGINT,
    remedy_rrn          TEXT,
    remedy_needs_merchant BOOLEAN NOT NULL DEFAULT FALSE,
    -- The facts the explanation names, as captured when deciding (JSON object).
    explanation_args    TEXT NOT NULL DEFAULT '{}',
    -- The merchant whose records the finding rests on: whose staff may see the case.
    matched_merchant_id TEXT,
    deadline_at         BIGINT,
    state_entered_at    BIGINT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX cases_by_customer ON cases (customer_user_id);
CREATE INDEX cases_by_contact ON cases (contact_email_norm);
CREATE INDEX cases_by_state_deadline ON cases (state, deadline_at);
CREATE INDEX cases_by_merchant ON cases (matched_merchant_id, state);

-- The settlement debits a finding rests on (DESIGN.md §9 `matched`), in order.
CREATE TABLE case_matches (
    case_id       BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    settlement_id BIGINT NOT NULL REFERENCES settlement_entries (id),
    PRIMARY KEY (case_id, position)
);

-- Every change of a case: who, when, from, to, why.
CREATE TABLE case_events (
    id            INTEGER PRIMARY KEY,
    case_id       BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    at            BIGINT NOT NULL,
    actor         TEXT NOT NULL,
    actor_user_id BIGINT REFERENCES users (id),
    action        TEXT NOT NULL,
    from_state    TEXT,
    to_state      TEXT NOT NULL,
    note          TEXT
);
CREATE INDEX case_events_by_case ON case_events (case_id, id);
