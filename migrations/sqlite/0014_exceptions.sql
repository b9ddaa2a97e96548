-- Exceptions and terminal health (DESIGN.md §10): trouble found in the records before anyone
-- complains.

-- One row per problem found. `exception_key` makes each found once: the kind and the record it
-- rests on (a settlement entry, or a journal sale's key for `unsettled_sale`).
CREATE TABLE exceptions (
    id                  INTEGER PRIMARY KEY,
    exception_key       TEXT NOT NULL UNIQUE,
    kind                TEXT NOT NULL,
    state               TEXT NOT NULL DEFAULT 'open',
    merchant_id         TEXT NOT NULL,
    terminal_id         TEXT NOT NULL,
    trace_no            TEXT NOT NULL,
    rrn                 TEXT,
    amount_minor        BIGINT NOT NULL,
    currency            TEXT NOT NULL,
    -- The settlement amount where the journal disagrees with it (`amount_mismatch`).
    other_minor         BIGINT,
    txn_time            BIGINT NOT NULL,
    settlement_id       BIGINT REFERENCES settlement_entries (id),
    journal_id          BIGINT REFERENCES journal_rows (id),
    found_at            BIGINT NOT NULL,
    -- The import that found it (NULL: the periodic check), for the one digest per import.
    import_id           BIGINT REFERENCES imports (id),
    case_id             BIGINT REFERENCES cases (id),
    linked_at           BIGINT,
    closed_at           BIGINT,
    -- `records`, `case` or `person`: what ended it.
    closed_by           TEXT,
    closed_by_user      BIGINT REFERENCES users (id),
    reason              TEXT
);
CREATE INDEX exceptions_by_merchant ON exceptions (merchant_id, state, id);
CREATE INDEX exceptions_by_state ON exceptions (state, id);
CREATE INDEX exceptions_by_terminal ON exceptions (merchant_id, terminal_id, found_at);
CREATE INDEX exceptions_by_settlement ON exceptions (settlement_id) WHERE settlement_id IS NOT NULL;
CREATE INDEX exceptions_by_journal ON exceptions (journal_id) WHERE journal_id IS NOT NULL;
CREATE INDEX exceptions_by_case ON exceptions (case_id) WHERE case_id IS NOT NULL;

-- Records that will be an exception if nothing happens before `due_at` (an orphan debit, an
-- unsettled sale): the periodic check leases the due ones, so time alone finds them.
CREATE TABLE exception_watch (
    watch_key     TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    settlement_id BIGINT REFERENCES settlement_entries (id),
    journal_id    BIGINT REFERENCES journal_rows (id),
    due_at        BIGINT NOT NULL,
    lease_until   BIGINT
);
CREATE INDEX exception_watch_due ON exception_watch (due_at);

-- Accepted imports whose records detection has not looked at yet; the post-import step takes
-- them (one takes each, however many servers run it).
ALTER TABLE imports ADD COLUMN exceptions_checked BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE imports SET exceptions_checked = TRUE;
CREATE INDEX imports_unchecked ON imports (id) WHERE exceptions_checked = FALSE AND accepted = TRUE;
-- Detection reads only the rows an import brought.
CREATE INDEX journal_by_import ON journal_rows (import_id);
CREATE INDEX settlement_by_import ON settlement_entries (import_id);
-- A journal sale's settlement debit when the sale has no RRN.
CREATE INDEX settlement_by_terminal_trace ON settlement_entries (merchant_id, terminal_id, trace_no);

-- A terminal flagged on a day (DESIGN.md §10): one row, one `terminal_alert`, per terminal per day.
CREATE TABLE terminal_flags (
    merchant_id TEXT NOT NULL,
    terminal_id TEXT NOT NULL,
    day         TEXT NOT NULL,
    reasons     TEXT NOT NULL,
    flagged_at  BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, terminal_id, day)
);

