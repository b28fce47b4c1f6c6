package pipeline

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// headerMap returns the last value of each header key (as Connect's and
// Confluent's readers take lastHeader), and how often each key occurs.
func headerMap(h []kgo.RecordHeader) (map[string][]byte, map[string]int) {
	last, n := map[string][]byte{}, map[string]int{}
	for _, x := range h {
		last[x.Key] = x.Value
		n[x.Key]++
	}
	return last, n
}

func TestConnectHeaders(t *testing.T) {
	t.Parallel()
	errs := []record.Violation{
		{Type: record.MissingField, Field: "/user_id", Keyword: "required", Message: "missing property 'user_id'"},
		{Type: record.EnumViolation, Field: "/event_type", Keyword: "enum", Message: "value must be one of view, click"},
	}
	orig := []kgo.RecordHeader{{Key: "trace", Value: []byte("t1")}}
	h := connectHeaders(orig, "my-gateway", "raw-events", 7, 10, errs)
	require.Equal(t, orig[0], h[0], "the record's own headers come first")

	// Every header Connect writes, in its order, as UTF-8 text.
	keys := make([]string, 0, len(h)-1)
	for _, x := range h[1:] {
		keys = append(keys, x.Key)
	}
	require.Equal(t, []string{
		"__connect.errors.topic", "__connect.errors.partition", "__connect.errors.offset",
		"__connect.errors.connector.name", "__connect.errors.task.id", "__connect.errors.stage",
		"__connect.errors.class.name", "__connect.errors.exception.class.name",
		"__connect.errors.exception.message", "__connect.errors.exception.stacktrace",
	}, keys)
	last, _ := headerMap(h)
	for k, want := range map[string]string{
		ConnectHeaderTopic:            "raw-events",
		ConnectHeaderPartition:        "7",
		ConnectHeaderOffset:           "10",
		ConnectHeaderConnectorName:    "my-gateway",
		ConnectHeaderTaskID:           "0",
		ConnectHeaderStage:            "VALUE_CONVERTER",
		ConnectHeaderClassName:        "dataquarantine.validate",
		ConnectHeaderExceptionClass:   "dataquarantine.MISSING_FIELD",
		ConnectHeaderExceptionMessage: "/user_id: missing property 'user_id'",
	} {
		require.Equal(t, want, string(last[k]), k)
	}
	// The stack trace starts "class: message", as a Java one does, then
	// lists every error.
	require.Equal(t, "dataquarantine.MISSING_FIELD: /user_id: missing property 'user_id'\n"+
		"\tat /user_id (required): MISSING_FIELD: missing property 'user_id'\n"+
		"\tat /event_type (enum): ENUM_VIOLATION: value must be one of view, click",
		string(last[ConnectHeaderStacktrace]))
}

func TestConnectStage(t *testing.T) {
	t.Parallel()
	for _, et := range record.ErrorTypes {
		want := StageValueConverter
		if et == record.RuleViolation {
			want = StageTransformation
		}
		require.Equal(t, want, ConnectStage(et), et)
	}
}

func TestConfluentHeaders(t *testing.T) {
	t.Parallel()
	t.Run("rule", func(t *testing.T) {
		t.Parallel()
		errs := []record.Violation{{Type: record.RuleViolation, Keyword: "future_timestamp_check", Message: "Timestamp cannot be in future"}}
		h := confluentHeaders(nil, "user_event", "raw-events", errs)
		require.Equal(t, []kgo.RecordHeader{
			{Key: "__rule.name", Value: []byte("future_timestamp_check")},
			{Key: "__rule.mode", Value: []byte("READ")},
			{Key: "__rule.subject", Value: []byte("user_event")},
			{Key: "__rule.topic", Value: []byte("raw-events")},
			{Key: "__rule.exception", Value: []byte("Timestamp cannot be in future")},
		}, h)
	})
	t.Run("schema error without subject", func(t *testing.T) {
		t.Parallel()
		errs := []record.Violation{{Type: record.SchemaNotFound, Message: "no schema subject is bound to topic x"}}
		last, _ := headerMap(confluentHeaders(nil, "", "x", errs))
		require.Equal(t, "SCHEMA_NOT_FOUND", string(last[ConfluentHeaderName]), "the error type names a non-rule failure")
		require.Nil(t, last[ConfluentHeaderSubject], "no subject: a null value, as DlqAction writes for null")
		require.Equal(t, "no schema subject is bound to topic x", string(last[ConfluentHeaderException]))
	})
}

// Hostile violations (a 1 MB field pointer, thousands of errors) give
// bounded headers.
func TestDLQCompatHeadersAreBounded(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("é", 1<<19) // 1 MiB of two-byte runes
	errs := make([]record.Violation, 5000)
	for i := range errs {
		errs[i] = record.Violation{Type: record.UnknownField, Field: "/" + huge, Keyword: huge, Message: huge}
	}
	for _, mode := range []DLQHeaders{DLQHeadersConnect, DLQHeadersConfluent} {
		h := DLQCompat{Headers: mode}.appendTo(nil, &kgo.Record{Topic: "t"}, &record.Verdict{Subject: huge, Violations: errs})
		total := 0
		for _, x := range h {
			total += len(x.Value)
			require.LessOrEqual(t, len(x.Value), max(maxStacktrace, len(huge)), x.Key)
		}
		require.Less(t, total, 2*len(huge)+maxStacktrace+8*maxHeaderText, "%s headers", mode)
	}
	last, _ := headerMap(DLQCompat{Headers: DLQHeadersConnect}.appendTo(nil, &kgo.Record{Topic: "t"}, &record.Verdict{Violations: errs}))
	require.LessOrEqual(t, len(last[ConnectHeaderStacktrace]), maxStacktrace)
	require.LessOrEqual(t, len(last[ConnectHeaderExceptionMessage]), maxHeaderText)
	require.Equal(t, "dataquarantine", string(last[ConnectHeaderConnectorName]), "default connector name")
}

// A producer's own Connect or Confluent DLQ headers (a forged verdict, or
// one left from an earlier dead-lettering) are moved under dq.original.:
// the only __connect.errors.* or __rule.* headers on the DLQ record are
// the gateway's, and the received record's headers are left untouched.
func TestDLQCompatMovesTheRecordsOwnAside(t *testing.T) {
	t.Parallel()
	v := &record.Verdict{Subject: "orders", Violations: []record.Violation{{Type: record.MissingField, Field: "/id"}}}
	for mode, forged := range map[DLQHeaders][]string{
		DLQHeadersConnect:   {ConnectHeaderTopic, ConnectHeaderExceptionMessage},
		DLQHeadersConfluent: {"__rule.name", "__rule.exception"},
	} {
		received := []kgo.RecordHeader{{Key: "trace", Value: []byte("t1")}}
		for _, k := range forged {
			received = append(received, kgo.RecordHeader{Key: k, Value: []byte("forged")})
		}
		kr := &kgo.Record{Topic: "raw-events", Headers: received}
		before := slices.Clone(received)
		h := DLQCompat{Headers: mode}.appendTo(kr.Headers, kr, v)
		require.Equal(t, before, kr.Headers, "%s: the received headers are not changed", mode)
		last, n := headerMap(h)
		require.Equal(t, "t1", string(last["trace"]))
		for _, k := range forged {
			require.Equal(t, "forged", string(last[record.OriginalHeaderPrefix+k]), "%s: %s kept aside", mode, k)
			require.Equal(t, 1, n[k], "%s: one %s, the gateway's", mode, k)
			require.NotEqual(t, "forged", string(last[k]), "%s: %s", mode, k)
		}
	}
}

func TestDLQCompatZeroAddsNothing(t *testing.T) {
	t.Parallel()
	h := []kgo.RecordHeader{{Key: "a"}}
	v := &record.Verdict{Violations: []record.Violation{{Type: record.ParseError}}}
	require.Equal(t, h, DLQCompat{}.appendTo(h, &kgo.Record{}, v))
	require.Equal(t, h, DLQCompat{Headers: DLQHeadersDQ}.appendTo(h, &kgo.Record{}, v))
}

func TestDLQContextHeader(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]bool{
		HeaderErrorType: true, HeaderErrors: true, HeaderQuarantineID: true, HeaderPayloadOmitted: true,
		HeaderErrorsTotal: true, HeaderSourceOffset: true,
		"__connect.errors.topic": true, "__connect.errors.anything": true,
		"__rule.name": true, "__rule.exception": true,
		"dq.replay.count": false, "trace": false, "__connect.error": false, "__value_schema_id": false,
	} {
		require.Equal(t, want, DLQContextHeader(key), key)
	}
}

func TestHeaderText(t *testing.T) {
	t.Parallel()
	require.Equal(t, "ab", HeaderText([]byte("a\x00b"), 10))
	require.Equal(t, "a\uFFFDb", HeaderText([]byte("a\xffb"), 10))
	require.Equal(t, "", HeaderText(nil, 10))
	got := HeaderText([]byte(strings.Repeat("é", 100)), 11)
	require.LessOrEqual(t, len(got), 11)
	require.True(t, strings.HasSuffix(got, "…"))
}

// A record without a dq.* header leaves with its own header slice, no
// copy (the common case, once per record); one with a dq.* header gets a
// copy, renamed, and its own headers stay as received.
func TestOutgoingHeadersCopyOnlyWhenRenaming(t *testing.T) {
	// Not parallel: AllocsPerRun.
	plain := []kgo.RecordHeader{{Key: "trace", Value: []byte("t")}, {Key: "__value_schema_id", Value: []byte("7")}}
	require.Zero(t, testing.AllocsPerRun(100, func() { _ = outgoingHeaders(plain) }))
	require.Same(t, &plain[0], &outgoingHeaders(plain)[0])

	forged := []kgo.RecordHeader{{Key: "trace"}, {Key: "dq.error.type", Value: []byte("NONE")}}
	out := outgoingHeaders(forged)
	require.Equal(t, []string{"trace", "dq.original.error.type"}, []string{out[0].Key, out[1].Key})
	require.Equal(t, "dq.error.type", forged[1].Key, "the received headers are not changed")
}

// Shrinking a DLQ record to its headers keeps every header the gateway
// wrote in its mode (dq.*, and Connect's or Confluent's in the compat
// modes) and leaves out the record's own, forged ones moved aside
// included, counting only those.
func TestOmitKeepsTheGatewaysHeaders(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode DLQHeaders
		kept []string
	}{
		{DLQHeadersDQ, []string{HeaderErrorType}},
		{DLQHeadersConnect, []string{HeaderErrorType, ConnectHeaderTopic}},
		{DLQHeadersConfluent, []string{HeaderErrorType, "__rule.name"}},
	} {
		r := &kgo.Record{Key: []byte("k"), Value: []byte("v"), Headers: []kgo.RecordHeader{
			{Key: "trace", Value: []byte("big")},
			{Key: "dq.original.error.type", Value: []byte("NONE")},
			{Key: HeaderErrorType, Value: []byte("MISSING_FIELD")},
		}}
		switch tc.mode {
		case DLQHeadersConnect:
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: ConnectHeaderTopic, Value: []byte("raw")})
		case DLQHeadersConfluent:
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: "__rule.name", Value: []byte("r")})
		}
		omit(r, omitHeaders, nil, DLQCompat{Headers: tc.mode}.written)
		var keys []string
		for _, h := range r.Headers {
			keys = append(keys, h.Key)
		}
		require.Equal(t, append(tc.kept, HeaderPayloadOmitted), keys, tc.mode)
		require.Contains(t, string(r.Headers[len(r.Headers)-1].Value), "2 headers of its own", tc.mode)
		require.Nil(t, r.Key, tc.mode)
		require.Nil(t, r.Value, tc.mode)
	}
}
