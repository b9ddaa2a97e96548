-- What the people working a case record on it (issue 6).
-- The agent who owns the case on the desk, if anyone has taken it.
ALTER TABLE cases ADD COLUMN assigned_to BIGINT REFERENCES users (id);
-- The terminal of the first matched debit: merchant staff filter their queue by it.
ALTER TABLE cases ADD COLUMN matched_terminal_id TEXT;
-- When the customer accepted the current outcome; cleared whenever the state changes.
ALTER TABLE cases ADD COLUMN outcome_accepted_at BIGINT;
-- The refund/reversal confirmed executed since the case entered its pending state, and the
-- terminal reference of that transaction (batch, trace, RRN). Cleared whenever the state changes.
ALTER TABLE cases ADD COLUMN remedy_executed_at BIGINT;
ALTER TABLE cases ADD COLUMN executed_batch_no TEXT;
ALTER TABLE cases ADD COLUMN executed_trace_no TEXT;
ALTER TABLE cases ADD COLUMN executed_rrn TEXT;
-- The amount the merchant says the terminal should have charged (`wrong_amount`).
ALTER TABLE cases ADD COLUMN merchant_stated_minor BIGINT;

UPDATE cases SET matched_terminal_id = (
    SELECT s.terminal_id FROM case_matches m JOIN settlement_entries s ON s.id = m.settlement_id
    WHERE m.case_id = cases.id ORDER BY m.position LIMIT 1
);

CREATE INDEX cases_by_assignee ON cases (assigned_to, state);
CREATE INDEX cases_by_merchant_deadline ON cases (matched_merchant_id, deadline_at, id);
CREATE INDEX cases_by_terminal ON cases (matched_terminal_id, state);

-- A desk decision that departs from the finding on purpose (with its written reason).
ALTER TABLE case_events ADD COLUMN overrides_finding BOOLEAN NOT NULL DEFAULT FALSE;

-- When the deadline in `deadline_at` was found passed and the desk told (cleared with every new
-- deadline), so a case that stays `under_review` is reported once per deadline, not every sweep.
ALTER TABLE cases ADD COLUMN deadline_missed_at BIGINT;
-- Until when a deadline sweeper holds the case: several servers share one database, and each
-- overdue case must be handled by one of them.
ALTER TABLE cases ADD COLUMN sweep_lease_until BIGINT;
