package demo

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// Kind is what a generated event is meant to be.
type Kind struct {
	// Name describes the event, e.g. "valid" or "bad enum".
	Name string
	// Want is the primary error type the gateway must give it; "" for valid.
	Want record.ErrorType
	make func(r *rand.Rand, now time.Time) []byte
}

// Kinds are the invalid kinds the generator mixes in, one of each error
// type the user_event schema can produce.
var Kinds = []Kind{
	{"missing user_id", record.MissingField, func(r *rand.Rand, now time.Time) []byte {
		return fmt.Appendf(nil, `{"event_type":%q,"timestamp":%q}`, eventType(r), ts(now))
	}},
	{"user_id is a number", record.TypeMismatch, func(r *rand.Rand, now time.Time) []byte {
		return fmt.Appendf(nil, `{"user_id":%d,"event_type":%q,"timestamp":%q}`, r.IntN(1e6), eventType(r), ts(now))
	}},
	{"user_id pattern", record.PatternMismatch, func(r *rand.Rand, now time.Time) []byte {
		return fmt.Appendf(nil, `{"user_id":"user-%d","event_type":%q,"timestamp":%q}`, r.IntN(1e6), eventType(r), ts(now))
	}},
	{"unknown event_type", record.EnumViolation, func(r *rand.Rand, now time.Time) []byte {
		return fmt.Appendf(nil, `{"user_id":%q,"event_type":"scroll","timestamp":%q}`, userID(r), ts(now))
	}},
	{"bad timestamp", record.FormatViolation, func(r *rand.Rand, _ time.Time) []byte {
		return fmt.Appendf(nil, `{"user_id":%q,"event_type":%q,"timestamp":"yesterday at %d"}`, userID(r), eventType(r), r.IntN(24))
	}},
	{"malformed JSON", record.ParseError, func(r *rand.Rand, now time.Time) []byte {
		return fmt.Appendf(nil, `{"user_id":%q,"event_type":%q,"timestamp":%q`, userID(r), eventType(r), ts(now))
	}},
}

// Valid is the kind of a valid event.
var Valid = Kind{"valid", "", func(r *rand.Rand, now time.Time) []byte {
	return fmt.Appendf(nil, `{"user_id":%q,"event_type":%q,"timestamp":%q}`, userID(r), eventType(r), ts(now))
}}

// Event is one generated record.
type Event struct {
	Kind  Kind
	Key   []byte
	Value []byte
}

// Generator makes events deterministically from a seed.
type Generator struct {
	r            *rand.Rand
	invalidShare float64
	n            int
}

// NewGenerator returns a Generator mixing in invalidShare (0..1) invalid
// events, cycling through Kinds so each kind gets a steady share.
func NewGenerator(seed uint64, invalidShare float64) *Generator {
	return &Generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), invalidShare: invalidShare}
}

// Next returns the next event.
func (g *Generator) Next(now time.Time) Event {
	k := Valid
	if g.r.Float64() < g.invalidShare {
		k = Kinds[g.n%len(Kinds)]
		g.n++
	}
	v := k.make(g.r, now)
	return Event{Kind: k, Key: []byte(userID(g.r)), Value: v}
}

var eventTypes = []string{"view", "click", "purchase"}

func eventType(r *rand.Rand) string { return eventTypes[r.IntN(len(eventTypes))] }

func userID(r *rand.Rand) string { return "USER" + strconv.Itoa(100000+r.IntN(900000)) }

func ts(now time.Time) string { return now.UTC().Format(time.RFC3339Nano) }

// Pad grows v to about size bytes with a "page" property, keeping what it
// is: a valid event stays valid, an invalid one stays invalid in the same
// way (a truncated document stays truncated). v is returned unchanged when
// it is already that large.
func Pad(v []byte, size int) []byte {
	const open, closing = `,"page":"/`, `"`
	n := size - len(v) - len(open) - len(closing)
	if n <= 0 {
		return v
	}
	out := make([]byte, 0, size)
	end := len(v)
	if end > 0 && v[end-1] == '}' {
		end--
	}
	out = append(out, v[:end]...)
	out = append(out, open...)
	for i := range n {
		out = append(out, 'a'+byte(i%26))
	}
	out = append(out, closing...)
	return append(out, v[end:]...)
}
