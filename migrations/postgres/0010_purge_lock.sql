-- Who holds the purge lock (one purge or `check --fix` at a time): the
-- lock itself is a session-level advisory lock, which the server releases
-- when the session ends; this row names its holder for the refusal
-- message. At most one row, name 'purge'. Applied with the console's own
-- tables.
CREATE TABLE modcon_purge_lock (
    name       text PRIMARY KEY,
    what       text        NOT NULL,      -- purge, check --fix
    actor      text        NOT NULL,
    host       text        NOT NULL,
    pid        bigint      NOT NULL,
    started_at timestamptz NOT NULL       -- the real clock, UTC
);
