package config

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDefaultValidates(t *testing.T) {
	t.Parallel()
	c := Default()
	require.NoError(t, c.Validate())
	require.Empty(t, c.Kafka.Brokers, "the default runs the embedded broker")
}

func TestDefaultSharesNothing(t *testing.T) {
	t.Parallel()
	a := Default()
	a.Topics.Inputs[0].Topic = "changed"
	a.Schemas[0].Subject = "changed"
	b := Default()
	require.Equal(t, "raw-events", b.Topics.Inputs[0].Topic)
	require.Equal(t, "user_event", b.Schemas[0].Subject)
}

// TestDefaultSchema: the embedded schema is the design notes' user_event
// schema, whatever its formatting.
func TestDefaultSchema(t *testing.T) {
	t.Parallel()
	const want = `{"$schema":"https://json-schema.org/draft/2020-12/schema","$id":"urn:dataquarantine:user_event","title":"user_event","type":"object","properties":{"user_id":{"type":"string","pattern":"^USER[0-9]{6}$"},"event_type":{"type":"string","enum":["view","click","purchase"]},"timestamp":{"type":"string","format":"date-time"}},"required":["user_id","event_type","timestamp"]}`
	c := Default()
	require.Len(t, c.Schemas, 1)
	s := c.Schemas[0]
	require.Equal(t, Schema{Subject: "user_event", Type: "JSON", Version: 1, Schema: s.Schema}, s)
	src, err := c.SchemaSource(0)
	require.NoError(t, err)
	var compact bytes.Buffer
	require.NoError(t, json.Compact(&compact, src))
	require.JSONEq(t, want, compact.String())
}

func TestEffectiveStorageURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                  string
		dataDir, meta, blobs  string
		wantMeta, wantBlobs   string
		wantMetaPath, wantDir string
	}{
		{
			name: "default data dir", dataDir: "./data",
			wantMeta: "sqlite://data/dq.db", wantBlobs: "file://data/payloads",
			wantMetaPath: "data/dq.db", wantDir: "data/payloads",
		},
		{
			name: "absolute data dir", dataDir: "/var/lib/dq/",
			wantMeta: "sqlite:///var/lib/dq/dq.db", wantBlobs: "file:///var/lib/dq/payloads",
			wantMetaPath: "/var/lib/dq/dq.db", wantDir: "/var/lib/dq/payloads",
		},
		{
			name: "configured URLs win", dataDir: "./data",
			meta: "sqlite:///srv/meta.db", blobs: "file://blobs",
			wantMeta: "sqlite:///srv/meta.db", wantBlobs: "file://blobs",
			wantMetaPath: "/srv/meta.db", wantDir: "blobs",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			c.DataDir = tt.dataDir
			c.Storage.Metadata.URL = tt.meta
			c.Storage.Payloads.URL = tt.blobs
			require.Equal(t, tt.wantMeta, c.MetadataURL())
			require.Equal(t, tt.wantBlobs, c.PayloadsURL())

			meta, err := ParseMetadataURL(c.MetadataURL())
			require.NoError(t, err)
			require.Equal(t, StoreURL{Scheme: SchemeSQLite, Path: tt.wantMetaPath}, meta)
			blobs, err := ParsePayloadsURL(c.PayloadsURL())
			require.NoError(t, err)
			require.Equal(t, StoreURL{Scheme: SchemeFile, Path: tt.wantDir}, blobs)
		})
	}
}

func TestParseStorageURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		parse      func(string) (StoreURL, error)
		url        string
		wantScheme string
		wantPath   string
		wantErr    string
	}{
		{"sqlite absolute", ParseMetadataURL, "sqlite:///abs/dq.db", "sqlite", "/abs/dq.db", ""},
		{"sqlite relative", ParseMetadataURL, "sqlite://rel/dq.db", "sqlite", "rel/dq.db", ""},
		{"scheme case", ParseMetadataURL, "SQLite://dq.db", "sqlite", "dq.db", ""},
		{"postgres", ParseMetadataURL, "postgres://u:secret@h:5432/db?sslmode=disable", "postgres", "u:secret@h:5432/db?sslmode=disable", ""},
		{"postgresql", ParseMetadataURL, "postgresql://h/db", "postgresql", "h/db", ""},
		{"postgres no path", ParseMetadataURL, "postgres://", "", "", "missing path after postgres://"},
		{"mysql", ParseMetadataURL, "mysql://u:secret@h/db", "", "", `unsupported scheme "mysql" (want sqlite://PATH or postgres://HOST/DB)`},
		{"no scheme", ParseMetadataURL, "/abs/dq.db", "", "", "missing scheme (want sqlite://PATH or postgres://HOST/DB)"},
		{"no path", ParseMetadataURL, "sqlite://", "", "", "missing path after sqlite://"},
		{"file absolute", ParsePayloadsURL, "file:///abs/payloads", "file", "/abs/payloads", ""},
		{"file relative", ParsePayloadsURL, "file://payloads", "file", "payloads", ""},
		{"s3", ParsePayloadsURL, "s3://dq-payloads?endpoint=minio:9000&secure=false", "s3", "dq-payloads?endpoint=minio:9000&secure=false", ""},
		{"s3 path", ParsePayloadsURL, "s3://bucket/prefix", "", "", "s3://BUCKET takes no path after the bucket name"},
		{"http", ParsePayloadsURL, "http://host/x", "", "", `unsupported scheme "http" (want file://PATH or s3://BUCKET)`},
		{"empty scheme", ParsePayloadsURL, "://x", "", "", "missing scheme (want file://PATH or s3://BUCKET)"},
		{"generic: any scheme", ParseStoreURL, "Postgres://u:secret@h/db", "postgres", "u:secret@h/db", ""},
		{"generic: no scheme", ParseStoreURL, "dq.db", "", "", "missing scheme (want SCHEME://PATH)"},
		{"generic: no path", ParseStoreURL, "s3://", "", "", "missing path after s3://"},
		{"generic: credential-like scheme", ParseStoreURL, "user:secret@host://x", "", "", "invalid scheme (want SCHEME://PATH, a scheme being a letter and then letters, digits, '+', '-' or '.')"},
		{"scheme with digits and plus", ParseStoreURL, "s3+v2.x://b", "s3+v2.x", "b", ""},
		{"scheme starting with a digit", ParseMetadataURL, "3s://b", "", "", "invalid scheme (want SCHEME://PATH, a scheme being a letter and then letters, digits, '+', '-' or '.')"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.parse(tt.url)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				require.NotContains(t, err.Error(), "secret", "errors never repeat a URL")
				return
			}
			require.NoError(t, err)
			require.Equal(t, StoreURL{Scheme: tt.wantScheme, Path: tt.wantPath}, got)
		})
	}
}

func TestSchemaSource(t *testing.T) {
	t.Parallel()
	order, err := os.ReadFile(filepath.Join("testdata", "schemas", "order.schema.json"))
	require.NoError(t, err)
	abs, err := filepath.Abs(filepath.Join("testdata", "schemas", "order.schema.json"))
	require.NoError(t, err)

	tests := []struct {
		name    string
		dir     string // the config file's directory
		schema  Schema
		want    []byte
		wantErr string
	}{
		{name: "inline", schema: Schema{Schema: `{"type":"object"}`}, want: []byte(`{"type":"object"}`)},
		{name: "file relative to the config dir", dir: "testdata", schema: Schema{File: "schemas/order.schema.json"}, want: order},
		{name: "file relative to the working dir without a config file", schema: Schema{File: "testdata/schemas/order.schema.json"}, want: order},
		{name: "absolute file ignores the config dir", dir: "elsewhere", schema: Schema{File: abs}, want: order},
		{
			name: "missing file", dir: "testdata", schema: Schema{File: "schemas/missing.json"},
			wantErr: "reading schema file: stat testdata/schemas/missing.json: no such file or directory",
		},
		{
			name: "directory", dir: "testdata", schema: Schema{File: "schemas"},
			wantErr: "reading schema file: testdata/schemas is not a regular file",
		},
		{name: "both", schema: Schema{File: "x.json", Schema: "{}"}, wantErr: "both file and schema are set"},
		{name: "neither", schema: Schema{}, wantErr: "neither file nor schema is set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			c.dir = tt.dir
			c.Schemas = []Schema{tt.schema}
			got, err := c.SchemaSource(0)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestSchemaSourceOutOfRange(t *testing.T) {
	t.Parallel()
	c := Default()
	_, err := c.SchemaSource(1)
	require.EqualError(t, err, "schema index 1 out of range (1 schemas configured)")
	_, err = c.SchemaSource(-1)
	require.Error(t, err)
}

func TestSchemaFileTooLarge(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "huge.json")
	require.NoError(t, os.WriteFile(path, make([]byte, maxSchemaFileBytes+1), 0o644))
	c := Default()
	c.Schemas = []Schema{{Subject: "user_event", Type: "JSON", Version: 1, File: path}}
	_, err := c.SchemaSource(0)
	require.EqualError(t, err, "reading schema file: "+path+" is larger than 16777216 bytes")
	require.ErrorContains(t, c.Validate(), "is larger than 16777216 bytes")
}

// TestLoadedSchemaFileResolvesAgainstConfigDir: a config file and its schemas
// move together, wherever the process runs.
func TestLoadedSchemaFileResolvesAgainstConfigDir(t *testing.T) {
	t.Parallel()
	c, err := Load(filepath.Join("testdata", "full.good.yaml"), nil)
	require.NoError(t, err)
	got, err := c.SchemaSource(1)
	require.NoError(t, err)
	want, err := os.ReadFile(filepath.Join("testdata", "schemas", "order.schema.json"))
	require.NoError(t, err)
	require.Equal(t, want, got)
}
