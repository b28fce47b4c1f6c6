package registry_test

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/protobuf"
)

// Schemas are one schema when their normal forms are, as in Confluent: an
// Avro schema with its keys in another order, or its names qualified
// another way, is found by lookup and registers no new version; the same
// holds for a JSON Schema's keys.
func TestIdentityByNormalForm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	const avroOrdered = `{"type":"record","name":"User","namespace":"com.ex","fields":[{"name":"id","type":"long"},{"name":"email","type":"string","default":""}]}`
	const avroShuffled = `{"fields":[{"type":"long","name":"id"},{"default":"","type":"string","name":"email"}],"name":"com.ex.User","type":"record"}`
	const jsonOrdered = `{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}`
	const jsonShuffled = `{"required":["a"],"properties":{"a":{"type":"string"}},"type":"object"}`
	for _, tc := range []struct {
		format         schema.Format
		first, another string
	}{{schema.FormatAvro, avroOrdered, avroShuffled}, {schema.FormatJSON, jsonOrdered, jsonShuffled}} {
		subject := string(tc.format)
		v1 := reg(t, r, subject, tc.format, tc.first)
		found, err := r.Lookup(ctx, registry.LookupRequest{Subject: subject, Format: tc.format, Schema: tc.another})
		require.NoError(t, err, "%s in another key order is found", tc.format)
		require.Equal(t, v1.Version, found.Version)
		require.Equal(t, tc.first, found.Text, "the stored text is the first registered")
		again := reg(t, r, subject, tc.format, tc.another)
		require.Equal(t, v1.Version, again.Version, "%s in another key order registers no new version", tc.format)
		// Under another subject it shares the schema id.
		other := reg(t, r, subject+"-other", tc.format, tc.another)
		require.Equal(t, v1.SchemaID, other.SchemaID)
		require.Equal(t, v1.GUID, other.GUID)
	}
}

// normalize=true stores the normal form instead of the text, as Confluent
// does; either way lookups compare normal forms.
func TestNormalize(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	const shuffled = `{"fields":[{"type":"long","name":"id"}],"name":"User","namespace":"com.ex","type":"record"}`
	got, err := r.Register(ctx, registry.RegisterRequest{Subject: "s", Format: schema.FormatAvro, Schema: shuffled, Normalize: true})
	require.NoError(t, err)
	require.Equal(t, `{"name":"com.ex.User","type":"record","fields":[{"name":"id","type":"long"}]}`, got.Text)
	normal, err := registry.Normal(schema.FormatAvro, shuffled)
	require.NoError(t, err)
	require.Equal(t, got.Text, normal)
	found, err := r.Lookup(ctx, registry.LookupRequest{Subject: "s", Format: schema.FormatAvro, Schema: shuffled})
	require.NoError(t, err)
	require.Equal(t, got.SchemaID, found.SchemaID)
}

// A Protobuf schema registered as .proto text and looked up or registered
// as a base64 FileDescriptorProto (what Confluent's serializers send), or
// the other way round, is one schema.
func TestProtobufSourceForms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	const text = `syntax = "proto3";
package shop;

// An order.
message Order {
  string id = 1; // its id
  int64 cents = 2;
}`
	ser, err := protobuf.Serialized(text)
	require.NoError(t, err)
	b64 := base64.StdEncoding.EncodeToString(ser)

	v1 := reg(t, r, "orders", schema.FormatProtobuf, text)
	require.Equal(t, text, v1.Text, ".proto text is stored as given, comments and all")
	found, err := r.Lookup(ctx, registry.LookupRequest{Subject: "orders", Format: schema.FormatProtobuf, Schema: b64})
	require.NoError(t, err)
	require.Equal(t, v1.Version, found.Version)
	again := reg(t, r, "orders", schema.FormatProtobuf, b64)
	require.Equal(t, v1.Version, again.Version)

	// Registered first as a descriptor: stored as printed .proto.
	w1 := reg(t, r, "orders2", schema.FormatProtobuf, b64)
	require.Equal(t, v1.SchemaID, w1.SchemaID, "the descriptor is the schema of id %d", v1.SchemaID)
	b64Other := base64.StdEncoding.EncodeToString(mustSerialized(t, `syntax = "proto3"; package shop; message Order { string id = 1; }`))
	w2, err := r.Register(ctx, registry.RegisterRequest{Subject: "fresh", Format: schema.FormatProtobuf, Schema: b64Other})
	require.NoError(t, err)
	require.Contains(t, w2.Text, "message Order {")
	require.Contains(t, w2.Text, "string id = 1;")

	_, err = r.Lookup(ctx, registry.LookupRequest{Subject: "orders", Format: schema.FormatProtobuf, Schema: b64Other})
	require.ErrorIs(t, err, registry.ErrSchemaNotFound, "an unknown descriptor is not found (40403), not invalid")
	_, err = r.Lookup(ctx, registry.LookupRequest{Subject: "orders", Format: schema.FormatProtobuf, Schema: "bm90IGEgZGVzY3JpcHRvcg=="})
	require.ErrorIs(t, err, registry.ErrInvalidSchema)
}

func mustSerialized(t *testing.T, text string) []byte {
	t.Helper()
	b, err := protobuf.Serialized(text)
	require.NoError(t, err)
	return b
}

// Metadata is stored, returned and part of the schema id, as in Confluent;
// a registration without metadata or rules inherits the latest version's.
func TestMetadata(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	md := &registry.Metadata{
		Properties: map[string]string{"owner": "team-a", "pii": "false"},
		Tags:       map[string][]string{"email": {"PII", "GDPR", "PII"}},
		Sensitive:  []string{"email", "email"},
	}
	v1 := reg(t, r, "s", schema.FormatJSON, jsonA)
	v2, err := r.Register(ctx, registry.RegisterRequest{Subject: "s", Format: schema.FormatJSON, Schema: jsonA, Metadata: md})
	require.NoError(t, err)
	require.Equal(t, 2, v2.Version.Version, "the same schema with metadata is a new version")
	require.NotEqual(t, v1.SchemaID, v2.SchemaID)
	require.NotEqual(t, v1.GUID, v2.GUID)
	back, err := registry.ParseMetadata(v2.Metadata)
	require.NoError(t, err)
	require.Equal(t, &registry.Metadata{
		Properties: map[string]string{"owner": "team-a", "pii": "false"},
		Tags:       map[string][]string{"email": {"GDPR", "PII"}},
		Sensitive:  []string{"email"},
	}, back)

	// jsonB without metadata inherits v2's.
	v3 := reg(t, r, "s", schema.FormatJSON, jsonB)
	require.Equal(t, v2.Metadata, v3.Metadata)
	// An empty Metadata is none.
	v4, err := r.Register(ctx, registry.RegisterRequest{Subject: "s", Format: schema.FormatJSON, Schema: jsonB, Metadata: &registry.Metadata{}})
	require.NoError(t, err)
	require.Empty(t, v4.Metadata)
	require.Equal(t, 4, v4.Version.Version)

	got, err := r.LatestWithMetadata(ctx, "s", map[string]string{"owner": "team-a"}, false)
	require.NoError(t, err)
	require.Equal(t, 3, got.Version.Version)
	_, err = r.LatestWithMetadata(ctx, "s", map[string]string{"owner": "team-b"}, false)
	require.ErrorIs(t, err, registry.ErrVersionNotFound)
	_, err = r.LatestWithMetadata(ctx, "none", nil, false)
	require.True(t, errors.Is(err, registry.ErrSubjectNotFound))

	// A lookup naming metadata finds the version with it.
	l, err := r.Lookup(ctx, registry.LookupRequest{Subject: "s", Format: schema.FormatJSON, Schema: jsonA, Metadata: md})
	require.NoError(t, err)
	require.Equal(t, 2, l.Version.Version)
	l, err = r.Lookup(ctx, registry.LookupRequest{Subject: "s", Format: schema.FormatJSON, Schema: jsonA, Metadata: &registry.Metadata{}})
	require.NoError(t, err)
	require.Equal(t, 1, l.Version.Version)
}
