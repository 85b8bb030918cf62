-- 0001: issued cards, feedback, seen JWT ids.
-- Portable SQL (SQLite and PostgreSQL): TEXT/INTEGER types, no autoincrement, ISO 8601 UTC times as TEXT.
-- No raw patient identifier, token or resource content is stored.

CREATE TABLE issued_card (
    card_uuid      TEXT PRIMARY KEY,
    rule_system    TEXT,             -- card.source.topic.system
    rule_code      TEXT,             -- card.source.topic.code = the rule id
    indicator      TEXT,
    service_id     TEXT NOT NULL,
    hook_instance  TEXT NOT NULL,
    issued_at      TEXT NOT NULL,
    patient_key    TEXT              -- HMAC-SHA256(PECOMA_PATIENT_KEY_SECRET, patient id), hex
);

CREATE INDEX issued_card_rule_code ON issued_card (rule_code);

CREATE TABLE feedback (
    card_uuid               TEXT NOT NULL,
    outcome                 TEXT NOT NULL,   -- accepted | overridden
    outcome_timestamp       TEXT NOT NULL,   -- as sent by the client
    service_id              TEXT NOT NULL,
    accepted_suggestions    TEXT,            -- JSON array of suggestion uuids
    override_reason_system  TEXT,
    override_reason_code    TEXT,
    override_reason_display TEXT,
    override_user_comment   TEXT,
    received_at             TEXT NOT NULL,
    PRIMARY KEY (card_uuid, outcome, outcome_timestamp)
);

CREATE TABLE seen_jti (
    jti         TEXT PRIMARY KEY,
    expires_at  INTEGER NOT NULL             -- unix seconds
);

CREATE INDEX seen_jti_expires_at ON seen_jti (expires_at);
