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


def create_system_bot_realm(apps, schema_editor):
    from django.conf import settings

    Realm = apps.get_model("zerver", "Realm")
    Realm.objects.get_or_create(string_id=settings.SYSTEM_BOT_REALM, defaults={"name": "System bot realm"})


OPERATIONS = [
    migrations.RunSQL("ALTER ROLE CURRENT_USER SET search_path TO zulip,public", migrations.RunSQL.noop),
    migrations.RunSQL(FTS_SQL, migrations.RunSQL.noop),
    migrations.RunPython(create_system_bot_realm, migrations.RunPython.noop),
]
