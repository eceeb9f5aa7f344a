-- Deleted posts with the columns their deletion time is worked out from,
-- so the counts never read a post's row: its text comes before
-- `updated_at` and may run over many pages. `is_active` leads so that
-- SQLite prefers it for `is_active = 0`. Applied only by `modcon migrate`,
-- like the purge indexes: it lives in the web app's table.
CREATE INDEX IF NOT EXISTS modcon_deleted_post_time
    ON forum_post (is_active, id, updated_at) WHERE is_active = 0;
