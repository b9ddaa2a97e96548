-- People who sign in. Email is unique case-insensitively through email_norm.
CREATE TABLE users (
    id                INTEGER PRIMARY KEY,
    email             TEXT NOT NULL,
    email_norm        TEXT NOT NULL UNIQUE,
    password_hash     TEXT NOT NULL,
    role              TEXT NOT NULL CHECK (role IN ('customer', 'merchant', 'agent', 'admin')),
    lang              TEXT,
    email_verified_at BIGINT,
    disabled_at       BIGINT,
    created_at        BIGINT NOT NULL
);

-- Which merchants a merchant user works for.
CREATE TABLE user_merchants (
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    merchant_id TEXT NOT NULL REFERENCES merchants (merchant_id),
    PRIMARY KEY (user_id, merchant_id)
);

-- Signed-in sessions. Only a hash of the cookie's token is stored.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Bearer tokens for /api/v1, stored hashed, shown once.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('customer', 'merchant', 'agent', 'admin')),
    created_by   BIGINT REFERENCES users (id),
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

CREATE TABLE api_token_merchants (
    token_id    BIGINT NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    merchant_id TEXT NOT NULL REFERENCES merchants (merchant_id),
    PRIMARY KEY (token_id, merchant_id)
);

-- Single-use emailed links (verify email, reset password, confirm a claim). Hashed, expiring.
CREATE TABLE email_tokens (
    token_hash TEXT PRIMARY KEY,
    purpose    TEXT NOT NULL,
    user_id    BIGINT REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    subject_id BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);

-- Email notices, written in the same transaction as the change that causes them and delivered
-- by a background sender. notice_key makes the same event produce one notice only.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    notice_key      TEXT NOT NULL UNIQUE,
    event           TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    lang            TEXT NOT NULL,
    case_id         BIGINT,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
