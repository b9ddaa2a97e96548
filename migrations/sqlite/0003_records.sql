-- Every import attempt (accepted or rejected): who, when, which file, what happened.
CREATE TABLE imports (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('journal', 'settlement')),
    file_name   TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    via         TEXT NOT NULL CHECK (via IN ('cli', 'web', 'api')),
    user_id     BIGINT REFERENCES users (id),
    token_id    BIGINT REFERENCES api_tokens (id),
    accepted    BOOLEAN NOT NULL,
    row_count   BIGINT NOT NULL,
    inserted    BIGINT NOT NULL,
    unchanged   BIGINT NOT NULL,
    conflicting BIGINT NOT NULL,
    bad_rows    BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Terminal journal rows (DESIGN.md §3.1). Key: merchant, terminal, batch, trace.
-- Instants are Unix seconds; the offset the terminal wrote is kept for display.
CREATE TABLE journal_rows (
    id              INTEGER PRIMARY KEY,
    merchant_id     TEXT NOT NULL,
    terminal_id     TEXT NOT NULL,
    batch_no        TEXT NOT NULL,
    trace_no        TEXT NOT NULL,
    rrn             TEXT,
    auth_code       TEXT,
    txn_type        TEXT NOT NULL,
    status          TEXT NOT NULL,
    receipt_printed BOOLEAN NOT NULL,
    card            TEXT NOT NULL,
    card_last4      TEXT NOT NULL,
    amount_minor    BIGINT NOT NULL,
    currency        TEXT NOT NULL,
    local_time      BIGINT NOT NULL,
    local_offset    INTEGER NOT NULL,
    orig_trace_no   TEXT,
    orig_batch_no   TEXT,
    response_code   TEXT,
    terminal_event  TEXT,
    import_id       BIGINT NOT NULL REFERENCES imports (id),
    UNIQUE (merchant_id, terminal_id, batch_no, trace_no)
);
-- Joining a settlement record by RRN.
CREATE INDEX journal_by_rrn ON journal_rows (rrn) WHERE rrn IS NOT NULL;
-- Joining by terminal + trace when the terminal got no RRN.
CREATE INDEX journal_by_terminal_trace ON journal_rows (merchant_id, terminal_id, trace_no);
-- Finding the void / refund / reversal that cancels a sale.
CREATE INDEX journal_by_orig_trace ON journal_rows (merchant_id, terminal_id, orig_trace_no) WHERE orig_trace_no IS NOT NULL;

-- Acquirer settlement (clearing) records (DESIGN.md §3.2). Key: entry_id.
CREATE TABLE settlement_entries (
    id           INTEGER PRIMARY KEY,
    entry_id     TEXT NOT NULL UNIQUE,
    merchant_id  TEXT NOT NULL,
    terminal_id  TEXT NOT NULL,
    trace_no     TEXT NOT NULL,
    rrn          TEXT NOT NULL,
    card         TEXT NOT NULL,
    card_last4   TEXT NOT NULL,
    direction    TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency     TEXT NOT NULL,
    txn_time     BIGINT NOT NULL,
    txn_offset   INTEGER NOT NULL,
    settled_on   TEXT NOT NULL,
    orig_rrn     TEXT,
    import_id    BIGINT NOT NULL REFERENCES imports (id)
);
-- Claim candidates: debits by last 4 digits, amount and time.
CREATE INDEX settlement_candidates ON settlement_entries (card_last4, amount_minor, txn_time) WHERE direction = 'debit';
CREATE INDEX settlement_by_rrn ON settlement_entries (rrn);
-- Credits that return a debit.
CREATE INDEX settlement_by_orig_rrn ON settlement_entries (orig_rrn) WHERE orig_rrn IS NOT NULL;
