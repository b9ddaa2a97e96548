-- One payment, one case (DESIGN.md §6).

-- The filing form's one-time token, or a bank channel's Idempotency-Key (prefixed with its token
-- id): the same key files the same case once, however often it is sent.
ALTER TABLE cases ADD COLUMN filing_key TEXT;
CREATE UNIQUE INDEX cases_by_filing_key ON cases (filing_key) WHERE filing_key IS NOT NULL;

-- A claim on a debit that another customer's open case already holds is filed for the desk,
-- linked to that case.
ALTER TABLE cases ADD COLUMN related_case_id BIGINT REFERENCES cases (id);
CREATE INDEX cases_by_related ON cases (related_case_id) WHERE related_case_id IS NOT NULL;

-- Which open case holds each settlement debit. The primary key is the rule: a debit belongs to
-- at most one case that is not withdrawn or closed (rows go when the case is withdrawn or
-- closed, or matched again).
CREATE TABLE debit_holders (
    settlement_id BIGINT PRIMARY KEY REFERENCES settlement_entries (id),
    case_id       BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE
);
CREATE INDEX debit_holders_by_case ON debit_holders (case_id);

-- An executed remedy settles one case: the same terminal reference recorded twice, or the same
-- settlement credit counted twice, is refused.
CREATE UNIQUE INDEX cases_by_execution ON cases (matched_merchant_id, executed_batch_no, executed_trace_no)
    WHERE executed_trace_no IS NOT NULL;
CREATE UNIQUE INDEX cases_by_executed_rrn ON cases (matched_merchant_id, executed_rrn) WHERE executed_rrn IS NOT NULL;
ALTER TABLE cases ADD COLUMN settled_by_credit TEXT;
CREATE UNIQUE INDEX cases_by_settling_credit ON cases (settled_by_credit) WHERE settled_by_credit IS NOT NULL;

-- Cases filed before this rule: the oldest open case on a debit holds it.
INSERT INTO debit_holders (settlement_id, case_id)
SELECT m.settlement_id, MIN(c.id) FROM case_matches m JOIN cases c ON c.id = m.case_id
WHERE c.state NOT IN ('withdrawn', 'closed')
GROUP BY m.settlement_id;
