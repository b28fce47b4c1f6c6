-- A schema's metadata (Confluent's tags, properties, sensitive fields) as
-- JSON, '' when none, part of what makes a schema id as in Confluent: the
-- digest covers it when there is some, so existing rows keep theirs. Its
-- fingerprint (what lookups compare: the schema's normal form, hashed) and
-- its GUID (the wire format's 0x01 id), both indexed so that neither
-- lookup scans. Rows from before are given their fingerprint and GUID by
-- the registry at start (Registry.Migrate): fingerprint '' and guid NULL
-- until then.
ALTER TABLE registry_schemas ADD COLUMN metadata TEXT NOT NULL DEFAULT '';
ALTER TABLE registry_schemas ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
ALTER TABLE registry_schemas ADD COLUMN guid TEXT UNIQUE;
CREATE INDEX registry_schemas_fingerprint ON registry_schemas (fingerprint);
