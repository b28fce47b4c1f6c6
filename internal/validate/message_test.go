package validate_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/validate"
)

// indexed is a schema.MessageChecker that reports what it was given.
type indexed struct{}

func (indexed) Check(payload []byte, dst []record.Violation) (any, []record.Violation) {
	return nil, append(dst, record.Violation{Type: record.SchemaViolation, Keyword: "check", Message: string(payload)})
}

func (indexed) CheckMessage(idx []int, payload []byte, dst []record.Violation) (any, []record.Violation) {
	return nil, append(dst, record.Violation{Type: record.SchemaViolation, Keyword: "message", Field: formatIndexes(idx), Message: string(payload)})
}

func formatIndexes(idx []int) string {
	s := ""
	for _, i := range idx {
		s += "/" + strconv.Itoa(i)
	}
	return s
}

// oneVersion resolves every topic and every id to v.
type oneVersion struct{ v *schema.Version }

func (o oneVersion) Resolve(string) (*schema.Version, error)                         { return o.v, nil }
func (oneVersion) Wire(string) bool                                                  { return true }
func (o oneVersion) ResolveID(context.Context, string, int) (*schema.Version, error) { return o.v, nil }

func (o oneVersion) ResolveGUID(context.Context, string, string) (*schema.Version, error) {
	return o.v, nil
}

// A PROTOBUF subject's records have their message indexes parsed after the
// schema id and passed to CheckMessage; another format's records do not, so
// the bytes after the id are all payload.
func TestEngineMessageIndexes(t *testing.T) {
	t.Parallel()
	value := []byte{0, 0, 0, 0, 9, 0x04, 0x02, 0x00, 'p'} // id 9, indexes [1, 0], payload "p"
	for _, c := range []struct {
		format schema.Format
		want   record.Violation
	}{
		{schema.FormatProtobuf, record.Violation{Type: record.SchemaViolation, Keyword: "message", Field: "/1/0", Message: "p"}},
		{schema.FormatAvro, record.Violation{Type: record.SchemaViolation, Keyword: "check", Message: "\x04\x02\x00p"}},
	} {
		sv := &schema.Version{Subject: "s", Version: 1, Format: c.format, Validator: indexed{}}
		e, err := validate.New(validate.Options{Resolver: oneVersion{sv}, IDs: oneVersion{sv}})
		require.NoError(t, err)
		var v record.Verdict
		require.NoError(t, e.Validate(&record.Record{Topic: "t", Value: value}, &v))
		require.Equal(t, []record.Violation{c.want}, v.Violations, c.format)
	}
}
