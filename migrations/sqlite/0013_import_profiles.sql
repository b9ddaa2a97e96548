-- Import profiles (DESIGN.md §3.4) an admin uploads, and the profile each import was read with.

-- The TOML as uploaded (it was checked then); `kind` and `comment` are kept for listing.
CREATE TABLE import_profiles (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('journal', 'settlement')),
    comment     TEXT NOT NULL,
    source      TEXT NOT NULL,
    created_by  BIGINT REFERENCES users (id),
    created_at  BIGINT NOT NULL
);

-- NULL: the file was our own CSV (`redress-csv`).
ALTER TABLE imports ADD COLUMN profile TEXT;
