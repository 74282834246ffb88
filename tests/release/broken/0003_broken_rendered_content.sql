-- Test double of a Zulip server release, for the zulip.server Ansible
-- collection tests.  NOT Zulip's schema.
-- Shipped ONLY in dist/broken/zulip-server-10.2.tar.gz: this migration
-- FAILS ON PURPOSE, to exercise the collection's automatic rollback.
-- The first statement succeeds; the second raises an SQL error, so the
-- whole transaction (and the column) is rolled back.
ALTER TABLE zerver_message ADD COLUMN rendered_content text NULL;
UPDATE zerver_message_does_not_exist SET rendered_content = content;
