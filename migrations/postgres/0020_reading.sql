-- Issue 15 (what people read).

-- A terminal's location for English readers; empty = show the one location text to everyone.
ALTER TABLE terminals ADD COLUMN location_en TEXT NOT NULL DEFAULT '';

-- An upload's report, kept so that the page after the upload is a GET (Post/Redirect/Get): a
-- reload shows the report again instead of sending the file again.
CREATE TABLE import_reports (
    import_id  BIGINT PRIMARY KEY REFERENCES imports (id),
    report     TEXT NOT NULL
);
