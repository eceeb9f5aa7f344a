-- Why each action was taken and which operating-system account ran it,
-- and the rows of the web app's other tables that a review changes.
-- Applied with the console's own tables.
ALTER TABLE modcon_action ADD COLUMN reason text;
ALTER TABLE modcon_action ADD COLUMN os_account text;

-- Rows an action changed in tables other than threads, posts and
-- attachments (a review: the flag, the moderation action it wrote, the
-- thread it locked). before/after are JSON objects of the columns the
-- action changed; before NULL: the action inserted the row.
CREATE TABLE modcon_column_change (
    action_id  bigint NOT NULL REFERENCES modcon_action (id),
    table_name text   NOT NULL,
    row_id     uuid   NOT NULL,
    before     text,
    after      text,
    PRIMARY KEY (action_id, table_name, row_id)
);
