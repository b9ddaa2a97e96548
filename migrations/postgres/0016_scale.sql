-- Issue 19: every list page an index walk, the dashboard read from counters, and the clock's
-- and the importer's follow-up work found through indexes, whatever the number of cases.

-- The queues' sort key: the deadline, cases without one last (9999-12-31). Lists were ordered by
-- COALESCE(deadline_at, …), which no index served, so every page sorted every matching case.
-- A generated column is kept by every statement that changes `deadline_at`, with no code to forget.
ALTER TABLE cases ADD COLUMN due_key BIGINT GENERATED ALWAYS AS (COALESCE(deadline_at, 253402300799)) STORED;

-- One index per filter a queue page can lead with, each ending in the keyset (due_key, id), so a
-- page reads its rows in order and stops after one page. These replace the indexes that ended in
-- `state` or `deadline_at`.
DROP INDEX cases_by_state_deadline;
DROP INDEX cases_by_merchant;
DROP INDEX cases_by_merchant_deadline;
DROP INDEX cases_by_assignee;
DROP INDEX cases_by_terminal;
CREATE INDEX cases_by_due ON cases (due_key, id);
CREATE INDEX cases_by_state_due ON cases (state, due_key, id);
CREATE INDEX cases_by_merchant_due ON cases (matched_merchant_id, due_key, id);
CREATE INDEX cases_by_merchant_state_due ON cases (matched_merchant_id, state, due_key, id);
CREATE INDEX cases_by_kind_due ON cases (kind, due_key, id);
CREATE INDEX cases_by_finding_due ON cases (finding, due_key, id);
CREATE INDEX cases_by_terminal_due ON cases (matched_terminal_id, due_key, id);
CREATE INDEX cases_by_card_due ON cases (card_last4, due_key, id);
CREATE INDEX cases_by_assignee_due ON cases (assigned_to, due_key, id);
-- The deadline sweep reads only what is due: deadlines not yet reported, and resolved, rejected
-- and withdrawn cases by when they went quiet. The conditions are written exactly as the sweep's
-- query (db::cases::lease_due) writes them, so both engines see the partial index applies.
CREATE INDEX cases_due_unreported ON cases (due_key)
    WHERE state IN ('awaiting_merchant', 'under_review', 'refund_pending', 'reversal_pending') AND deadline_missed_at IS NULL;
CREATE INDEX cases_closable ON cases (updated_at) WHERE state IN ('resolved', 'rejected', 'withdrawn');
-- Re-matching after an import: pending remedies whose credit may have arrived.
CREATE INDEX cases_by_remedy_rrn ON cases (remedy_rrn) WHERE remedy_rrn IS NOT NULL;
-- The cases a debit's RRN is behind (the desk's RRN filter, re-matching after a journal import).
CREATE INDEX case_matches_by_settlement ON case_matches (settlement_id);

-- The dashboard's counts, kept by a trigger in the transaction that changes the case. One row per
-- state and terminal (merchant and terminal '' when the case matched none): the table grows with
-- terminals, never with cases.
CREATE TABLE case_counts (
    state       TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    terminal_id TEXT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (state, merchant_id, terminal_id)
);
-- Open cases by the hour their deadline falls in: "overdue" and "due within a day" are sums of
-- whole hours plus one partial hour read from the index.
CREATE TABLE case_due_hours (
    hour BIGINT PRIMARY KEY,
    n    BIGINT NOT NULL
);

INSERT INTO case_counts (state, merchant_id, terminal_id, n)
SELECT state, COALESCE(matched_merchant_id, ''), COALESCE(matched_terminal_id, ''), COUNT(*)
FROM cases GROUP BY 1, 2, 3;
INSERT INTO case_due_hours (hour, n)
SELECT deadline_at / 3600, COUNT(*) FROM cases
WHERE deadline_at IS NOT NULL
  AND state IN ('submitted', 'awaiting_customer', 'awaiting_merchant', 'under_review', 'refund_pending', 'reversal_pending')
GROUP BY 1;

CREATE FUNCTION case_count_add(c_state TEXT, c_merchant TEXT, c_terminal TEXT, c_deadline BIGINT, delta BIGINT)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO case_counts (state, merchant_id, terminal_id, n)
    VALUES (c_state, COALESCE(c_merchant, ''), COALESCE(c_terminal, ''), delta)
    ON CONFLICT (state, merchant_id, terminal_id) DO UPDATE SET n = case_counts.n + delta;
    IF c_deadline IS NOT NULL AND c_state IN
        ('submitted', 'awaiting_customer', 'awaiting_merchant', 'under_review', 'refund_pending', 'reversal_pending') THEN
        INSERT INTO case_due_hours (hour, n) VALUES (c_deadline / 3600, delta)
        ON CONFLICT (hour) DO UPDATE SET n = case_due_hours.n + delta;
    END IF;
END $$;

-- Counter rows are shared by many cases: two transactions moving cases in opposite directions
-- would lock the same two rows in opposite orders and deadlock. Both sides are applied in one
-- fixed order (by state, then merchant and terminal) so they queue instead.
CREATE FUNCTION cases_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM case_count_add(NEW.state, NEW.matched_merchant_id, NEW.matched_terminal_id, NEW.deadline_at, 1);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM case_count_add(OLD.state, OLD.matched_merchant_id, OLD.matched_terminal_id, OLD.deadline_at, -1);
    ELSIF (OLD.state, OLD.matched_merchant_id, OLD.matched_terminal_id, OLD.deadline_at)
          IS DISTINCT FROM (NEW.state, NEW.matched_merchant_id, NEW.matched_terminal_id, NEW.deadline_at) THEN
        IF (OLD.state, COALESCE(OLD.matched_merchant_id, ''), COALESCE(OLD.matched_terminal_id, ''), COALESCE(OLD.deadline_at, 0))
           <= (NEW.state, COALESCE(NEW.matched_merchant_id, ''), COALESCE(NEW.matched_terminal_id, ''), COALESCE(NEW.deadline_at, 0)) THEN
            PERFORM case_count_add(OLD.state, OLD.matched_merchant_id, OLD.matched_terminal_id, OLD.deadline_at, -1);
            PERFORM case_count_add(NEW.state, NEW.matched_merchant_id, NEW.matched_terminal_id, NEW.deadline_at, 1);
        ELSE
            PERFORM case_count_add(NEW.state, NEW.matched_merchant_id, NEW.matched_terminal_id, NEW.deadline_at, 1);
            PERFORM case_count_add(OLD.state, OLD.matched_merchant_id, OLD.matched_terminal_id, OLD.deadline_at, -1);
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER cases_counted AFTER INSERT OR DELETE OR UPDATE OF state, deadline_at, matched_merchant_id, matched_terminal_id
ON cases FOR EACH ROW EXECUTE FUNCTION cases_counted();
