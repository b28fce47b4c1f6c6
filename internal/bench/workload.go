package bench

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/avro"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/demo"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/rules"
)

// Formats a workload can be encoded in.
const (
	FormatJSON     = "json"
	FormatAvro     = "avro"
	FormatProtobuf = "protobuf"
)

// Formats lists them, the default first.
var Formats = []string{FormatJSON, FormatAvro, FormatProtobuf}

const subject = "user_event"

// The user_event schema in each binary format (the JSON one is the
// built-in default schema). page is the padding that makes a record its
// workload size.
const (
	avroSchema = `{"type": "record", "name": "UserEvent", "namespace": "dataquarantine.bench", "fields": [
  {"name": "user_id", "type": "string"},
  {"name": "event_type", "type": {"type": "enum", "name": "EventType", "symbols": ["view", "click", "purchase"]}},
  {"name": "timestamp", "type": "string"},
  {"name": "page", "type": "string"}]}`
	protoSchema = `syntax = "proto3";
package dataquarantine.bench;
message UserEvent {
  string user_id = 1;
  string event_type = 2;
  string timestamp = 3;
  string page = 4;
}`
)

// futureRule is the business rule --rules adds; the workload's rule kind
// breaks it (a timestamp in 2099) while passing the schema.
var futureRule = rules.Spec{
	Name: "future_timestamp_check", Expr: "timestamp(message.timestamp) <= now",
	Message: "Timestamp cannot be in future", Field: "/timestamp",
}

// schemaConfig is the schema the gateway validates the workload with, bound
// to the raw topic as subject user_event.
func schemaConfig(format string, withRules bool) (config.Schema, string) {
	s := config.Default().Schemas[0]
	wire := ""
	switch format {
	case FormatAvro:
		s.Type, s.Schema, wire = config.SchemaTypeAvro, avroSchema, "ignore"
	case FormatProtobuf:
		s.Type, s.Schema, s.Message, wire = config.SchemaTypeProtobuf, protoSchema, "dataquarantine.bench.UserEvent", "ignore"
	}
	if withRules {
		s.Rules = []rules.Spec{futureRule}
	}
	return s, wire
}

// workload generates the benchmark's records and remembers what each one
// must become. Record i carries key "b<i>".
type workload struct {
	format string
	rules  bool
	gen    *demo.Generator // JSON
	rnd    *rand.Rand      // binary formats
	share  float64
	avro   *avro.Schema
	size   int
	now    time.Time
	kinds  []record.ErrorType // kind number -> error type; 0 is "" (valid)
	want   []uint8            // by record index: its kind number (1 byte a record: 2M records cost 2 MB)
	bytes  int64
	nth    int // invalid records so far
}

func newWorkload(format string, withRules bool, n, size int, invalidShare float64, seed uint64) *workload {
	w := &workload{
		format: format,
		rules:  withRules,
		gen:    demo.NewGenerator(seed, invalidShare),
		rnd:    rand.New(rand.NewPCG(seed, 7)),
		share:  invalidShare,
		size:   size,
		now:    time.Date(2026, 1, 10, 19, 50, 0, 0, time.UTC),
		kinds:  []record.ErrorType{""},
		want:   make([]uint8, 0, n),
	}
	if format == FormatAvro {
		w.avro = avro.MustParse(avroSchema)
	}
	return w
}

// wantType returns the primary error type record i must get, "" for valid.
func (w *workload) wantType(i int) record.ErrorType { return w.kinds[w.want[i]] }

// count returns how many records were generated.
func (w *workload) count() int { return len(w.want) }

func (w *workload) kind(t record.ErrorType) uint8 {
	for i, k := range w.kinds {
		if k == t {
			return uint8(i)
		}
	}
	w.kinds = append(w.kinds, t)
	return uint8(len(w.kinds) - 1)
}

// next returns the next record's key and value.
func (w *workload) next() (key, value []byte) {
	i := len(w.want)
	var want record.ErrorType
	if w.format == FormatJSON {
		ev := w.gen.Next(w.now)
		value, want = ev.Value, ev.Kind.Want
		if want != "" {
			// Every seventh invalid record breaks the rule instead, when
			// there is one.
			if w.nth++; w.rules && w.nth%7 == 0 {
				value, want = w.json(w.event(), "2099-01-01T00:00:00Z"), record.RuleViolation
			}
		}
		value = demo.Pad(value, w.size)
	} else {
		value, want = w.binary()
	}
	w.want = append(w.want, w.kind(want))
	w.bytes += int64(len(value))
	return append([]byte("b"), strconv.Itoa(i)...), value
}

type event struct{ userID, eventType string }

func (w *workload) event() event {
	return event{"USER" + strconv.Itoa(100000+w.rnd.IntN(900000)), []string{"view", "click", "purchase"}[w.rnd.IntN(3)]}
}

func (w *workload) json(e event, ts string) []byte {
	return fmt.Appendf(nil, `{"user_id":%q,"event_type":%q,"timestamp":%q}`, e.userID, e.eventType, ts)
}

// binary returns an Avro or Protobuf record: valid, truncated
// (DECODE_ERROR), or with --rules dated in the future (RULE_VIOLATION).
func (w *workload) binary() ([]byte, record.ErrorType) {
	e, ts := w.event(), w.now.Format(time.RFC3339Nano)
	want := record.ErrorType("")
	truncate := false
	if w.rnd.Float64() < w.share {
		if w.nth++; w.rules && w.nth%2 == 0 {
			ts, want = "2099-01-01T00:00:00Z", record.RuleViolation
		} else {
			truncate, want = true, record.DecodeError
		}
	}
	enc := func(page string) []byte {
		if w.format == FormatAvro {
			b, err := w.avro.Encode(map[string]any{"user_id": e.userID, "event_type": e.eventType, "timestamp": ts, "page": page})
			if err != nil {
				panic(fmt.Sprintf("bench: encoding the workload's Avro: %v", err)) // a bug in this file
			}
			return b
		}
		var b []byte
		for n, s := range []string{e.userID, e.eventType, ts, page} {
			b = protowire.AppendTag(b, protowire.Number(n+1), protowire.BytesType)
			b = protowire.AppendString(b, s)
		}
		return b
	}
	v := enc("")
	if pad := w.size - len(v) - 2; pad > 0 { // the page's length takes a byte or two more
		v = enc("/" + strings.Repeat("a", pad-1))
	}
	if truncate {
		v = v[:len(v)-len(v)/3]
	}
	return v, want
}

// index parses a key made by next; -1 when it is not one.
func index(key []byte) int {
	if len(key) < 2 || key[0] != 'b' {
		return -1
	}
	i, err := strconv.Atoi(string(key[1:]))
	if err != nil {
		return -1
	}
	return i
}
