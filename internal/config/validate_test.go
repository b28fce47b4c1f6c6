package config

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/rules"
)

// TestValidateEdges covers boundaries that YAML golden files express poorly:
// each case changes Default and expects no error or exactly wantErr.
func TestValidateEdges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		change  func(*Config)
		wantErr string
	}{
		{"IPv6 broker", func(c *Config) { c.Kafka.Brokers = []string{"[::1]:9092", "kafka:9093"} }, ""},
		{"listen on all interfaces, any port", func(c *Config) {
			c.HTTP.Listen = ":0"
			c.Kafka.Embedded.Listen = "[::]:0"
			c.Kafka.Embedded.AllowRemote = true
			c.HTTP.Auth.Tokens = []Token{{Name: "admin", Role: RoleAdmin, Token: "0123456789abcdef"}}
		}, ""},
		{"embedded broker advertising a name", func(c *Config) { c.Kafka.Embedded.Advertise = "broker.example:9092" }, ""},
		{"embedded broker advertising its bound port", func(c *Config) { c.Kafka.Embedded.Advertise = "10.0.0.5:0" }, ""},
		{
			"embedded broker advertising a wildcard", func(c *Config) { c.Kafka.Embedded.Advertise = "0.0.0.0:9092" },
			`kafka.embedded.advertise: "0.0.0.0:9092" is not an address a client can connect to: name this machine as clients reach it (broker.example:9092)`,
		},
		{
			"embedded broker advertising no host", func(c *Config) { c.Kafka.Embedded.Advertise = ":9092" },
			`kafka.embedded.advertise: ":9092" is not an address a client can connect to: name this machine as clients reach it (broker.example:9092)`,
		},
		{"auth off on IPv6 loopback", func(c *Config) { c.HTTP.Listen = "[::1]:8080" }, ""},
		{"auth off on localhost", func(c *Config) { c.HTTP.Listen = "localhost:8080" }, ""},
		{"auth off on 127.0.0.2", func(c *Config) { c.HTTP.Listen = "127.0.0.2:8080" }, ""},
		{"auth off on all interfaces", func(c *Config) { c.HTTP.Listen = "0.0.0.0:8080" }, noAuthErr(`"0.0.0.0:8080"`)},
		{"auth off on an empty host", func(c *Config) { c.HTTP.Listen = ":8080" }, noAuthErr(`":8080"`)},
		{"auth off on IPv6 any", func(c *Config) { c.HTTP.Listen = "[::]:8080" }, noAuthErr(`"[::]:8080"`)},
		{"auth off on a LAN address", func(c *Config) { c.HTTP.Listen = "192.168.1.10:8080" }, noAuthErr(`"192.168.1.10:8080"`)},
		{"auth off on a host name", func(c *Config) { c.HTTP.Listen = "gateway.internal:8080" }, noAuthErr(`"gateway.internal:8080"`)},
		{"token of 16 characters", func(c *Config) {
			c.HTTP.Auth.Tokens = []Token{{Name: "a", Role: RoleViewer, Token: "0123456789abcdef"}}
		}, ""},
		{"token of 15 characters", func(c *Config) {
			c.HTTP.Auth.Tokens = []Token{{Name: "a", Role: RoleViewer, Token: "0123456789abcde"}}
		}, "http.auth.tokens[0].token: too short: a token must be at least 16 characters (got 15); generate one with: openssl rand -hex 32"},
		{"broker port 0", func(c *Config) { c.Kafka.Brokers = []string{"kafka:0"} }, `kafka.brokers[0]: "kafka:0": port must be a number from 1 to 65535`},
		{"empty broker", func(c *Config) { c.Kafka.Brokers = []string{""} }, `kafka.brokers[0]: "" is not host:port (missing port in address)`},
		{"partitions at limits", func(c *Config) { c.Kafka.Partitions = 10000 }, ""},
		{"partitions over", func(c *Config) { c.Kafka.Partitions = 10001 }, "kafka.partitions: must be at most 10000, got 10001"},
		{"replication factor 1", func(c *Config) { c.Kafka.ReplicationFactor = 1 }, ""},
		{"retention 1h", func(c *Config) { c.Retention.MaxAge = time.Hour }, ""},
		{"retention 30m", func(c *Config) { c.Retention.MaxAge = 30 * time.Minute }, "retention.max_age: must be 0 (keep forever) or at least 1h, got 30m0s"},
		{"retention -1h", func(c *Config) { c.Retention.MaxAge = -time.Hour }, "retention.max_age: must be 0 (keep forever) or at least 1h, got -1h0m0s"},
		{"retention interval 1s", func(c *Config) { c.Retention.Interval = time.Second }, "retention.interval: must be at least 1m, got 1s"},
		{"session timeout 6s", func(c *Config) { c.Kafka.SessionTimeout = 6 * time.Second }, ""},
		{"session timeout 500ms", func(c *Config) { c.Kafka.SessionTimeout = 500 * time.Millisecond }, "kafka.session_timeout: must be at least 1s, got 500ms"},
		{"replication factor -2", func(c *Config) { c.Kafka.ReplicationFactor = -2 }, "kafka.replication_factor: must be -1 (the broker's default) or at least 1, got -2"},
		{"topic of 249 characters", func(c *Config) { c.Topics.Clean = strings.Repeat("a", 249) }, ""},
		{"topic with every legal character", func(c *Config) { c.Topics.DLQ = "aZ09._-" }, ""},
		{"topic with non-ASCII letter", func(c *Config) { c.Topics.DLQ = "quarantäne" }, `topics.dlq: "quarantäne" is not a legal topic name: use only letters, digits, '.', '_' and '-'`},
		{"single dot", func(c *Config) { c.Topics.DLQ = "." }, `topics.dlq: "." is not a legal topic name`},
		{"max bytes at limit", func(c *Config) { c.Limits.MaxBytes = 64 << 20 }, ""},
		{"max depth over", func(c *Config) { c.Limits.MaxDepth = 1001 }, "limits.max_depth: must be at most 1000, got 1001"},
		{"equal backoffs", func(c *Config) { c.Pipeline.RetryBackoffMax = c.Pipeline.RetryBackoffMin }, ""},
		{"negative backoff", func(c *Config) { c.Pipeline.RetryBackoffMin = -1 }, "pipeline.retry_backoff_min: must be positive, got -1ns"},
		{"invalid share bounds", func(c *Config) { c.Demo.InvalidShare = 1 }, ""},
		{"invalid share NaN", func(c *Config) { c.Demo.InvalidShare = math.NaN() }, "demo.invalid_share: must be between 0 and 1, got NaN"},
		{"demo rate over", func(c *Config) { c.Demo.Rate = 100001 }, "demo.rate: must be at most 100000, got 100001"},
		{"blank data dir", func(c *Config) { c.DataDir = "  " }, "data_dir: must not be empty"},
		{"empty input subject", func(c *Config) { c.Topics.Inputs[0].Subject = "" }, "topics.inputs[0].subject: must not be empty"},
		{"same subject, two versions", func(c *Config) {
			v2 := c.Schemas[0]
			v2.Version = 2
			c.Schemas = append(c.Schemas, v2)
		}, ""},
		{"protobuf", func(c *Config) { c.Schemas[0].Type = "PROTOBUF" }, ""}, // compiled at start, not here
		{"avro", func(c *Config) {
			c.Schemas[0].Type = "AVRO"
			c.Schemas[0].Schema = `{"type": "record", "name": "UserEvent", "fields": [{"name": "user_id", "type": "string"}]}`
		}, ""},
		{"avro that is not JSON", func(c *Config) {
			c.Schemas[0].Type = "AVRO"
			c.Schemas[0].Schema = `record UserEvent { string user_id; }`
		}, "schemas[0].schema: not valid JSON: invalid character 'r' looking for beginning of value (at byte 1)"},
		{"rules on a schema", func(c *Config) {
			c.Schemas[0].Rules = []rules.Spec{{Name: "future", Expr: "timestamp(message.timestamp) <= now"}}
		}, ""},
		{"rule with a compile error", func(c *Config) {
			c.Schemas[0].Rules = []rules.Spec{{Name: "ok", Expr: "true"}, {Name: "future", Expr: "timestamp(message.timestamp) <="}}
		}, "schemas[0].rules[1].expr: 1:32: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}"},
		{"log level case", func(c *Config) { c.Log.Level = "INFO" }, `log.level: "INFO" is not one of debug, info, warn, error`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			tt.change(&c)
			err := c.Validate()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.wantErr)
		})
	}
}

func noAuthErr(addr string) string {
	return "http.listen: " + addr + ` is reachable from other machines, and http.auth.tokens is empty (auth off): anyone who can reach it could read quarantined data and change schemas. Configure at least one API token (http.auth.tokens, or DQ_HTTP_AUTH_TOKENS='[{name: admin, role: admin, token_file: /run/secrets/dq-admin-token}]'; see docs/operations.md, "Securing the gateway"), or listen on a loopback address such as 127.0.0.1:8080`
}
