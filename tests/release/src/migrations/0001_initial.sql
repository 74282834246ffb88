-- Test double of a Zulip server release, for the zulip.server Ansible
-- collection tests.  NOT Zulip's schema: a small stand-in.
-- Applied by `manage.py migrate` inside one transaction.

CREATE TABLE zerver_realm (
    id serial PRIMARY KEY,
    string_id varchar(40) NOT NULL UNIQUE,
    name varchar(40) NOT NULL,
    date_created timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE zerver_userprofile (
    id serial PRIMARY KEY,
    realm_id integer NOT NULL REFERENCES zerver_realm (id),
    email varchar(254) NOT NULL,
    full_name varchar(100) NOT NULL,
    password varchar(128) NOT NULL,
    api_key varchar(32) NOT NULL UNIQUE,
    is_bot boolean NOT NULL DEFAULT false,
    bot_type smallint NULL,
    role smallint NOT NULL DEFAULT 400,
    is_active boolean NOT NULL DEFAULT true,
    date_joined timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX zerver_userprofile_realm_email ON zerver_userprofile (realm_id, lower(email));

CREATE TABLE zerver_stream (
    id serial PRIMARY KEY,
    realm_id integer NOT NULL REFERENCES zerver_realm (id),
    name varchar(60) NOT NULL
);
CREATE UNIQUE INDEX zerver_stream_realm_name ON zerver_stream (realm_id, lower(name));

CREATE TABLE zerver_message (
    id bigserial PRIMARY KEY,
    realm_id integer NOT NULL REFERENCES zerver_realm (id),
    sender_id integer NOT NULL REFERENCES zerver_userprofile (id),
    stream_id integer NULL REFERENCES zerver_stream (id),
    direct_recipients text NULL,
    subject varchar(60) NOT NULL DEFAULT '',
    content text NOT NULL,
    date_sent timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE zerver_useractivity (
    id serial PRIMARY KEY,
    user_profile_id integer NOT NULL REFERENCES zerver_userprofile (id),
    query varchar(50) NOT NULL,
    count integer NOT NULL,
    last_visit timestamptz NOT NULL,
    UNIQUE (user_profile_id, query)
);

CREATE TABLE zerver_realmcreationkey (
    id serial PRIMARY KEY,
    creation_key varchar(40) NOT NULL UNIQUE,
    date_created timestamptz NOT NULL DEFAULT now()
);

-- Full-text search configuration.  This needs the database host to provide
-- en_us.dict / en_us.affix (hunspell) and zulip_english.stop in PostgreSQL's
-- tsearch_data directory, as Zulip's own migrations do.
-- (The `zulip` schema is created by manage.py migrate before any migration
-- runs, if the database host did not create it.)
CREATE TEXT SEARCH DICTIONARY english_us_hunspell
    (template = ispell, DictFile = en_us, AffFile = en_us, StopWords = zulip_english);
CREATE TEXT SEARCH CONFIGURATION zulip.english_us_search (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION zulip.english_us_search
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part
    WITH english_us_hunspell, english_stem;
-- Force the dictionary files to be loaded now, so a missing file fails here.
SELECT to_tsvector('zulip.english_us_search', 'testing the dictionaries');
