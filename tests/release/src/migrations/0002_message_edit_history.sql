-- Test double of a Zulip server release, for the zulip.server Ansible
-- collection tests.  NOT Zulip's schema.
-- New in 10.0: a real schema change that 10.x code relies on.
ALTER TABLE zerver_message ADD COLUMN edit_history text NULL;
CREATE INDEX zerver_message_realm_stream_subject ON zerver_message (realm_id, stream_id, lower(subject));
