-- The console's own tables. Additive and prefixed `modcon_`, so the web app
-- never sees them. Applied automatically the first time the console opens a
-- database read-write.

-- One row per moderation action: who did what, to which row, how much.
CREATE TABLE modcon_action (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT    NOT NULL,            -- Django datetime form, UTC
    actor       TEXT    NOT NULL,
    client_addr TEXT,                        -- from SSH_CLIENT, when set
    action      TEXT    NOT NULL,            -- delete, restore, undo, purge, fix
    kind        TEXT,                        -- thread, post, attachment; NULL for purge/fix/undo
    target_id   TEXT,
    threads     INTEGER NOT NULL DEFAULT 0,
    posts       INTEGER NOT NULL DEFAULT 0,
    attachments INTEGER NOT NULL DEFAULT 0,
    files       INTEGER NOT NULL DEFAULT 0,
    undoes      INTEGER REFERENCES modcon_action (id),
    undone_by   INTEGER REFERENCES modcon_action (id),
    detail      TEXT                         -- JSON: options and notes
);
CREATE INDEX modcon_action_actor ON modcon_action (actor, id);

-- Every row an action changed, with its state before and after. Drives
-- restore (what did this row's latest delete change?) and undo.
CREATE TABLE modcon_change (
    action_id         INTEGER NOT NULL REFERENCES modcon_action (id),
    kind              TEXT    NOT NULL,
    row_id            TEXT    NOT NULL,
    before_active     INTEGER NOT NULL,
    before_deleted_at TEXT,
    after_active      INTEGER NOT NULL,
    after_deleted_at  TEXT,
    PRIMARY KEY (action_id, kind, row_id)
) WITHOUT ROWID;
CREATE INDEX modcon_change_row ON modcon_change (kind, row_id, action_id);

-- Deletion times of threads and posts, which have no deleted_at column.
-- source 'console': the console deleted the row at that time (exact).
-- source 'seen':    found deleted by someone else; the time the console
--                   first saw it, so the retention clock never starts early.
-- row_updated_at is the row's updated_at when recorded: if the web app has
-- saved the row since, the record is stale and the time is unknown again.
CREATE TABLE modcon_deletion (
    kind           TEXT NOT NULL,
    row_id         TEXT NOT NULL,
    deleted_at     TEXT NOT NULL,
    source         TEXT NOT NULL,
    row_updated_at TEXT,
    PRIMARY KEY (kind, row_id)
) WITHOUT ROWID;

-- Files to remove once a purge batch has committed. Written inside the
-- batch's transaction; a crash leaves it for the next run to finish.
CREATE TABLE modcon_file_journal (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    action_id INTEGER REFERENCES modcon_action (id),
    image     TEXT NOT NULL,                 -- relative to the media root
    queued_at TEXT NOT NULL
);
