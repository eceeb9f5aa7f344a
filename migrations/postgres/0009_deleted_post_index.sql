-- Deleted posts with the columns their deletion time is worked out from,
-- for the counts. Applied only by `modcon migrate`, like the purge indexes.
CREATE INDEX IF NOT EXISTS modcon_deleted_post_time
    ON forum_post (is_active, id, updated_at) WHERE is_active = false;
