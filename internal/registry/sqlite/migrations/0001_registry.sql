CREATE TABLE registry_schemas (
	id     INTEGER NOT NULL PRIMARY KEY,
	format TEXT    NOT NULL,
	text   TEXT    NOT NULL,
	UNIQUE (format, text)
) STRICT;

CREATE TABLE registry_versions (
	subject   TEXT    NOT NULL,
	version   INTEGER NOT NULL,
	schema_id INTEGER NOT NULL REFERENCES registry_schemas (id),
	label     TEXT    NOT NULL DEFAULT '',
	state     TEXT    NOT NULL,
	deleted   INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (subject, version)
) STRICT;

CREATE INDEX registry_versions_schema_id ON registry_versions (schema_id);

CREATE TABLE registry_config (
	subject       TEXT    NOT NULL PRIMARY KEY,
	compatibility TEXT    NOT NULL DEFAULT '',
	mode          TEXT    NOT NULL DEFAULT '',
	enforce_new   INTEGER NOT NULL DEFAULT 0
) STRICT;
