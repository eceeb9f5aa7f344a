-- Where a thread's or post's deletion time came from, before and after each
-- change: 'console' (the console deleted it), 'moderation' (the web app's
-- moderation queue removed it), 'seen' (first seen deleted), NULL (unknown,
-- or an attachment, whose deleted_at column says it all). An undo puts the
-- source back with the time. Applied with the console's own tables.
ALTER TABLE modcon_change ADD COLUMN before_source TEXT;
ALTER TABLE modcon_change ADD COLUMN after_source TEXT;
