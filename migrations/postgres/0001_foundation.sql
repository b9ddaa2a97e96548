-- Settings kept by the application itself (for example the generated signing key).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Merchants (商户) and their terminals (终端), as registered by admins.
CREATE TABLE merchants (
    merchant_id TEXT PRIMARY KEY,
    name_zh     TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE terminals (
    merchant_id TEXT NOT NULL REFERENCES merchants (merchant_id),
    terminal_id TEXT NOT NULL,
    location    TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, terminal_id)
);
