-- Issue 19: the desk's default list is one arm per open state (db::queue::page_sql), so a filter
-- on kind, finding or assignee meets a state in every arm. With only (kind, due_key, id) or
-- (state, due_key, id) to choose from, an arm walks one column's range and tests the other row by
-- row: `assignee=me` read every case assigned to the agent once per state (1.3–1.7 s a page at a
-- million cases). Each low-cardinality filter gets the state as its second column, so every arm
-- is one range read in (due_key, id) order that stops after a page. The (x, due_key, id) indexes
-- stay: with every state ("state=all") the list is a single arm ordered across states.
CREATE INDEX cases_by_assignee_state_due ON cases (assigned_to, state, due_key, id);
CREATE INDEX cases_by_kind_state_due ON cases (kind, state, due_key, id);
CREATE INDEX cases_by_finding_state_due ON cases (finding, state, due_key, id);
