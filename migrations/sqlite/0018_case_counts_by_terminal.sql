-- Issue 19: what every queue page and the dashboard read from `case_counts` (one row per state,
-- merchant and terminal), through indexes that hold every column those reads need. Its key
-- leads with the state and does not hold `n`, so each read visited every row: the terminal
-- filter's list sorted all of them on each queue page (a tenth of the desk page's CPU at a
-- million cases, 1,000 terminals), and the dashboard's sums looked each row up again.
-- The desk's terminal list: an index walk in terminal order that stops at its limit.
CREATE INDEX case_counts_by_terminal ON case_counts (terminal_id, n);
-- A merchant's terminal list, and the dashboard's sums by merchant and by terminal, in order.
CREATE INDEX case_counts_by_merchant_terminal ON case_counts (merchant_id, terminal_id, state, n);
-- The dashboard's count by state.
CREATE INDEX case_counts_by_state ON case_counts (state, n);
