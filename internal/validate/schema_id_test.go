package validate_test

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/validate"
)

// lookups is oneVersion counting the ids it was asked for.
type lookups struct {
	oneVersion
	ids []int
}

func (l *lookups) ResolveID(ctx context.Context, topic string, id int) (*schema.Version, error) {
	l.ids = append(l.ids, id)
	return l.oneVersion.ResolveID(ctx, topic, id)
}

// TestEngineSchemaIDRange: the 4 id bytes of a wire header are shown as
// sent, unsigned; an id no registry assigns (0, or past 2^31-1) is
// SCHEMA_NOT_FOUND saying so, without a registry lookup.
func TestEngineSchemaIDRange(t *testing.T) {
	t.Parallel()
	sv := &schema.Version{Subject: "s", Version: 1, Format: schema.FormatAvro, Validator: indexed{}}
	for _, tc := range []struct {
		id     uint32
		lookup bool
		want   string
	}{
		{0xFFFFFFFF, false, "schema id 4294967295 is outside the ids a schema registry assigns (1 to 2147483647): no schema has it"},
		{0x80000000, false, "schema id 2147483648 is outside the ids a schema registry assigns (1 to 2147483647): no schema has it"},
		{0, false, "schema id 0 is outside the ids a schema registry assigns (1 to 2147483647): no schema has it"},
		{0x7FFFFFFF, true, ""},
		{1, true, ""},
	} {
		ids := &lookups{oneVersion: oneVersion{sv}}
		e, err := validate.New(validate.Options{Resolver: ids, IDs: ids})
		require.NoError(t, err)
		value := binary.BigEndian.AppendUint32([]byte{0}, tc.id)
		var v record.Verdict
		require.NoError(t, e.Validate(&record.Record{Topic: "t", Value: append(value, 'p')}, &v))
		if !tc.lookup {
			require.Empty(t, ids.ids, "no lookup for id %d", tc.id)
			require.Equal(t, []record.Violation{{Type: record.SchemaNotFound, Keyword: "schema_id", Message: tc.want}}, v.Violations)
			continue
		}
		require.Equal(t, []int{int(tc.id)}, ids.ids)
		require.Equal(t, record.SchemaViolation, v.Violations[0].Type, "checked against the version it names")
	}
}
