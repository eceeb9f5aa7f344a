-- Deleted attachments with their deletion times, for the counts. Applied
-- only by `modcon migrate`, like the purge indexes.
CREATE INDEX IF NOT EXISTS modcon_deleted_attachment_time
    ON forum_attachment (is_active, deleted_at) WHERE is_active = false;
