-- Deleted attachments by post and deletion time, so working out a deleted
-- post's or thread's deletion time finds at once whether any attachment
-- below it was deleted after the console's delete (the counts, the lists'
-- states), instead of reading each deleted attachment's row and its
-- records. Applied only by `modcon migrate`, like the purge indexes: it
-- lives in the web app's table.
CREATE INDEX IF NOT EXISTS modcon_deleted_attachment_post
    ON forum_attachment (post_id, deleted_at) WHERE is_active = false;
