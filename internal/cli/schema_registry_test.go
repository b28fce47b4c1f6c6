package cli

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The registry subcommands against a real running gateway.
func TestSchemaRegistryCommands(t *testing.T) {
	t.Parallel()
	server := runningGateway(t)
	run := func(args ...string) (int, string, string) {
		return runCLI(t, "", nil, append(args, "--server", server)...)
	}

	dir := t.TempDir()
	v1 := writeFile(t, dir, "orders.v1.json", `{"type":"object","properties":{"id":{"type":"string"}},"additionalProperties":false}`)
	v2 := writeFile(t, dir, "orders.v2.json", `{"type":"object","properties":{"id":{"type":"string"},"note":{"type":"string"}},"additionalProperties":false}`)
	bad := writeFile(t, dir, "orders.bad.json", `{"type":"object","properties":{"id":{"type":"integer"}},"additionalProperties":false}`)

	code, out, errOut := run("schema", "register", "orders-value", v1)
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `^orders-value version 1 \(schema id \d+\)\n$`, out)
	code, out, _ = run("schema", "register", "orders-value", v1)
	require.Equal(t, 0, code, "re-registering is idempotent")
	require.Contains(t, out, "orders-value version 1 ")

	code, out, _ = run("schema", "check", "orders-value", v2)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "compatible with the latest version of orders-value")
	code, out, _ = run("schema", "check", "orders-value", bad)
	require.Equal(t, 1, code)
	require.Contains(t, out, "TYPE_CHANGED")
	code, _, errOut = run("schema", "register", "orders-value", bad)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "incompatible")

	code, out, errOut = run("schema", "register", "orders-value", v2)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "orders-value version 2 ")

	code, out, _ = run("schema", "list")
	require.Equal(t, 0, code)
	require.Regexp(t, `orders-value\s+versions 1 2\n`, out)
	require.Contains(t, out, "user_event", "the config's schema was loaded at start")

	code, out, _ = run("schema", "get", "orders-value")
	require.Equal(t, 0, code)
	require.Contains(t, out, `"version": 2`)
	code, out, _ = run("schema", "get", "orders-value", "1")
	require.Equal(t, 0, code)
	require.Contains(t, out, `"version": 1`)

	code, out, errOut = run("schema", "state", "orders-value", "2", "enforced")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "orders-value version 2 is now enforced\n", out)
	code, _, errOut = run("schema", "state", "orders-value", "2", "shiny")
	require.NotEqual(t, 0, code)
	require.NotEmpty(t, errOut)

	code, out, errOut = run("schema", "delete", "orders-value", "1")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "orders-value version 1 soft-deleted\n", out)
	code, _, errOut = run("schema", "get", "orders-value", "1")
	require.Equal(t, 1, code)
	require.NotEmpty(t, errOut)

	code, _, errOut = run("schema", "register", "orders-value")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "want SUBJECT FILE")
}

// schema register --rules sends the rules as a data-contract ruleSet, and
// schema get prints them; bad rules are refused before anything is sent.
func TestSchemaRegisterRules(t *testing.T) {
	t.Parallel()
	server := runningGateway(t)
	run := func(args ...string) (int, string, string) {
		return runCLI(t, "", nil, append(args, "--server", server)...)
	}
	dir := t.TempDir()
	sch := writeFile(t, dir, "events.json", `{"type":"object","properties":{"timestamp":{"type":"string"}}}`)
	good := writeFile(t, dir, "rules.yaml", `rules:
  - name: future_timestamp_check
    expr: timestamp(message.timestamp) <= now
    message: Timestamp cannot be in future
    field: /timestamp
`)
	bad := writeFile(t, dir, "bad.yaml", "- name: broken\n  expr: 'message.n >'\n")

	code, out, errOut := run("schema", "register", "events-value", sch)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "events-value version 1 ")
	code, out, errOut = run("schema", "register", "events-value", sch, "--rules", good)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "events-value version 2 ", "same text, new rules: a new version")
	code, out, errOut = run("schema", "register", "events-value", sch, "--rules", good)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "events-value version 2 ", "same rules again: idempotent")

	code, out, _ = run("schema", "get", "events-value", "2")
	require.Equal(t, 0, code)
	require.Contains(t, out, `"ruleSet": {`)
	require.Contains(t, out, `"name": "future_timestamp_check"`)
	require.Contains(t, out, `"kind": "CONDITION"`)
	require.Contains(t, out, `"message": "Timestamp cannot be in future"`)

	code, _, errOut = run("schema", "register", "events-value", sch, "--rules", bad)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "rules[0] (broken).expr")
	code, out, _ = run("schema", "list")
	require.Equal(t, 0, code)
	require.Regexp(t, `events-value\s+versions 1 2\n`, out)
}
