-- A schema's data-contract rules (Confluent's ruleSet) as JSON, '' when
-- none. The id names text and rules together, as in Confluent, so the
-- uniqueness of (format, text) becomes that of (format, text, rule_set).
-- SQLite cannot drop a table constraint: both tables are rebuilt, the
-- versions first so that no foreign key points at the schemas meanwhile.
CREATE TABLE registry_versions_0002 AS SELECT * FROM registry_versions;
DROP TABLE registry_versions;

CREATE TABLE registry_schemas_0002 (
	id       INTEGER NOT NULL PRIMARY KEY,
	format   TEXT    NOT NULL,
	text     TEXT    NOT NULL,
	rule_set TEXT    NOT NULL DEFAULT '',
	UNIQUE (format, text, rule_set)
) STRICT;
INSERT INTO registry_schemas_0002 (id, format, text) SELECT id, format, text FROM registry_schemas;
DROP TABLE registry_schemas;
ALTER TABLE registry_schemas_0002 RENAME TO registry_schemas;

CREATE TABLE registry_versions (
	subject   TEXT    NOT NULL,
	version   INTEGER NOT NULL,
	schema_id INTEGER NOT NULL REFERENCES registry_schemas (id),
	label     TEXT    NOT NULL DEFAULT '',
	state     TEXT    NOT NULL,
	deleted   INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (subject, version)
) STRICT;
INSERT INTO registry_versions SELECT subject, version, schema_id, label, state, deleted FROM registry_versions_0002;
DROP TABLE registry_versions_0002;
CREATE INDEX registry_versions_schema_id ON registry_versions (schema_id);
