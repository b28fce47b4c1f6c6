CREATE TABLE registry_schemas (
	id     BIGINT NOT NULL PRIMARY KEY,
	format TEXT   NOT NULL,
	text   TEXT   NOT NULL,
	-- sha256 of format, NUL, text: a unique btree over the text itself
	-- would fail for schemas over ~2.7 kB.
	digest BYTEA  NOT NULL UNIQUE
);

CREATE TABLE registry_versions (
	subject   TEXT    NOT NULL,
	version   INTEGER NOT NULL,
	schema_id BIGINT  NOT NULL REFERENCES registry_schemas (id),
	label     TEXT    NOT NULL DEFAULT '',
	state     TEXT    NOT NULL,
	deleted   BOOLEAN NOT NULL DEFAULT false,
	PRIMARY KEY (subject, version)
);

CREATE INDEX registry_versions_schema_id ON registry_versions (schema_id);

CREATE TABLE registry_config (
	subject       TEXT    NOT NULL PRIMARY KEY,
	compatibility TEXT    NOT NULL DEFAULT '',
	mode          TEXT    NOT NULL DEFAULT '',
	enforce_new   BOOLEAN NOT NULL DEFAULT false
);
