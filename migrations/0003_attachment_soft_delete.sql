-- Brings a database from before the web app's attachment soft-delete
-- migration up to it, as that migration did: `is_active` bool NOT NULL with
-- every existing row active, `deleted_at` datetime NULL, and the index on
-- `is_active` under Django's name. Applied only by `modcon migrate`, and only
-- when the columns are missing (otherwise recorded as satisfied).
-- ADD COLUMN keeps every row in place; the DEFAULT it needs for existing
-- rows is harmless to the web app, which always writes the column itself.
ALTER TABLE "forum_attachment" ADD COLUMN "deleted_at" datetime NULL;
ALTER TABLE "forum_attachment" ADD COLUMN "is_active" bool NOT NULL DEFAULT 1;
CREATE INDEX "forum_attachment_is_active_4bfc911a" ON "forum_attachment" ("is_active");
