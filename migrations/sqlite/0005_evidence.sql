-- Files a customer adds to a case (statement screenshots, SMS, slips): PNG, JPEG or PDF.
CREATE TABLE case_evidence (
    id           INTEGER PRIMARY KEY,
    case_id      BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes   BIGINT NOT NULL,
    data         BLOB NOT NULL,
    uploaded_by  BIGINT REFERENCES users (id),
    created_at   BIGINT NOT NULL
);
CREATE INDEX case_evidence_by_case ON case_evidence (case_id, id);
