package config

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// asMap renders c through yaml.v3's own encoder, an oracle independent of
// this package's walk of the struct.
func asMap(t *testing.T, c Config) map[string]any {
	t.Helper()
	out, err := yaml.Marshal(c)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, yaml.Unmarshal(out, &m))
	return m
}

func setPath(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		m = m[p].(map[string]any)
	}
	m[parts[len(parts)-1]] = v
}

// sampleEnv returns a value for k's variable that differs from its default,
// and the value yaml.v3 decodes the resulting field to.
func sampleEnv(t *testing.T, k Key) (env string, want any) {
	t.Helper()
	switch k.Type {
	case "string":
		return "sample-" + k.Env, "sample-" + k.Env
	case "int", "int16", "int32", "int64":
		return " 7", 7
	case "bool":
		def, err := strconv.ParseBool(k.Default)
		require.NoError(t, err)
		return strconv.FormatBool(!def), !def
	case "float64":
		return "0.75", 0.75
	case "time.Duration":
		return "1m30s", "1m30s"
	case "[]string":
		return " a:1, ,b:2 ", []any{"a:1", "b:2"}
	case "[]config.Input":
		return "[{topic: t1, subject: s1}, {topic: t2, subject: s2}]", []any{
			map[string]any{"topic": "t1", "subject": "s1"},
			map[string]any{"topic": "t2", "subject": "s2"},
		}
	case "[]config.Token":
		// The token itself is a Secret: yaml.v3 sees it redacted.
		return "[{name: ci, role: operator, token: 0123456789abcdef0123}, {name: grafana, token_file: /run/secrets/t}]", []any{
			map[string]any{"name": "ci", "role": "operator", "token": "xxxxx", "token_file": ""},
			map[string]any{"name": "grafana", "role": "viewer", "token": "", "token_file": "/run/secrets/t"},
		}
	case "[]config.Import":
		return "[{topic: d1, from: connect, source_topic: orders}, {topic: d2, from: dq}]", []any{
			map[string]any{"topic": "d1", "from": "connect", "source_topic": "orders"},
			map[string]any{"topic": "d2", "from": "dq"},
		}
	case "[]config.Schema":
		return `[{subject: s1, schema: '{}'}, {subject: s2, type: AVRO, version: 3, file: s2.avsc}]`, []any{
			map[string]any{"subject": "s1", "type": "JSON", "version": 1, "file": "", "schema": "{}"},
			map[string]any{"subject": "s2", "type": "AVRO", "version": 3, "file": "s2.avsc", "schema": ""},
		}
	}
	t.Fatalf("no sample value for type %s (key %s): add one to sampleEnv", k.Type, k.Path)
	return "", nil
}

// TestEnvSetsEveryKey sets each key through its variable alone and checks
// that exactly that key changed.
func TestEnvSetsEveryKey(t *testing.T) {
	t.Parallel()
	for _, k := range Keys() {
		t.Run(k.Env, func(t *testing.T) {
			t.Parallel()
			value, want := sampleEnv(t, k)
			got, err := Load("", []string{k.Env + "=" + value})
			require.NoError(t, err)

			expected := asMap(t, Default())
			setPath(expected, k.Path, want)
			require.Equal(t, expected, asMap(t, got))
		})
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	keys := Keys()
	require.Len(t, keys, 58)
	seen := map[string]bool{}
	for _, k := range keys {
		require.False(t, seen[k.Env], "duplicate variable %s", k.Env)
		seen[k.Env] = true
		require.Equal(t, "DQ_"+strings.ToUpper(strings.ReplaceAll(k.Path, ".", "_")), k.Env)
	}
	byPath := map[string]Key{}
	for _, k := range keys {
		byPath[k.Path] = k
	}
	require.Equal(t, "data_dir", keys[0].Path, "keys are in field order")
	require.Equal(t, Key{Path: "kafka.group_id", Env: "DQ_KAFKA_GROUP_ID", Type: "string", Default: "dataquarantine"}, byPath["kafka.group_id"])
	require.Equal(t, Key{Path: "storage.metadata.url", Env: "DQ_STORAGE_METADATA_URL", Type: "string", Default: ""}, byPath["storage.metadata.url"])
	require.Equal(t, Key{Path: "topics.inputs", Env: "DQ_TOPICS_INPUTS", Type: "[]config.Input", Default: "[{topic: raw-events, subject: user_event}]"}, byPath["topics.inputs"])
	require.Equal(t, Key{Path: "storage.payloads.secret_key", Env: "DQ_STORAGE_PAYLOADS_SECRET_KEY", Type: "string", Default: ""}, byPath["storage.payloads.secret_key"])
	require.Equal(t, Key{Path: "pipeline.retry_backoff_min", Env: "DQ_PIPELINE_RETRY_BACKOFF_MIN", Type: "time.Duration", Default: "100ms"}, byPath["pipeline.retry_backoff_min"])

	// Every default but the documented exception reads back through its
	// own variable to the default value.
	for _, k := range keys {
		if strings.HasPrefix(k.Default, "(") {
			continue
		}
		got, err := Load("", []string{k.Env + "=" + k.Default})
		require.NoError(t, err, k.Env)
		require.Equal(t, asMap(t, Default()), asMap(t, got), k.Env)
	}
}

func TestEnvOverridesFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join("testdata", "full.good.yaml")
	fromFile, err := Load(file, nil)
	require.NoError(t, err)

	got, err := Load(file, []string{
		"PATH=/usr/bin", // not ours: ignored
		"DQ_KAFKA_GROUP_ID=from-env",
		"DQ_KAFKA_BROKERS=", // empty: back to the embedded broker
		"DQ_PIPELINE_RETRY_BACKOFF_MAX=1m",
		"DQ_TOPICS_INPUTS=[{topic: raw-events, subject: user_event}]",
	})
	require.NoError(t, err)

	want := fromFile
	want.Kafka.GroupID = "from-env"
	want.Kafka.Brokers = []string{}
	want.Pipeline.RetryBackoffMax = time.Minute
	want.Topics.Inputs = []Input{{Topic: "raw-events", Subject: "user_event"}}
	require.Equal(t, want, got)
	require.Equal(t, "dq-prod-1", got.Kafka.ClientID, "a key set only in the file keeps the file's value")
	require.NoError(t, got.Validate())
}

func TestEnvListOfStructs(t *testing.T) {
	t.Parallel()
	got, err := Load("", []string{
		"DQ_TOPICS_INPUTS=[{topic: raw-events, subject: user_event}, {topic: raw-orders, subject: order}]",
		// Block style works too; list elements start from their defaults.
		"DQ_SCHEMAS=- subject: user_event\n  schema: '{\"type\": \"object\"}'\n- {subject: order, version: 2, schema: '{}'}\n",
	})
	require.NoError(t, err)
	require.Equal(t, []Input{{Topic: "raw-events", Subject: "user_event"}, {Topic: "raw-orders", Subject: "order"}}, got.Topics.Inputs)
	require.Equal(t, []Schema{
		{Subject: "user_event", Type: "JSON", Version: 1, Schema: `{"type": "object"}`},
		{Subject: "order", Type: "JSON", Version: 2, Schema: "{}"},
	}, got.Schemas)
	require.NoError(t, got.Validate())
}

func TestEnvBadValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		environ []string
		want    string
	}{
		{"int", []string{"DQ_KAFKA_PARTITIONS=six"}, `DQ_KAFKA_PARTITIONS (kafka.partitions): want an integer, got "six"`},
		{"int out of range", []string{"DQ_KAFKA_REPLICATION_FACTOR=40000"}, `DQ_KAFKA_REPLICATION_FACTOR (kafka.replication_factor): 40000 is out of range for int16`},
		{"empty int", []string{"DQ_LIMITS_MAX_DEPTH="}, `DQ_LIMITS_MAX_DEPTH (limits.max_depth): want an integer, got ""`},
		{"bool", []string{"DQ_KAFKA_CREATE_TOPICS=yes"}, `DQ_KAFKA_CREATE_TOPICS (kafka.create_topics): want true or false, got "yes"`},
		{"duration without unit", []string{"DQ_PIPELINE_RETRY_BACKOFF_MIN=100"}, `DQ_PIPELINE_RETRY_BACKOFF_MIN (pipeline.retry_backoff_min): want a duration such as 250ms or 1m30s, got "100" (add a unit)`},
		{"duration", []string{"DQ_PIPELINE_RETRY_BACKOFF_MAX=soon"}, `DQ_PIPELINE_RETRY_BACKOFF_MAX (pipeline.retry_backoff_max): want a duration such as 250ms or 1m30s, got "soon"`},
		{
			"long value cut short",
			[]string{"DQ_KAFKA_PARTITIONS=" + strings.Repeat("x", 100)},
			`DQ_KAFKA_PARTITIONS (kafka.partitions): want an integer, got "` + strings.Repeat("x", 64) + `"... (100 bytes)`,
		},
		{"float", []string{"DQ_DEMO_INVALID_SHARE=most"}, `DQ_DEMO_INVALID_SHARE (demo.invalid_share): want a number, got "most"`},
		{"list syntax", []string{"DQ_TOPICS_INPUTS=[{topic: raw-events, subject: user_event}"}, `DQ_TOPICS_INPUTS (topics.inputs): want a YAML list such as [{key: value}]: yaml: line 1: did not find expected ',' or ']'`},
		{"list not a list", []string{"DQ_SCHEMAS={subject: x, schema: '{}'}"}, `DQ_SCHEMAS (schemas): want a list of mappings, got a mapping`},
		{"list unknown key", []string{"DQ_TOPICS_INPUTS=[{topik: raw-events, subject: user_event}]"}, `DQ_TOPICS_INPUTS (topics.inputs[0].topik): unknown key (did you mean topics.inputs[0].topic?)`},
		{"list element type", []string{"DQ_SCHEMAS=[{subject: x, version: two, schema: '{}'}]"}, `DQ_SCHEMAS (schemas[0].version): want an integer, got "two"`},
		{
			"all reported, by name",
			[]string{"DQ_LOG_LEVEL=debug", "DQ_KAFKA_PARTITIONS=x", "DQ_DEMO_RATE=y"},
			"DQ_DEMO_RATE (demo.rate): want an integer, got \"y\"\nDQ_KAFKA_PARTITIONS (kafka.partitions): want an integer, got \"x\"",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load("", tt.environ)
			require.EqualError(t, err, tt.want)
		})
	}
}

func TestEnvUnknownVariable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, variable, want string
	}{
		{"missing letter", "DQ_KAFKA_BROKER", "DQ_KAFKA_BROKER: unknown configuration variable (did you mean DQ_KAFKA_BROKERS?)"},
		{"missing underscore", "DQ_KAFKA_GROUPID", "DQ_KAFKA_GROUPID: unknown configuration variable (did you mean DQ_KAFKA_GROUP_ID?)"},
		{"abbreviation", "DQ_LOG_LVL", "DQ_LOG_LVL: unknown configuration variable (did you mean DQ_LOG_LEVEL?)"},
		{"list element", "DQ_SCHEMAS_0_FILE", "DQ_SCHEMAS_0_FILE: unknown configuration variable (DQ_SCHEMAS is set as a whole list, e.g. DQ_SCHEMAS='[{...}]')"},
		{"section", "DQ_KAFKA", "DQ_KAFKA: unknown configuration variable"},
		{"unrelated", "DQ_TOTALLY_UNRELATED", "DQ_TOTALLY_UNRELATED: unknown configuration variable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load("", []string{tt.variable + "=1"})
			require.EqualError(t, err, tt.want)
		})
	}
}

func TestEnvIgnoresOtherVariables(t *testing.T) {
	t.Parallel()
	got, err := Load("", []string{"PATH=/bin", "DQX_FOO=1", "dq_kafka_brokers=x:1", "NOEQUALSIGN", "=C:=C:\\"})
	require.NoError(t, err)
	require.Equal(t, Default(), got)
}

// DQ_TOKEN and DQ_SERVER are the client commands' API token and gateway
// URL, not configuration keys.
func TestClientVariablesIgnored(t *testing.T) {
	t.Parallel()
	got, err := Load("", []string{"DQ_TOKEN=some-token-0123456789", "DQ_SERVER=http://127.0.0.1:8081"})
	require.NoError(t, err)
	require.Equal(t, Default(), got)
	for _, k := range Keys() {
		require.NotContains(t, clientVariables, k.Env)
	}
}
