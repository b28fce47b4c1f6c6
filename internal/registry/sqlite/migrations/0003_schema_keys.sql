-- A schema's metadata (Confluent's tags, properties, sensitive fields) as
-- JSON, '' when none, part of what makes a schema id as in Confluent: the
-- uniqueness of (format, text, rule_set) becomes that of (format, text,
-- rule_set, metadata). Its fingerprint (what lookups compare: the
-- schema's normal form, hashed) and its GUID (the wire format's 0x01 id),
-- both indexed so that neither lookup scans. Rows from before are given
-- their fingerprint and GUID by the registry at start (Registry.Migrate):
-- fingerprint '' and guid NULL until then.
-- SQLite cannot change a table constraint: both tables are rebuilt, the
-- versions first so that no foreign key points at the schemas meanwhile.
CREATE TABLE registry_versions_0003 AS SELECT * FROM registry_versions;
DROP TABLE registry_versions;

CREATE TABLE registry_schemas_0003 (
	id          INTEGER NOT NULL PRIMARY KEY,
	format      TEXT    NOT NULL,
	text        TEXT    NOT NULL,
	rule_set    TEXT    NOT NULL DEFAULT '',
	metadata    TEXT    NOT NULL DEFAULT '',
	fingerprint TEXT    NOT NULL DEFAULT '',
	guid        TEXT,
	UNIQUE (format, text, rule_set, metadata)
) STRICT;
INSERT INTO registry_schemas_0003 (id, format, text, rule_set) SELECT id, format, text, rule_set FROM registry_schemas;
DROP TABLE registry_schemas;
ALTER TABLE registry_schemas_0003 RENAME TO registry_schemas;
CREATE INDEX registry_schemas_fingerprint ON registry_schemas (fingerprint);
CREATE UNIQUE INDEX registry_schemas_guid ON registry_schemas (guid);

CREATE TABLE registry_versions (
	subject   TEXT    NOT NULL,
	version   INTEGER NOT NULL,
	schema_id INTEGER NOT NULL REFERENCES registry_schemas (id),
	label     TEXT    NOT NULL DEFAULT '',
	state     TEXT    NOT NULL,
	deleted   INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (subject, version)
) STRICT;
INSERT INTO registry_versions SELECT subject, version, schema_id, label, state, deleted FROM registry_versions_0003;
DROP TABLE registry_versions_0003;
CREATE INDEX registry_versions_schema_id ON registry_versions (schema_id);
