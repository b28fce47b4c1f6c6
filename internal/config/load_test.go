package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/rules"
)

var update = flag.Bool("update", false, "rewrite the golden .err files of testdata/*.bad.yaml")

// TestBadConfigs loads and validates each testdata/*.bad.yaml and compares
// the error text with its golden *.bad.yaml.err file (go test -update
// rewrites them; review the diff).
func TestBadConfigs(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*.bad.yaml"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 15, "at least 15 distinct mistakes")
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".bad.yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(file, nil)
			if err == nil {
				err = c.Validate()
			}
			require.Error(t, err, "a bad config must be refused")
			got := err.Error() + "\n"

			golden := file + ".err"
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
				return
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "no golden file: run go test -update and review it")
			require.Equal(t, string(want), got)
		})
	}
}

// TestGoldenFilesHaveConfigs catches a golden file left behind by a renamed
// or deleted bad config.
func TestGoldenFilesHaveConfigs(t *testing.T) {
	t.Parallel()
	goldens, err := filepath.Glob(filepath.Join("testdata", "*.bad.yaml.err"))
	require.NoError(t, err)
	for _, g := range goldens {
		_, err := os.Stat(strings.TrimSuffix(g, ".err"))
		require.NoError(t, err, "golden file %s has no config", g)
	}
}

func TestGoodConfigs(t *testing.T) {
	t.Parallel()
	withDir := func(c Config, dir string) Config { c.dir = dir; return c }
	full := Config{
		DataDir: "/var/lib/dataquarantine",
		Kafka: Kafka{
			Brokers:           []string{"kafka-1.internal:9092", "kafka-2.internal:9092"},
			Embedded:          Embedded{Listen: "127.0.0.1:19092"},
			GroupID:           "dq-prod",
			ClientID:          "dq-prod-1",
			CreateTopics:      false,
			Partitions:        12,
			ReplicationFactor: 3,
			SessionTimeout:    30 * time.Second,
			Compression:       "lz4",
		},
		Topics: Topics{
			Inputs: []Input{
				{Topic: "raw-events", Subject: "user_event"},
				{Topic: "raw-orders", Subject: "order", Fallback: "none"},
				{Topic: "raw-payments", Subject: "payment", Mode: ModeObserve, ObservedRows: true},
			},
			Clean:      "validated-events",
			DLQ:        "quarantine-dlq",
			DLQHeaders: DLQHeadersConnect,
			Imports: []Import{
				{Topic: "connect-dlq-s3-sink", From: FromConnect, SourceTopic: "orders"},
				{Topic: "orders-rules-dlq", From: FromConfluent},
			},
		},
		Schemas: []Schema{
			{Subject: "user_event", Type: "JSON", Version: 2, Schema: `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {
    "user_id": {"type": "string", "pattern": "^USER[0-9]{6}$"},
    "event_type": {"type": "string", "enum": ["view", "click", "purchase", "refund"]},
    "timestamp": {"type": "string", "format": "date-time"}
  },
  "required": ["user_id", "event_type", "timestamp"]
}
`, Rules: []rules.Spec{{
				Name:    "future_timestamp_check",
				Expr:    "timestamp(message.timestamp) <= now",
				Message: "Timestamp cannot be in future",
				Field:   "/timestamp",
			}}},
			{Subject: "order", Type: "JSON", Version: 1, File: "schemas/order.schema.json"},
			{Subject: "payment", Type: "AVRO", Version: 1, Schema: `{"type": "record", "name": "Payment", "namespace": "com.example",
 "fields": [{"name": "id", "type": "string"}, {"name": "amount", "type": "double"}]}
`},
		},
		Storage: Storage{
			Metadata: Metadata{URL: "postgres://dataquarantine:change-me@db.internal:5432/dataquarantine?sslmode=verify-full"},
			Payloads: Payloads{
				URL:       "s3://dq-payloads?endpoint=minio.internal:9000&region=eu-west-1",
				AccessKey: "dataquarantine",
				SecretKey: "change-me-too",
			},
		},
		Retention: Retention{MaxAge: 720 * time.Hour, Interval: 30 * time.Minute},
		Limits:    Limits{MaxBytes: 262144, MaxDepth: 32, AllowDuplicateKeys: true},
		Pipeline: Pipeline{
			BatchSize: 1000, RetryBackoffMin: 250 * time.Millisecond, RetryBackoffMax: 30 * time.Second,
			MaxBatchHold: 20 * time.Second, StallTimeout: 5 * time.Minute,
		},
		HTTP: HTTP{Listen: "0.0.0.0:8080", Auth: Auth{
			Tokens: []Token{
				{Name: "ops-team", Role: RoleOperator, TokenFile: "secrets/ops-team.token"},
				{Name: "grafana", Role: RoleViewer, Token: "change-me-to-a-long-random-string"},
			},
			PublicMetrics: true,
		}},
		Log:  Log{Level: "debug", Format: "json"},
		Demo: Demo{Enabled: true, Rate: 200, InvalidShare: 0.35},
		Circuit: Circuit{
			Enabled: true, Threshold: 0.6, Window: 10 * time.Minute, MinRecords: 500,
			Cooldown: 15 * time.Minute, WebhookURL: "https://hooks.example.com/dq",
		},
		Registry: Registry{RefreshInterval: 30 * time.Second},
		Reprocess: Reprocess{
			MaxReplays: 5, BatchSize: 200, MaxAttempts: 10, Lease: 2 * time.Minute, ScanInterval: time.Minute,
		},
		UI:     UI{PrometheusURL: "http://prometheus:9090"},
		Shadow: Shadow{Sample: 0.25},
		dir:    "testdata",
	}
	partial := withDir(Default(), "testdata")
	partial.Kafka.Brokers = []string{"localhost:9092", "localhost:9093"}
	partial.Pipeline.RetryBackoffMax = 90 * time.Second
	partial.Topics.Inputs = []Input{
		{Topic: "raw-events", Subject: "user_event"},
		{Topic: "raw-events-replay", Subject: "user_event"},
	}
	partial.Demo.Enabled = true

	tests := []struct {
		file string
		want Config
	}{
		{"full.good.yaml", full},
		{"partial.good.yaml", partial},
		{"empty.good.yaml", withDir(Default(), "testdata")},
		{"comments.good.yaml", withDir(Default(), "testdata")},
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.good.yaml"))
	require.NoError(t, err)
	require.Len(t, files, len(tests), "every testdata/*.good.yaml needs a case here")
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got, err := Load(filepath.Join("testdata", tt.file), nil)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.NoError(t, got.Validate())
		})
	}
}

func TestLoadWithoutFileIsDefault(t *testing.T) {
	t.Parallel()
	got, err := Load("", nil)
	require.NoError(t, err)
	require.Equal(t, Default(), got)
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join("testdata", "no-such.yaml"), nil)
	require.EqualError(t, err, "reading config file: open testdata/no-such.yaml: no such file or directory")
	require.ErrorIs(t, err, os.ErrNotExist)
}

// TestLoadReportsFileAndEnvTogether: one run shows every problem, wherever it
// is.
func TestLoadReportsFileAndEnvTogether(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join("testdata", "wrong_type.bad.yaml"), []string{"DQ_DEMO_RATE=fast"})
	require.EqualError(t, err, `testdata/wrong_type.bad.yaml:2: kafka.partitions: want an integer, got "six"
DQ_DEMO_RATE (demo.rate): want an integer, got "fast"`)
}

// TestDecodeErrorsAreBounded: a file wrong everywhere gives a bounded list.
func TestDecodeErrorsAreBounded(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("kafka:\n")
	for i := range 100 {
		b.WriteString("  unknown_" + string(rune('a'+i%26)) + strings.Repeat("x", i) + ": 1\n")
	}
	path := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	_, err := Load(path, nil)
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, maxDecodeErrors+1)
	require.Equal(t, errTooMany.Error(), lines[len(lines)-1])
}
