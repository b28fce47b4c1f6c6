package avro_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/rules"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/avro"
	"github.com/dataquarantine/dataquarantine/internal/schema/formats"
	"github.com/dataquarantine/dataquarantine/internal/schema/wire"
)

func TestCompile(t *testing.T) {
	t.Parallel()
	v, err := avro.Compile("user_event", 2, []byte(userEventV2), avro.Options{})
	require.NoError(t, err)
	require.Equal(t, "user_event", v.Subject)
	require.Equal(t, 2, v.Version)
	require.Equal(t, schema.FormatAvro, v.Format)
	require.IsType(t, &avro.Validator{}, v.Validator)

	cases := []struct {
		name    string
		src     string
		wantErr string
	}{
		{"not JSON", `{"type": "record",`, "compiling Avro schema for subject s version 1: "},
		{"unknown type", `{"type": "strnig"}`, "strnig"},
		{"record without fields", `{"type": "record", "name": "R"}`, "fields"},
		{"bad name", `{"type": "record", "name": "my-record", "fields": []}`, "my-record"},
		{"bad default", `{"type": "record", "name": "R", "fields": [{"name": "n", "type": "int", "default": "x"}]}`, "default"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := avro.Compile("s", 1, []byte(c.src), avro.Options{})
			require.ErrorContains(t, err, "compiling Avro schema for subject s version 1: ")
			require.ErrorContains(t, err, c.wantErr)
		})
	}
}

// A record produced by franz-go's sr.Serde, a real Confluent-format
// producer: the wire parser strips its header, the validator decodes the
// rest, and the rules layer runs on the result.
func TestCheckFranzGoSerde(t *testing.T) {
	t.Parallel()
	v := parse(t, userEventV2, avro.Options{})
	var serde sr.Serde
	serde.Register(42, UserEvent{}, sr.AppendEncodeFn(func(b []byte, datum any) ([]byte, error) {
		return v.Schema().AppendEncode(b, datum)
	}))
	value, err := serde.Encode(sampleEvent())
	require.NoError(t, err)

	h, payload, ok, err := wire.Parse(value, nil, wire.Options{})
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, 42, h.ID)
	require.Equal(t, wire.Prefix, h.Source)

	decoded, violations := v.Check(payload, nil)
	require.Empty(t, violations)
	require.Equal(t, sampleDecoded(), decoded)

	// Without stripping the header the bytes do not decode.
	_, violations = v.Check(value, nil)
	require.Len(t, violations, 1)
	require.Equal(t, record.DecodeError, violations[0].Type)

	set, err := rules.Compile([]rules.Spec{
		{Name: "not_in_future", Expr: "message.timestamp <= now"},
		{Name: "paris_zip", Expr: "message.address.city != 'Paris' || message.address.zip.startsWith('75')"},
		{Name: "amount", Expr: "message.amount > 0.0 && message.amount < 1000"},
		{Name: "tags", Expr: "size(message.tags) <= 5 && message.metadata.ab in ['A', 'B']"},
		{Name: "coupon", Expr: "!has(message.coupon) || message.coupon == null || message.coupon.startsWith('C-')"},
	}, rules.Options{})
	require.NoError(t, err)
	require.Empty(t, set.Eval(decoded, eventTime.Add(time.Hour), nil))
	require.Equal(t, []string{"not_in_future"}, keywords(set.Eval(decoded, eventTime.Add(-time.Hour), nil)))
}

func keywords(vs []record.Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Keyword)
	}
	return out
}

func TestCheckDecodeErrors(t *testing.T) {
	t.Parallel()
	v := parse(t, userEventV2, avro.Options{})
	good := encode(t, v, sampleEvent())
	// Byte offsets of the fields of good, for cutting it where a given
	// field is being read.
	offsetOf := func(s string) int {
		i := strings.Index(string(good), s)
		require.GreaterOrEqual(t, i, 0, s)
		return i
	}
	cases := []struct {
		name      string
		payload   []byte
		wantField string
		wantMsg   string
	}{
		{"empty", nil, "/user_id", "the record is cut short: "},
		{"cut in user_id", good[:5], "/user_id", "the record is cut short: a string needs 10 bytes, only 4 remain"},
		{"cut before the timestamp", good[:12], "/timestamp", "the record is cut short: no bytes left for a varint"},
		{"cut in the nested zip", good[:offsetOf("75001")+2], "/address/zip", "the record is cut short: a string needs 5 bytes, only 2 remain"},
		{"cut in the tags array", good[:offsetOf("newsletter")+3], "/tags", "the record is cut short: a string needs 10 bytes, only 3 remain"},
		// The map is encoded in Go's map order, so where "linux" falls, and
		// which check trips first, varies; the field does not.
		{"cut in the metadata map", good[:offsetOf("linux")], "/metadata", ""},
		{"cut before the coupon", good[:len(good)-12], "/coupon", "the record is cut short: "},
		{"trailing bytes", append(append([]byte(nil), good...), 0, 0), "", "2 bytes left over after the record"},
		{"negative string length", []byte{0x7f, 'a'}, "/user_id", "invalid Avro: invalid negative string length -64"},
		{"enum index out of range", append([]byte{0x02, 'U'}, 0x08), "/event_type", "invalid Avro: "},
		{"varint overflow", []byte{0x02, 'U', 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "/timestamp", "invalid Avro: "},
		{"bad union index", append(good[:len(good)-12:len(good)-12], 0x08), "/coupon", "invalid Avro: "},
		{"JSON is not Avro", []byte(`{"user_id":"USER123456"}`), "/user_id", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			decoded, got := v.Check(c.payload, nil)
			require.Nil(t, decoded)
			require.Len(t, got, 1)
			require.Equal(t, record.DecodeError, got[0].Type)
			require.Equal(t, c.wantField, got[0].Field, got[0].Message)
			require.True(t, strings.HasPrefix(got[0].Message, c.wantMsg), "message %q", got[0].Message)
			require.NotEmpty(t, got[0].Message)
		})
	}
}

// Bytes written with a schema of other types do not pass as this one.
func TestCheckWrongTypeBytes(t *testing.T) {
	t.Parallel()
	v := parse(t, `{"type": "record", "name": "R", "fields": [{"name": "id", "type": "long"}, {"name": "name", "type": "string"}, {"name": "ok", "type": "boolean"}]}`, avro.Options{})
	other := parse(t, `{"type": "record", "name": "R", "fields": [{"name": "id", "type": "string"}, {"name": "name", "type": "long"}]}`, avro.Options{})
	b := encode(t, other, map[string]any{"id": "a long string, not a number", "name": int64(-5)})
	_, got := v.Check(b, nil)
	require.Len(t, got, 1)
	require.Equal(t, record.DecodeError, got[0].Type)
	require.Equal(t, "/name", got[0].Field, got[0].Message)
}

// An event written with v1 of the schema is read as v2: the float amount
// widens to double and the added coupon takes its default.
func TestCheckWithWriter(t *testing.T) {
	t.Parallel()
	reader := parse(t, userEventV2, avro.Options{})
	writer := parse(t, userEventV1, avro.Options{})
	ev := sampleEvent()
	v1 := UserEventV1{
		UserID: ev.UserID, EventType: ev.EventType, Timestamp: ev.Timestamp, SessionID: ev.SessionID, Page: ev.Page,
		Amount: 12.5, Address: ev.Address, Tags: ev.Tags, Metadata: ev.Metadata,
	}
	payload := encode(t, writer, v1)

	want := sampleDecoded()
	want["amount"] = 12.5
	want["coupon"] = nil
	decoded, got := reader.CheckWithWriter(writer, payload, nil)
	require.Empty(t, got)
	require.Equal(t, want, decoded)

	// The reader alone cannot read v1 bytes.
	_, got = reader.Check(payload, nil)
	require.NotEmpty(t, got)

	// The resolution is cached, and the same schema resolves to itself.
	r1, err := reader.Resolve(writer)
	require.NoError(t, err)
	r2, err := reader.Resolve(writer)
	require.NoError(t, err)
	require.Same(t, r1, r2)
	self, err := reader.Resolve(parse(t, userEventV2, avro.Options{}))
	require.NoError(t, err)
	require.Same(t, reader, self)

	// A truncated v1 record is still a DECODE_ERROR with its path.
	_, got = reader.CheckWithWriter(writer, payload[:len(payload)-3], nil)
	require.Len(t, got, 1)
	require.Equal(t, record.DecodeError, got[0].Type)
	require.Equal(t, "/metadata", got[0].Field)
}

func TestCheckWithIncompatibleWriter(t *testing.T) {
	t.Parallel()
	reader := parse(t, userEventV2, avro.Options{})
	cases := []struct {
		name      string
		writer    schema.Validator
		wantField string
		wantMsg   string
	}{
		{
			"nested field changed type",
			parse(t, strings.Replace(userEventV1, `{"name": "zip", "type": "string"}`, `{"name": "zip", "type": "int"}`, 1), avro.Options{}),
			"/address/zip", "the writer schema cannot be read as the reader schema at /address/zip: reader string vs writer int",
		},
		{
			"required field missing without default",
			parse(t, `{"type": "record", "name": "UserEvent", "namespace": "com.example", "fields": [{"name": "user_id", "type": "string"}]}`, avro.Options{}),
			"/event_type", "the writer schema cannot be read as the reader schema at /event_type",
		},
		{"not an Avro writer", jsonValidator(t), "", "the record was written with a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			decoded, got := reader.CheckWithWriter(c.writer, []byte{0}, nil)
			require.Nil(t, decoded)
			require.Len(t, got, 1)
			require.Equal(t, record.SchemaViolation, got[0].Type)
			require.Equal(t, "resolution", got[0].Keyword)
			require.Equal(t, c.wantField, got[0].Field, got[0].Message)
			require.True(t, strings.HasPrefix(got[0].Message, c.wantMsg), "message %q", got[0].Message)
		})
	}
}

func jsonValidator(t *testing.T) schema.Validator {
	t.Helper()
	v, err := formats.Compile(schema.FormatJSON, "j", 1, []byte(`{}`), formats.Options{})
	require.NoError(t, err)
	return v.Validator
}

// Avro's JSON encoding, checked against the schema.
func TestCheckJSON(t *testing.T) {
	t.Parallel()
	v := parse(t, userEventV2, avro.Options{Encoding: avro.JSON})
	good := `{"user_id":"USER123456","event_type":"purchase","timestamp":1768074600000,` +
		`"session_id":"5f0c2a8e-9a51-4c34-b8b7-3f8f6a4f1d2e","page":"/products/espresso-machine-deluxe","amount":249.99,` +
		`"address":{"city":"Paris","zip":"75001"},"tags":["winter-sale","newsletter","returning-customer"],` +
		`"metadata":{"browser":"firefox","os":"linux","campaign":"winter-sale","ab":"B","ref":"newsletter",` +
		`"referrer":"https://news.example.com/winter-deals","locale":"fr-FR"},"coupon":{"string":"C-AB12CD34"}}`
	decoded, got := v.Check([]byte(good), nil)
	require.Empty(t, got)
	require.Equal(t, sampleDecoded(), decoded)

	cases := []struct {
		name      string
		payload   string
		wantType  record.ErrorType
		wantField string
	}{
		{"bare union value", strings.Replace(good, `{"string":"C-AB12CD34"}`, `"C-AB12CD34"`, 1), "", ""},
		{"absent optional field takes its default", strings.Replace(good, `,"coupon":{"string":"C-AB12CD34"}`, ``, 1), "", ""},
		{"syntax error", good[:40], record.ParseError, "/event_type"},
		{"duplicate key", strings.Replace(good, `{"user_id":"USER123456",`, `{"user_id":"USER123456","user_id":"x",`, 1), record.ParseError, ""},
		{"missing nested field", strings.Replace(good, `,"zip":"75001"`, ``, 1), record.MissingField, "/address/zip"},
		{"missing top-level field", strings.Replace(good, `"page":"/products/espresso-machine-deluxe",`, ``, 1), record.MissingField, "/page"},
		{"wrong type", strings.Replace(good, `"amount":249.99`, `"amount":"249.99"`, 1), record.TypeMismatch, "/amount"},
		{"wrong nested type", strings.Replace(good, `"zip":"75001"`, `"zip":75001`, 1), record.TypeMismatch, "/address/zip"},
		{"unknown enum symbol", strings.Replace(good, `"purchase"`, `"refund"`, 1), record.EnumViolation, "/event_type"},
		{"not an object", `[1,2]`, record.TypeMismatch, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			decoded, got := v.Check([]byte(c.payload), nil)
			if c.wantType == "" {
				require.Empty(t, got)
				require.NotNil(t, decoded)
				return
			}
			require.Nil(t, decoded)
			require.Len(t, got, 1)
			require.Equal(t, c.wantType, got[0].Type, got[0].Message)
			require.Equal(t, c.wantField, got[0].Field, got[0].Message)
			require.NotEmpty(t, got[0].Message)
		})
	}
}

// Violations are appended to what dst held.
func TestCheckAppends(t *testing.T) {
	t.Parallel()
	v := parse(t, `"string"`, avro.Options{})
	prior := record.Violation{Type: record.SchemaNotFound}
	decoded, got := v.Check([]byte{0x06, 'a', 'b', 'c'}, []record.Violation{prior})
	require.Equal(t, "abc", decoded)
	require.Equal(t, []record.Violation{prior}, got)
	_, got = v.Check([]byte{0x06, 'a'}, []record.Violation{prior})
	require.Len(t, got, 2)
	require.Equal(t, prior, got[0])
	require.Equal(t, record.DecodeError, got[1].Type)
	require.Equal(t, "", got[1].Field)
}

func TestEncodingString(t *testing.T) {
	t.Parallel()
	require.Equal(t, "binary", avro.Binary.String())
	require.Equal(t, "json", avro.JSON.String())
}

// Versions are shared by every pipeline goroutine, resolution cache
// included.
func TestCheckWithWriterConcurrent(t *testing.T) {
	t.Parallel()
	reader := parse(t, userEventV2, avro.Options{})
	writer := parse(t, userEventV1, avro.Options{})
	ev := sampleEvent()
	payload := encode(t, writer, UserEventV1{
		UserID: ev.UserID, EventType: ev.EventType, Timestamp: ev.Timestamp, SessionID: ev.SessionID, Page: ev.Page,
		Amount: 1, Address: ev.Address, Tags: ev.Tags, Metadata: ev.Metadata,
	})
	current := encode(t, reader, ev)
	errs := make(chan []record.Violation)
	for range 8 {
		go func() {
			var got []record.Violation
			for range 100 {
				_, got = reader.CheckWithWriter(writer, payload, got[:0])
				if len(got) > 0 {
					break
				}
				_, got = reader.Check(current, got)
			}
			errs <- got
		}()
	}
	for range 8 {
		require.Empty(t, <-errs)
	}
}
