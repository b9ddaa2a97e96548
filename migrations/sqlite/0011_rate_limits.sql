-- Abuse limits (DESIGN.md §12), kept in the database so every server sharing it enforces one
-- budget. One row per bucket (a kind of limit and a keyed hash of what it counts: an account, a
-- client address, an email address); `usage` is the bucket's recent use as text, `version`
-- makes each change a compare-and-set, and the periodic upkeep deletes rows from `forget_at` on.
CREATE TABLE rate_limits (
    bucket TEXT PRIMARY KEY,
    usage TEXT NOT NULL,
    version BIGINT NOT NULL,
    forget_at BIGINT NOT NULL
);

CREATE INDEX rate_limits_by_forget_at ON rate_limits (forget_at);
