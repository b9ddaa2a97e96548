-- Issue 19: every queue page lists the terminals of its scope for the terminal filter, read
-- from `case_counts` (one row per state, merchant and terminal). Its key leads with the state,
-- so the list read and sorted every row each page (the sorter was a tenth of the desk page's CPU
-- at a million cases, 1,000 terminals). Led by terminal, the desk's list is an index walk in
-- order that stops at its limit; led by merchant, a merchant's is a few rows.
CREATE INDEX case_counts_by_terminal ON case_counts (terminal_id, n);
CREATE INDEX case_counts_by_merchant_terminal ON case_counts (merchant_id, terminal_id, n);
