-- What a purge removed: every row's kind, id, parent, image path and
-- deletion time (never its content), so "what happened to row X" has an
-- answer after the row is gone. Applied with the console's own tables.
CREATE TABLE modcon_purged (
    action_id  bigint NOT NULL REFERENCES modcon_action (id),
    kind       text   NOT NULL,
    row_id     uuid   NOT NULL,
    parent_id  uuid,
    image      text,
    deleted_at timestamptz
);
CREATE INDEX modcon_purged_action ON modcon_purged (action_id);
CREATE INDEX modcon_purged_row ON modcon_purged (row_id);
