-- Brings a database from before the web app's attachment soft-delete
-- migration up to it, as that migration did on PostgreSQL. Applied only by
-- `modcon migrate`, and only when the columns are missing.
ALTER TABLE forum_attachment ADD COLUMN deleted_at timestamptz NULL;
ALTER TABLE forum_attachment ADD COLUMN is_active boolean NOT NULL DEFAULT true;
CREATE INDEX forum_attachment_is_active_4bfc911a ON forum_attachment (is_active);
