-- 0002: indexes for the retention step (expiry by age in small batches).
-- Portable SQL (SQLite and PostgreSQL). The PostgreSQL-only part is in 0002_retention.postgresql.sql.

CREATE INDEX issued_card_issued_at ON issued_card (issued_at);

CREATE INDEX feedback_received_at ON feedback (received_at);
