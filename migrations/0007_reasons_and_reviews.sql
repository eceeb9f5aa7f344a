-- Why each action was taken and which operating-system account ran it,
-- and the rows of the web app's other tables that a review changes.
-- Applied with the console's own tables. Read paths work without it
-- (`--read-only` on an older database reads these as empty).

-- The reason the moderator gave (NULL when none), and the account of the
-- process's user id (an `--actor` name is a claim; this is who ran it).
ALTER TABLE modcon_action ADD COLUMN reason TEXT;
ALTER TABLE modcon_action ADD COLUMN os_account TEXT;

-- Rows an action changed in tables other than threads, posts and
-- attachments (a review: the flag, the moderation action it wrote, the
-- thread it locked). before/after are JSON objects of the columns the
-- action changed; before NULL: the action inserted the row. Undo puts
-- `before` back while the row still holds `after`.
CREATE TABLE modcon_column_change (
    action_id  INTEGER NOT NULL REFERENCES modcon_action (id),
    table_name TEXT    NOT NULL,
    row_id     TEXT    NOT NULL,
    before     TEXT,
    after      TEXT,
    PRIMARY KEY (action_id, table_name, row_id)
) WITHOUT ROWID;
