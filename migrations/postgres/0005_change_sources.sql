-- Where a thread's or post's deletion time came from, before and after each
-- change ('console', 'moderation', 'seen', NULL), so an undo puts it back.
-- Applied with the console's own tables.
ALTER TABLE modcon_change ADD COLUMN before_source text;
ALTER TABLE modcon_change ADD COLUMN after_source text;
