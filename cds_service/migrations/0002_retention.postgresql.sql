-- 0002, PostgreSQL only (dialect-forced): seen_jti.expires_at holds unix seconds, which outgrow
-- PostgreSQL's 32-bit INTEGER in 2038; SQLite's INTEGER is already 64-bit.

ALTER TABLE seen_jti ALTER COLUMN expires_at TYPE BIGINT;
