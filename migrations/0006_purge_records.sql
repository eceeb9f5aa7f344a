-- What a purge removed: every row's kind, id, parent, image path and
-- deletion time (never its content), so "what happened to row X" has an
-- answer after the row is gone. Written in the transaction of the batch
-- that removed the row, appended in rowid order (cheap to write), found by
-- action (`log --entry`) and by row id (`log --id`). Applied with the
-- console's own tables.
--   kind: thread, post, attachment, reaction, flag or moderation_action
--   parent_id: a post's thread, an attachment's, reaction's or flag's
--              post (a thread flag's thread), a moderation action's flag
--   deleted_at: the deletion time the purge went by (NULL for the
--               reactions, flags and actions that went with their rows)
CREATE TABLE modcon_purged (
    action_id  INTEGER NOT NULL REFERENCES modcon_action (id),
    kind       TEXT    NOT NULL,
    row_id     TEXT    NOT NULL,
    parent_id  TEXT,
    image      TEXT,
    deleted_at TEXT
);
CREATE INDEX modcon_purged_action ON modcon_purged (action_id);
CREATE INDEX modcon_purged_row ON modcon_purged (row_id);
