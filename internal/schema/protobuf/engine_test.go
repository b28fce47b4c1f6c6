package protobuf_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/rules"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/protobuf"
	"github.com/dataquarantine/dataquarantine/internal/validate"
)

// registry is a one-subject registry: the topic's enforced version, also
// known by schema id 7.
type registry struct{ v *schema.Version }

func (r registry) Resolve(string) (*schema.Version, error) { return r.v, nil }
func (registry) Wire(string) bool                          { return true }
func (r registry) ResolveID(_ context.Context, topic string, id int) (*schema.Version, error) {
	if id != 7 {
		return nil, &schema.NotFoundError{Topic: topic, Detail: "no schema id 7"}
	}
	return r.v, nil
}

func (registry) ResolveGUID(_ context.Context, topic, guid string) (*schema.Version, error) {
	return nil, &schema.NotFoundError{Topic: topic, Detail: "no schema GUID " + guid}
}

// Messages produced by franz-go's sr.Serde (a real Confluent-format
// producer, with the Protobuf message indexes after the schema id) go
// through the engine: the wire header selects the message type, the
// constraints and the business rules run on it.
func TestEngineFranzGoSerde(t *testing.T) {
	t.Parallel()
	sv, err := protobuf.Compile("orders-value", 1, []byte(orderProto), protobuf.Options{})
	require.NoError(t, err)
	sv.Rules, err = rules.Compile([]rules.Spec{
		{Name: "not_in_future", Expr: "message.created_at <= now", Field: "/created_at"},
		{Name: "items", Expr: "message.items.all(i, i.count > 0) && message.labels.channel == 'web'"},
		{Name: "big", Expr: "message.big > 9007199254740992 && message.quantity * 2 == 6 && message.status == 'STATUS_NEW'"},
	}, rules.Options{})
	require.NoError(t, err)
	pv := sv.Validator.(*protobuf.Validator)
	newEngine := func(sv *schema.Version) *validate.Engine {
		eng, err := validate.New(validate.Options{
			Resolver: registry{sv}, IDs: registry{sv},
			Now: func() time.Time { return time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC) },
		})
		require.NoError(t, err)
		return eng
	}
	eng := newEngine(sv)
	// The rules are written for Order; Address records are checked by a
	// version without them.
	noRules := *sv
	noRules.Rules = nil
	addrEng := newEngine(&noRules)

	marshal := func(v any) ([]byte, error) {
		return proto.MarshalOptions{Deterministic: true}.Marshal(v.(*dynamicpb.Message))
	}
	var orders, addresses sr.Serde
	orders.Register(7, &dynamicpb.Message{}, sr.EncodeFn(marshal), sr.Index(0))
	addresses.Register(7, &dynamicpb.Message{}, sr.EncodeFn(marshal), sr.Index(1))
	produce := func(serde *sr.Serde, msgIndex int, js string) []byte {
		msg := dynamicpb.NewMessage(pv.File().Messages().Get(msgIndex))
		require.NoError(t, proto.Unmarshal(encode(t, msg.Descriptor(), js), msg))
		value, err := serde.Encode(msg)
		require.NoError(t, err)
		return value
	}

	validateWith := func(eng *validate.Engine, value []byte) *record.Verdict {
		var v record.Verdict
		require.NoError(t, eng.Validate(&record.Record{Topic: "orders", Value: value}, &v))
		return &v
	}
	validateValue := func(value []byte) *record.Verdict { return validateWith(eng, value) }

	good := produce(&orders, 0, sampleOrder)
	require.Equal(t, []byte{0, 0, 0, 0, 7, 0}, good[:6], "magic, id 7, message indexes [0] as a single 0")
	v := validateValue(good)
	require.Empty(t, v.Violations)
	require.Equal(t, 1, v.Version)

	// Address is message index [1]: valid as an Address, whose zip is
	// checked by its own constraint.
	v = validateWith(addrEng, produce(&addresses, 1, `{"city": "Paris", "zip": "75001"}`))
	require.Empty(t, v.Violations)
	v = validateWith(addrEng, produce(&addresses, 1, `{"city": "Paris", "zip": "7500"}`))
	require.Equal(t, []record.Violation{{
		Type: record.PatternMismatch, Field: "/zip", Keyword: "string.pattern",
		Message: "does not match regex pattern `^[0-9]{5}$`",
	}}, v.Violations)

	// A protovalidate violation is reported at its field.
	bad := produce(&orders, 0, encodeJSON(t, edit(t, func(m map[string]any) { m["address"].(map[string]any)["zip"] = "ABC" })))
	v = validateValue(bad)
	require.Len(t, v.Violations, 1)
	require.Equal(t, record.PatternMismatch, v.Violations[0].Type)
	require.Equal(t, "/address/zip", v.Violations[0].Field)

	// The business rules read the decoded message.
	future := produce(&orders, 0, encodeJSON(t, edit(t, func(m map[string]any) { m["created_at"] = "2026-11-28T00:00:00Z" })))
	v = validateValue(future)
	require.Len(t, v.Violations, 1)
	require.Equal(t, record.RuleViolation, v.Violations[0].Type)
	require.Equal(t, "not_in_future", v.Violations[0].Keyword)

	// Truncated after the header: DECODE_ERROR at the field cut.
	v = validateValue(good[:len(good)-3])
	require.Len(t, v.Violations, 1)
	require.Equal(t, record.DecodeError, v.Violations[0].Type)
	require.Equal(t, "/blob", v.Violations[0].Field, "the last field, blob, is cut")

	// Message indexes naming no message.
	v = validateWith(addrEng, append([]byte{0, 0, 0, 0, 7, 2, 6}, good[6:]...))
	require.Len(t, v.Violations, 1)
	require.Equal(t, record.SchemaNotFound, v.Violations[0].Type)
	require.Equal(t, "message_index", v.Violations[0].Keyword)

	// Malformed message indexes are a wire-header DECODE_ERROR.
	v = validateValue([]byte{0, 0, 0, 0, 7, 0x04, 0x02})
	require.Len(t, v.Violations, 1)
	require.Equal(t, record.DecodeError, v.Violations[0].Type)
	require.Equal(t, "wire_header", v.Violations[0].Keyword)

	// Without a wire header the payload is the default message.
	v = validateValue(good[6:])
	require.Empty(t, v.Violations)
}

// edit is sampleOrder, edited, as a map for encodeJSON.
func edit(t *testing.T, fn func(m map[string]any)) map[string]any {
	t.Helper()
	m := decodeJSON(t, sampleOrder)
	fn(m)
	return m
}
