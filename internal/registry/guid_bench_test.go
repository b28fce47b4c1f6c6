package registry_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/registry/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/formats"
	"github.com/dataquarantine/dataquarantine/internal/validate"
)

// go test -run '^$' -bench BenchmarkGUIDStream -benchmem ./internal/registry/
//
// BenchmarkGUIDStream validates a stream of records that name their schema
// by GUID (Confluent's 0x01 wire header) through the production lookup
// path: validate.Engine over a Resolver over a Registry in SQLite. In
// "valid" every record names the registered schema; in "half-random" every
// valid record is followed by one naming a random GUID (a hostile or
// broken producer), each GUID new, so each costs a registry read. One op
// is one valid record (and, in half-random, the random one after it), so
// ns/op is the stream's cost per valid record; valid-ns/rec is the time of
// the valid records alone, measured around each.
func BenchmarkGUIDStream(b *testing.B) {
	ctx := context.Background()
	store, err := sqlite.New(sqlite.Options{Path: filepath.Join(b.TempDir(), "registry.db")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	reg, err := registry.New(registry.Options{Store: store})
	if err != nil {
		b.Fatal(err)
	}
	const text = `{"type":"object","required":["user_id","event_type"],"properties":{"user_id":{"type":"string","pattern":"^USER[0-9]{6}$"},"event_type":{"enum":["click","view","purchase"]},"amount":{"type":"number","minimum":0}}}`
	v, err := reg.Register(ctx, registry.RegisterRequest{Subject: "events", Format: schema.FormatJSON, Schema: text, State: registry.StateEnforced})
	if err != nil {
		b.Fatal(err)
	}
	res, err := registry.NewResolver(ctx, registry.ResolverOptions{
		Registry: reg, Bindings: map[string]string{"raw": "events"}, Wire: map[string]bool{"raw": true},
		Compile: func(req registry.CompileRequest) (*schema.Version, error) {
			return formats.Compile(schema.FormatJSON, req.Subject, req.Version, []byte(req.Text), formats.Options{})
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	eng, err := validate.New(validate.Options{Resolver: res, IDs: res})
	if err != nil {
		b.Fatal(err)
	}
	payload := `{"user_id":"USER123456","event_type":"click","amount":12.5}`
	withGUID := func(guid string) []byte {
		raw, err := hex.DecodeString(strings.ReplaceAll(guid, "-", ""))
		if err != nil {
			b.Fatal(err)
		}
		return append(append([]byte{0x01}, raw...), payload...)
	}
	valid := withGUID(v.GUID)

	// Random GUIDs, made before timing; past 1<<18 records they repeat.
	hostile := make([][]byte, 1<<18)
	for i := range hostile {
		g := make([]byte, 17, 17+len(payload))
		g[0] = 0x01
		_, _ = rand.Read(g[1:])
		hostile[i] = append(g, payload...)
	}
	run := func(b *testing.B, random bool) {
		var verdict record.Verdict
		var validTime time.Duration
		n := 0
		b.ReportAllocs()
		for b.Loop() {
			if random {
				bad := hostile[n%len(hostile)]
				if err := eng.ValidateContext(ctx, &record.Record{Topic: "raw", Value: bad}, &verdict); err != nil {
					b.Fatal(err)
				}
				if verdict.Valid() || verdict.Violations[0].Type != record.SchemaNotFound {
					b.Fatalf("a random GUID: %+v", verdict)
				}
			}
			start := time.Now()
			if err := eng.ValidateContext(ctx, &record.Record{Topic: "raw", Value: valid}, &verdict); err != nil {
				b.Fatal(err)
			}
			validTime += time.Since(start)
			n++
			if !verdict.Valid() {
				b.Fatalf("the valid record: %+v", verdict.Violations)
			}
		}
		b.ReportMetric(float64(validTime.Nanoseconds())/float64(n), "valid-ns/rec")
	}
	b.Run("valid", func(b *testing.B) { run(b, false) })
	b.Run("half-random", func(b *testing.B) { run(b, true) })
}
