-- A database as the code of commit 0c6d3ad, the last to migrate with its own
-- runner, left it: migrations 1 to 3 and one registered version; dumped with
-- pg_dump --inserts. TestEarlierReleaseDatabase opens it with today's code.
-- Never edit it: a database of a later release is another file.

--
-- PostgreSQL database dump
--

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

--
-- Name: registry_config; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE registry_config (
    subject text NOT NULL,
    compatibility text DEFAULT ''::text NOT NULL,
    mode text DEFAULT ''::text NOT NULL,
    enforce_new boolean DEFAULT false NOT NULL
);

--
-- Name: registry_schema_version; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE registry_schema_version (
    version integer NOT NULL,
    name text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: registry_schemas; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE registry_schemas (
    id bigint NOT NULL,
    format text NOT NULL,
    text text NOT NULL,
    digest bytea NOT NULL,
    rule_set text DEFAULT ''::text NOT NULL,
    metadata text DEFAULT ''::text NOT NULL,
    fingerprint text DEFAULT ''::text NOT NULL,
    guid text
);

--
-- Name: registry_versions; Type: TABLE; Schema: -; Owner: -
--

CREATE TABLE registry_versions (
    subject text NOT NULL,
    version integer NOT NULL,
    schema_id bigint NOT NULL,
    label text DEFAULT ''::text NOT NULL,
    state text NOT NULL,
    deleted boolean DEFAULT false NOT NULL
);

--
-- Data for Name: registry_config; Type: TABLE DATA; Schema: -; Owner: -
--

--
-- Data for Name: registry_schema_version; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO registry_schema_version VALUES (1, '0001_registry', '2026-12-07 02:38:19.585923+00');
INSERT INTO registry_schema_version VALUES (2, '0002_rule_sets', '2026-12-07 02:38:19.585923+00');
INSERT INTO registry_schema_version VALUES (3, '0003_schema_keys', '2026-12-07 02:38:19.585923+00');

--
-- Data for Name: registry_schemas; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO registry_schemas VALUES (1, 'JSON', '{"type":"object","required":["user_id"]}', '\x97af217c3033af80591569c66228afabd6141ea72e12db09f6ffb34b202b5fb1', '', '', 'e13b35ae95a8e7d86950e9f77f674818bfa101b75f1c59181057adf48b4e8e08', '97af217c-3033-8f80-9915-69c66228afab');

--
-- Data for Name: registry_versions; Type: TABLE DATA; Schema: -; Owner: -
--

INSERT INTO registry_versions VALUES ('user_event', 1, 1, '', 'registered', false);

--
-- Name: registry_config registry_config_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY registry_config
    ADD CONSTRAINT registry_config_pkey PRIMARY KEY (subject);

--
-- Name: registry_schema_version registry_schema_version_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY registry_schema_version
    ADD CONSTRAINT registry_schema_version_pkey PRIMARY KEY (version);

--
-- Name: registry_schemas registry_schemas_digest_key; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY registry_schemas
    ADD CONSTRAINT registry_schemas_digest_key UNIQUE (digest);

--
-- Name: registry_schemas registry_schemas_guid_key; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY registry_schemas
    ADD CONSTRAINT registry_schemas_guid_key UNIQUE (guid);

--
-- Name: registry_schemas registry_schemas_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY registry_schemas
    ADD CONSTRAINT registry_schemas_pkey PRIMARY KEY (id);

--
-- Name: registry_versions registry_versions_pkey; Type: CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY registry_versions
    ADD CONSTRAINT registry_versions_pkey PRIMARY KEY (subject, version);

--
-- Name: registry_schemas_fingerprint; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX registry_schemas_fingerprint ON registry_schemas USING btree (fingerprint);

--
-- Name: registry_versions_schema_id; Type: INDEX; Schema: -; Owner: -
--

CREATE INDEX registry_versions_schema_id ON registry_versions USING btree (schema_id);

--
-- Name: registry_versions registry_versions_schema_id_fkey; Type: FK CONSTRAINT; Schema: -; Owner: -
--

ALTER TABLE ONLY registry_versions
    ADD CONSTRAINT registry_versions_schema_id_fkey FOREIGN KEY (schema_id) REFERENCES registry_schemas(id);

--
-- PostgreSQL database dump complete
--
