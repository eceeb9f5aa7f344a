-- Partial indexes over deleted rows, so a purge finds its candidates without
-- scanning the active majority. Applied only by `modcon migrate`: they live
-- in the web app's tables, so the console never adds them uninvited.
CREATE INDEX IF NOT EXISTS modcon_purge_thread ON forum_thread (id) WHERE is_active = false;
CREATE INDEX IF NOT EXISTS modcon_purge_post ON forum_post (id) WHERE is_active = false;
CREATE INDEX IF NOT EXISTS modcon_purge_attachment ON forum_attachment (id) WHERE is_active = false;
-- Whether a purged attachment's file name is still used by another row.
CREATE INDEX IF NOT EXISTS modcon_purge_attachment_image ON forum_attachment (image);
