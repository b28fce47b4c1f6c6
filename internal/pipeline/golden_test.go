package pipeline_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.yaml.in/yaml/v3"

	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/kafka"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/fs"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/rules"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/formats"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
	"github.com/dataquarantine/dataquarantine/internal/validate"
)

// The golden scenarios, testdata/scenarios/*.yaml, show what the gateway
// does with a record: each file's first YAML document is the scenario (the
// schema, rules and the records produced to raw-events), its second is
// what came out (every record on validated-events and quarantine-dlq with
// its headers, and every quarantine row with its payload as stored), as
// TestGoldenScenarios saw it through a real pipeline over kfake, SQLite and
// segment files.
//
// After a deliberate change of behaviour, rewrite the outcomes with
//
//	go test ./internal/pipeline -run TestGoldenScenarios -update
//
// and read the diff: it is the change as a user sees it.
var update = flag.Bool("update", false, "rewrite the outcomes of testdata/scenarios/*.yaml")

const goldenPreamble = "# What came out; written by go test ./internal/pipeline -run TestGoldenScenarios -update.\n"

// scenario is a golden file's first document.
type scenario struct {
	// Schema is the JSON Schema of subject user_event, bound to
	// raw-events. Default: the built-in user_event schema.
	Schema string `yaml:"schema"`
	// Rules are the version's business rules (docs/rules.md).
	Rules []rules.Spec `yaml:"rules"`
	// MaxBytes is the largest payload accepted. Default: the engine's.
	MaxBytes int `yaml:"max_bytes"`
	// Records are produced to partition 0 of raw-events, in order, at
	// goldenTime plus their index in milliseconds.
	Records []goldenRecord `yaml:"records"`
}

// goldenRecord is a Kafka record as a scenario or its outcome shows it:
// text as text, other bytes in base64; no key is a null key, no value a
// tombstone (a null value), which an outcome marks as one.
type goldenRecord struct {
	Key         *string        `yaml:"key,omitempty"`
	KeyBase64   *string        `yaml:"key_base64,omitempty"`
	Value       *string        `yaml:"value,omitempty"`
	ValueBase64 *string        `yaml:"value_base64,omitempty"`
	Tombstone   bool           `yaml:"tombstone,omitempty"`
	Headers     []goldenHeader `yaml:"headers,omitempty"`
}

type goldenHeader struct {
	Key         string  `yaml:"key"`
	Value       *string `yaml:"value,omitempty"`
	ValueBase64 *string `yaml:"value_base64,omitempty"`
}

// MarshalYAML writes a header on one line.
func (h goldenHeader) MarshalYAML() (any, error) {
	type plain goldenHeader // without this method
	var n yaml.Node
	if err := n.Encode(plain(h)); err != nil {
		return nil, err
	}
	n.Style = yaml.FlowStyle
	return &n, nil
}

// outcome is a golden file's second document.
type outcome struct {
	Clean []goldenRecord `yaml:"validated-events"`
	DLQ   []goldenRecord `yaml:"quarantine-dlq"`
	Rows  []goldenRow    `yaml:"rows"`
}

// goldenRow is a quarantine row, and the payload stored for it.
type goldenRow struct {
	ID            string             `yaml:"id"`
	Source        string             `yaml:"source"`
	Key           *string            `yaml:"key,omitempty"`
	KeyBase64     *string            `yaml:"key_base64,omitempty"`
	Timestamp     string             `yaml:"timestamp"`
	QuarantinedAt string             `yaml:"quarantined_at"`
	Schema        string             `yaml:"schema"`
	ErrorType     record.ErrorType   `yaml:"error_type"`
	ErrorField    string             `yaml:"error_field"`
	Errors        []record.Violation `yaml:"errors"`
	Status        quarantine.Status  `yaml:"status"`
	PayloadSize   int                `yaml:"payload_size"`
	Payload       goldenRecord       `yaml:"payload"`
}

// goldenTime is the scenarios' clock: the records' timestamps, the rules'
// now and the quarantine time.
var goldenTime = time.Date(2026, 1, 10, 19, 50, 0, 0, time.UTC)

func TestGoldenScenarios(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "scenarios", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(file)
			require.NoError(t, err)
			in, want, _ := bytes.Cut(src, []byte("\n---\n"))
			in = append(bytes.TrimRight(in, "\n"), '\n')
			var sc scenario
			dec := yaml.NewDecoder(bytes.NewReader(in))
			dec.KnownFields(true)
			require.NoError(t, dec.Decode(&sc), "the scenario")

			var out bytes.Buffer
			enc := yaml.NewEncoder(&out)
			enc.SetIndent(2)
			require.NoError(t, enc.Encode(runScenario(t, sc)))
			require.NoError(t, enc.Close())
			got := goldenPreamble + out.String()
			if *update {
				require.NoError(t, os.WriteFile(file, append(append(in, "---\n"...), got...), 0o644))
				return
			}
			require.Equal(t, string(want), got, "%s: what came out changed; if that is meant, run go test -update and read the diff", file)
		})
	}
}

// runScenario produces the scenario's records into a fresh broker, runs a
// pipeline until it has committed them all, and returns what came out.
func runScenario(t *testing.T, sc scenario) outcome {
	t.Helper()
	ctx := context.Background()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, rawTopic, cleanTopic, dlqTopic))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	addr := c.ListenAddrs()[0]

	dir := t.TempDir()
	meta, err := sqlite.New(sqlite.Options{Path: filepath.Join(dir, "dq.db")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, meta.Close()) })
	payloads, err := fs.New(fs.Options{Dir: filepath.Join(dir, "payloads")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, payloads.Close()) })

	src := []byte(sc.Schema)
	if sc.Schema == "" {
		cfg := config.Default()
		src, err = cfg.SchemaSource(0)
		require.NoError(t, err)
	}
	v, err := formats.Compile(schema.FormatJSON, "user_event", 1, src, formats.Options{})
	require.NoError(t, err)
	if len(sc.Rules) > 0 {
		v.Rules, err = rules.Compile(sc.Rules, rules.Options{})
		require.NoError(t, err)
	}
	res, err := schema.NewStatic(map[string]string{rawTopic: "user_event"}, []*schema.Version{v})
	require.NoError(t, err)
	now := func() time.Time { return goldenTime }
	engine, err := validate.New(validate.Options{Resolver: res, MaxBytes: sc.MaxBytes, Now: now})
	require.NoError(t, err)

	recs := make([]*kgo.Record, len(sc.Records))
	for i, r := range sc.Records {
		recs[i] = r.kafka(t, i)
	}
	prod, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	require.NoError(t, err)
	require.NoError(t, prod.ProduceSync(ctx, recs...).FirstErr())
	prod.Close()

	cl, err := kafka.NewGroupClient(kafka.GroupOptions{Brokers: []string{addr}, GroupID: "golden", Topics: []string{rawTopic}})
	require.NoError(t, err)
	defer cl.Close()
	committed, all := 0, make(chan struct{})
	p, err := pipeline.New(pipeline.Options{
		Client: cl, Engine: engine, Metadata: meta, Payloads: payloads,
		CleanTopic: cleanTopic, DLQTopic: dlqTopic, Now: now,
		OnCommit: func(batch []*kgo.Record) {
			if committed += len(batch); committed == len(recs) {
				close(all)
			}
		},
	})
	require.NoError(t, err)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	testwait.Recv(t, time.Minute, "every record committed", all)
	cancel()
	require.NoError(t, <-done)

	var out outcome
	out.Clean = readTopic(t, addr, cleanTopic)
	out.DLQ = readTopic(t, addr, dlqTopic)
	page, err := meta.List(ctx, quarantine.Filter{Limit: quarantine.MaxLimit})
	require.NoError(t, err)
	entries := page.Entries
	slices.SortFunc(entries, func(a, b quarantine.Entry) int { return int(a.SourceOffset - b.SourceOffset) })
	for _, e := range entries {
		stored, err := payloads.Read(ctx, e.Payload)
		require.NoError(t, err, "the payload of %s", e.ID)
		row := goldenRow{
			ID:            e.ID,
			Source:        fmt.Sprintf("%s/%d@%d", e.SourceTopic, e.SourcePartition, e.SourceOffset),
			Timestamp:     e.Timestamp.Format(time.RFC3339Nano),
			QuarantinedAt: e.QuarantinedAt.Format(time.RFC3339Nano),
			Schema:        fmt.Sprintf("%s v%d", e.Subject, e.SchemaVersion),
			ErrorType:     e.ErrorType,
			ErrorField:    e.ErrorField,
			Errors:        e.Errors,
			Status:        e.Status,
			PayloadSize:   e.PayloadSize,
			Payload:       newGoldenRecord(nil, stored.Value, stored.Headers),
		}
		row.Key, row.KeyBase64 = goldenBytes(e.Key)
		out.Rows = append(out.Rows, row)
	}
	return out
}

// kafka returns r as the i-th record of a scenario.
func (r goldenRecord) kafka(t *testing.T, i int) *kgo.Record {
	t.Helper()
	rec := &kgo.Record{Topic: rawTopic, Partition: 0, Timestamp: goldenTime.Add(time.Duration(i) * time.Millisecond)}
	rec.Key = fromGolden(t, r.Key, r.KeyBase64)
	rec.Value = fromGolden(t, r.Value, r.ValueBase64)
	require.Equal(t, r.Tombstone, rec.Value == nil, "record %d: a tombstone is a record without a value", i)
	for _, h := range r.Headers {
		rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: h.Key, Value: fromGolden(t, h.Value, h.ValueBase64)})
	}
	return rec
}

func fromGolden(t *testing.T, text, b64 *string) []byte {
	t.Helper()
	switch {
	case text != nil && b64 != nil:
		t.Fatalf("give a text or a base64 value, not both")
	case text != nil:
		return []byte(*text)
	case b64 != nil:
		b, err := base64.StdEncoding.DecodeString(*b64)
		require.NoError(t, err)
		return b
	}
	return nil
}

// goldenBytes shows b as text when it is UTF-8, else in base64; nil as
// neither.
func goldenBytes(b []byte) (text, b64 *string) {
	switch {
	case b == nil:
		return nil, nil
	case utf8.Valid(b):
		s := string(b)
		return &s, nil
	default:
		s := base64.StdEncoding.EncodeToString(b)
		return nil, &s
	}
}

func newGoldenRecord(key, value []byte, headers []record.Header) goldenRecord {
	var g goldenRecord
	g.Key, g.KeyBase64 = goldenBytes(key)
	g.Value, g.ValueBase64 = goldenBytes(value)
	g.Tombstone = value == nil
	for _, h := range headers {
		gh := goldenHeader{Key: h.Key}
		gh.Value, gh.ValueBase64 = goldenBytes(h.Value)
		g.Headers = append(g.Headers, gh)
	}
	return g
}

// readTopic returns every record of topic's partition 0, in order.
func readTopic(t *testing.T, addr, topic string) []goldenRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	require.NoError(t, err)
	end, ok := ends.Lookup(topic, 0)
	require.True(t, ok)
	require.NoError(t, end.Err)
	var out []goldenRecord
	for int64(len(out)) < end.Offset {
		fetches := cl.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "read %d of %d records of %s", len(out), end.Offset, topic)
		fetches.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, io.EOF) {
				require.NoError(t, err)
			}
		})
		fetches.EachRecord(func(r *kgo.Record) {
			hs := make([]record.Header, len(r.Headers))
			for i, h := range r.Headers {
				hs[i] = record.Header{Key: h.Key, Value: h.Value}
			}
			out = append(out, newGoldenRecord(r.Key, r.Value, hs))
		})
	}
	return out
}
