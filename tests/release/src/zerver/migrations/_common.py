# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Operations the initial migration and its
# 10.x squash share.
from django.db import migrations

# Full-text search configuration.  Needs the database host to provide
# en_us.dict / en_us.affix (hunspell) and zulip_english.stop in PostgreSQL's
# tsearch_data directory, as Zulip's own migrations do.
FTS_SQL = """
CREATE TEXT SEARCH DICTIONARY english_us_hunspell
    (template = ispell, DictFile = en_us, AffFile = en_us, StopWords = zulip_english);
CREATE TEXT SEARCH CONFIGURATION zulip.english_us_search (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION zulip.english_us_search
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part
    WITH english_us_hunspell, english_stem;
-- Load the dictionary files now, so a missing file fails here.
SELECT to_tsvector('zulip.english_us_search', 'testing the dictionaries');
"""


# Messages enter the search index asynchronously, as in Zulip's 0001_initial:
# a trigger queues each new or edited message in fts_update_log and notifies
# the channel fts_update_log; process_fts_updates (puppet/zulip/files/
# postgresql/process_fts_updates, run on the database host) fills
# search_tsvector.  Without it, nothing is ever found by search.
FTS_UPDATE_SQL = """
ALTER TABLE zerver_message ADD COLUMN search_tsvector tsvector;
CREATE INDEX zerver_message_search_tsvector ON zerver_message USING gin (search_tsvector) WITH (fastupdate = OFF);
CREATE TABLE fts_update_log (id SERIAL PRIMARY KEY, message_id INTEGER NOT NULL);
CREATE FUNCTION do_notify_fts_update_log() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN NOTIFY fts_update_log; RETURN NEW; END $$;
CREATE TRIGGER fts_update_log_notify AFTER INSERT ON fts_update_log
  FOR EACH STATEMENT EXECUTE PROCEDURE do_notify_fts_update_log();
CREATE FUNCTION append_to_fts_update_log() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO fts_update_log (message_id) VALUES (NEW.id); RETURN NEW; END $$;
CREATE TRIGGER zerver_message_update_search_tsvector_async
  BEFORE INSERT OR UPDATE OF subject, content ON zerver_message
  FOR EACH ROW EXECUTE PROCEDURE append_to_fts_update_log();
"""


def create_system_bot_realm(apps, schema_editor):
    from django.conf import settings

    Realm = apps.get_model("zerver", "Realm")
    Realm.objects.get_or_create(string_id=settings.SYSTEM_BOT_REALM, defaults={"name": "System bot realm"})


OPERATIONS = [
    migrations.RunSQL("ALTER ROLE CURRENT_USER SET search_path TO zulip,public", migrations.RunSQL.noop),
    migrations.RunSQL(FTS_SQL, migrations.RunSQL.noop),
    migrations.RunSQL(FTS_UPDATE_SQL, migrations.RunSQL.noop),
    migrations.RunPython(create_system_bot_realm, migrations.RunPython.noop),
]
