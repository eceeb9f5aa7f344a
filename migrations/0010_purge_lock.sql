-- Who holds the purge lock (one purge or `check --fix` at a time). On
-- PostgreSQL the lock is a session-level advisory lock and this row names
-- its holder for the refusal message. On SQLite the lock is a file beside
-- the database that names its holder itself, and this table stays empty:
-- it is made so the console's own tables are the same on both backends.
-- Applied with the console's own tables.
CREATE TABLE modcon_purge_lock (
    name       TEXT PRIMARY KEY,  -- 'purge': one row at most
    what       TEXT NOT NULL,     -- purge, check --fix
    actor      TEXT NOT NULL,
    host       TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    started_at TEXT NOT NULL      -- the real clock, UTC
);
