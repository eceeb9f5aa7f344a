-- Without the foreign keys from modcon_purged.action_id and
-- modcon_file_journal.action_id to modcon_action. The server checked each
-- row a purge batch records and journals with a lookup and a row lock on
-- its action: about half of the batch's one write statement (10 of 20 ms
-- for 1000 attachments). Nothing is lost: these tables are written by the
-- console alone, always in the same transaction that writes their action
-- row first (the purge's audit entry is made by its first batch), and the
-- console never deletes an action. Applied with the console's own tables.
ALTER TABLE modcon_purged DROP CONSTRAINT IF EXISTS modcon_purged_action_id_fkey;
ALTER TABLE modcon_file_journal DROP CONSTRAINT IF EXISTS modcon_file_journal_action_id_fkey;
