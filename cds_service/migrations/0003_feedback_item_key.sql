-- 0003: a feedback item is identified by its whole content, not by (card, outcome, outcomeTimestamp).
-- Two distinct items for one card at the same instant (e.g. two accepted suggestions sent as two items) were
-- stored as one, and the same item re-sent with "+00:00" instead of "Z" twice. item_key is computed by
-- cds_service.storage.feedback_key (SHA-256 of the item with its timestamp in UTC); rows stored before this
-- version keep a "legacy:" key built from the old identity, so none is lost or merged.
-- Portable SQL (SQLite and PostgreSQL): the old primary key can only be dropped by rebuilding the table.

CREATE TABLE feedback_0003 (
    item_key                TEXT PRIMARY KEY,
    card_uuid               TEXT NOT NULL,
    outcome                 TEXT NOT NULL,   -- accepted | overridden
    outcome_timestamp       TEXT NOT NULL,   -- as sent by the client
    service_id              TEXT NOT NULL,
    accepted_suggestions    TEXT,            -- JSON array of suggestion uuids
    override_reason_system  TEXT,
    override_reason_code    TEXT,
    override_reason_display TEXT,
    override_user_comment   TEXT,
    received_at             TEXT NOT NULL
);

INSERT INTO feedback_0003 (item_key, card_uuid, outcome, outcome_timestamp, service_id, accepted_suggestions,
                           override_reason_system, override_reason_code, override_reason_display,
                           override_user_comment, received_at)
SELECT 'legacy:' || card_uuid || '|' || outcome || '|' || outcome_timestamp, card_uuid, outcome, outcome_timestamp,
       service_id, accepted_suggestions, override_reason_system, override_reason_code, override_reason_display,
       override_user_comment, received_at
FROM feedback;

DROP TABLE feedback;

ALTER TABLE feedback_0003 RENAME TO feedback;

CREATE INDEX feedback_card_uuid ON feedback (card_uuid);

CREATE INDEX feedback_received_at ON feedback (received_at);
