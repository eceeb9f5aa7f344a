-- Deleted attachments with their deletion times, so the counts (purgeable,
-- held back, unknown age) read index entries instead of every deleted
-- attachment's row. `is_active` leads so that SQLite prefers it to the web
-- app's own `is_active` index for `is_active = 0`. Applied only by
-- `modcon migrate`, like the purge indexes: it lives in the web app's table.
CREATE INDEX IF NOT EXISTS modcon_deleted_attachment_time
    ON forum_attachment (is_active, deleted_at) WHERE is_active = 0;
