-- A database as the code of commit 0c6d3ad, the last to migrate with
-- sqlitemigrate, left it: migrations 1 to 3 and one registered version; dumped
-- with sqlite3 .dump. TestEarlierReleaseDatabase opens it with today's code.
-- Never edit it: a database of a later release is another file.

PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE registry_schema_version (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT;
INSERT INTO registry_schema_version VALUES(1,'0001_registry',1796611097436310741);
INSERT INTO registry_schema_version VALUES(2,'0002_rule_sets',1796611097446161245);
INSERT INTO registry_schema_version VALUES(3,'0003_schema_keys',1796611097453966264);
CREATE TABLE registry_config (
	subject       TEXT    NOT NULL PRIMARY KEY,
	compatibility TEXT    NOT NULL DEFAULT '',
	mode          TEXT    NOT NULL DEFAULT '',
	enforce_new   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE IF NOT EXISTS "registry_schemas" (
	id          INTEGER NOT NULL PRIMARY KEY,
	format      TEXT    NOT NULL,
	text        TEXT    NOT NULL,
	rule_set    TEXT    NOT NULL DEFAULT '',
	metadata    TEXT    NOT NULL DEFAULT '',
	fingerprint TEXT    NOT NULL DEFAULT '',
	guid        TEXT,
	UNIQUE (format, text, rule_set, metadata)
) STRICT;
INSERT INTO registry_schemas VALUES(1,'JSON','{"type":"object","required":["user_id"]}','','','e13b35ae95a8e7d86950e9f77f674818bfa101b75f1c59181057adf48b4e8e08','97af217c-3033-8f80-9915-69c66228afab');
CREATE TABLE registry_versions (
	subject   TEXT    NOT NULL,
	version   INTEGER NOT NULL,
	schema_id INTEGER NOT NULL REFERENCES registry_schemas (id),
	label     TEXT    NOT NULL DEFAULT '',
	state     TEXT    NOT NULL,
	deleted   INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (subject, version)
) STRICT;
INSERT INTO registry_versions VALUES('user_event',1,1,'','registered',0);
CREATE INDEX registry_schemas_fingerprint ON registry_schemas (fingerprint);
CREATE UNIQUE INDEX registry_schemas_guid ON registry_schemas (guid);
CREATE INDEX registry_versions_schema_id ON registry_versions (schema_id);
COMMIT;
