package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestValidateSecurityKeys covers the keys that close a door to hostile
// peers: http.allowed_hosts (DNS rebinding), kafka.embedded.allow_remote
// (an unauthenticated broker on the network).
func TestValidateSecurityKeys(t *testing.T) {
	t.Parallel()
	withToken := func(c *Config) {
		c.HTTP.Auth.Tokens = []Token{{Name: "admin", Role: RoleAdmin, Token: "0123456789abcdef"}}
	}
	tests := []struct {
		name    string
		change  func(*Config)
		wantErr string
	}{
		{"allowed hosts of every form", func(c *Config) {
			c.HTTP.AllowedHosts = []string{"gateway.internal", ".corp.example", "10.0.0.0/8", "192.0.2.7", "::1", "[2001:db8::1]", "dq_gw.local."}
		}, ""},
		{
			"allowed host with a port", func(c *Config) { c.HTTP.AllowedHosts = []string{"gateway.internal:8080"} },
			`http.allowed_hosts[0]: "gateway.internal:8080" is not a host name, IP address, .domain, CIDR prefix or *; ` +
				`give names without a scheme or port (gateway.example.com, not http://gateway.example.com:8080): every port is allowed`,
		},
		{
			"allowed host with a scheme", func(c *Config) { c.HTTP.AllowedHosts = []string{"https://gateway.internal"} },
			`http.allowed_hosts[0]: "https://gateway.internal" is not a host name, IP address, .domain, CIDR prefix or *; ` +
				`give names without a scheme or port (gateway.example.com, not http://gateway.example.com:8080): every port is allowed`,
		},
		{
			"allowed host empty", func(c *Config) { c.HTTP.AllowedHosts = []string{""} },
			`http.allowed_hosts[0]: "" is not a host name, IP address, .domain, CIDR prefix or *; ` +
				`give names without a scheme or port (gateway.example.com, not http://gateway.example.com:8080): every port is allowed`,
		},
		{
			"bad CIDR", func(c *Config) { c.HTTP.AllowedHosts = []string{"10.0.0.0/33"} },
			`http.allowed_hosts[0]: "10.0.0.0/33" is not a CIDR prefix such as 10.0.0.0/8`,
		},
		{
			"any host with auth off", func(c *Config) { c.HTTP.AllowedHosts = []string{"*"} },
			`http.allowed_hosts[0]: "*" answers requests under any host name, which with auth off (no http.auth.tokens) lets any web page ` +
				`drive the gateway through DNS rebinding: list the names clients use, or configure API tokens`,
		},
		{"any host with auth on", func(c *Config) { withToken(c); c.HTTP.AllowedHosts = []string{"*"} }, ""},
		{"embedded broker on every interface", func(c *Config) { c.Kafka.Embedded.Listen = "0.0.0.0:9092" }, embeddedErr(`"0.0.0.0:9092"`)},
		{"embedded broker on an empty host", func(c *Config) { c.Kafka.Embedded.Listen = ":9092" }, embeddedErr(`":9092"`)},
		{"embedded broker on a LAN address", func(c *Config) { c.Kafka.Embedded.Listen = "192.168.1.5:9092" }, embeddedErr(`"192.168.1.5:9092"`)},
		{"embedded broker on a host name", func(c *Config) { c.Kafka.Embedded.Listen = "kafka.internal:9092" }, embeddedErr(`"kafka.internal:9092"`)},
		{"embedded broker on IPv6 loopback", func(c *Config) { c.Kafka.Embedded.Listen = "[::1]:9092" }, ""},
		{"embedded broker on localhost", func(c *Config) { c.Kafka.Embedded.Listen = "localhost:0" }, ""},
		{"embedded broker remote, allowed", func(c *Config) {
			c.Kafka.Embedded.Listen = "0.0.0.0:9092"
			c.Kafka.Embedded.AllowRemote = true
		}, ""},
		{"instance id of a pod", func(c *Config) { c.Kafka.InstanceID = "dataquarantine-0" }, ""},
		{
			"instance id with a slash", func(c *Config) { c.Kafka.InstanceID = "ns/pod-0" },
			`kafka.instance_id: "ns/pod-0" is not a legal group instance id: at most 249 letters, digits, '.', '_' and '-' (Kafka's rule), such as a StatefulSet pod's name`,
		},
		{"embedded listen unused with external brokers", func(c *Config) {
			c.Kafka.Brokers = []string{"kafka:9092"}
			c.Kafka.Embedded.Listen = "0.0.0.0:9092"
		}, ""},
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

func embeddedErr(addr string) string {
	return "kafka.embedded.listen: " + addr + " is reachable from other machines, and the embedded broker has no authentication: " +
		"anyone who can reach it could read every topic and write straight into the clean topic, bypassing validation. " +
		"Listen on a loopback address such as 127.0.0.1:9092, use an external cluster (kafka.brokers), " +
		"or accept the risk with kafka.embedded.allow_remote: true (DQ_KAFKA_EMBEDDED_ALLOW_REMOTE=true)"
}

// TestValidateRefusesCyclicSchemas: the error the docs show, under the
// key; a file schema is named by its file key.
func TestValidateRefusesCyclicSchemas(t *testing.T) {
	t.Parallel()
	c := Default()
	c.Schemas[0].Schema = `{"$ref": "#"}`
	require.EqualError(t, c.Validate(), `schemas[0].schema: compiling schema "user_event": invalid JSON schema: reference cycle # -($ref)-> #: `+
		`each step applies a schema to the same value without moving into it, so validation could never end (recursion must go through properties, items or the like)`)

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "s.json"), []byte(`{"not": {"$ref": "#"}}`), 0o600))
	c = Default()
	c.Schemas[0].Schema, c.Schemas[0].File = "", filepath.Join(dir, "s.json")
	err := c.Validate()
	require.ErrorContains(t, err, "schemas[0].file: compiling schema \"user_event\": invalid JSON schema: reference cycle # -(not)-> #/not -($ref)-> #: ")

	c.Schemas[0].Type = SchemaTypeAvro
	require.NoError(t, c.Validate(), "an Avro schema is compiled at start, by the schema engine, not here")
}
