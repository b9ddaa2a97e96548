-- The records browser (GET /records) lists records newest first and searches them by terminal,
-- trace, card and amount. These are the indexes 0003 does not already have for that; each
-- search is one index range, never a read of the whole table.

-- Newest first across every merchant (the disputes desk), and time ranges: (time, id) is also
-- the keyset a page starts after.
CREATE INDEX journal_by_time ON journal_rows (local_time, id);
-- Newest first within one merchant (merchant staff see nothing else).
CREATE INDEX journal_by_merchant_time ON journal_rows (merchant_id, local_time, id);
-- Terminal (+ trace) without the merchant, as the desk reads it off a slip; the 0003 index
-- leads with merchant_id and cannot serve it.
CREATE INDEX journal_by_terminal ON journal_rows (terminal_id, trace_no);
-- Last 4 digits (+ amount, + time), as a cardholder describes a payment.
CREATE INDEX journal_by_card ON journal_rows (card_last4, amount_minor, local_time);

CREATE INDEX settlement_by_time ON settlement_entries (txn_time, id);
CREATE INDEX settlement_by_terminal ON settlement_entries (terminal_id, trace_no);
-- settlement_candidates covers debits only (WHERE direction = 'debit'); the browser shows
-- credits too.
CREATE INDEX settlement_by_card ON settlement_entries (card_last4, amount_minor, txn_time);
