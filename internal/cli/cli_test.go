package cli

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	twmbavro "github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/sr"
)

const userEvent = `{
  "type": "object",
  "properties": {
    "user_id": {"type": "string", "pattern": "^USER[0-9]{6}$"},
    "event_type": {"type": "string", "enum": ["view", "click", "purchase"]},
    "timestamp": {"type": "string", "format": "date-time"}
  },
  "required": ["user_id", "event_type", "timestamp"]
}`

func runCLI(t *testing.T, stdin string, environ []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(context.Background(), Env{Args: args, Environ: environ, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut})
	return code, out.String(), errOut.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestValidateCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	schemaFile := writeFile(t, dir, "user_event.json", userEvent)
	badSchema := writeFile(t, dir, "bad.json", `{"type": "strnig"}`)
	good := `{"user_id":"USER123456","event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`
	input := writeFile(t, dir, "in.jsonl", good+"\n\n"+`{"event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`+"\n")

	cases := []struct {
		name       string
		stdin      string
		args       []string
		wantCode   int
		wantOut    string
		wantErrHas string
	}{
		{
			"all valid from stdin", good + "\n" + good,
			[]string{"--schema", schemaFile},
			0,
			"line 1: valid\nline 2: valid\n", "2 records: 2 valid, 0 invalid",
		},
		{"stdin as dash", good, []string{"--schema", schemaFile, "-"}, 0, "line 1: valid\n", ""},
		{
			"invalid line from file, blank line skipped", "",
			[]string{"--schema", schemaFile, input},
			1,
			"line 1: valid\nline 3: invalid: MISSING_FIELD at /user_id: missing required property \"user_id\"\n", "2 records: 1 valid, 1 invalid",
		},
		{
			"quiet prints only invalid", "",
			[]string{"--schema", schemaFile, "--quiet", input},
			1,
			"line 3: invalid: MISSING_FIELD at /user_id: missing required property \"user_id\"\n", "",
		},
		{
			"json output", `{"user_id":"USER123456","event_type":"scroll","timestamp":"2026-01-10T19:50:00Z"}`,
			[]string{"--schema", schemaFile, "--json"},
			1,
			`{"line":1,"valid":false,"errors":[{"type":"ENUM_VIOLATION","field":"/event_type","keyword":"enum","message":`, "",
		},
		{"malformed JSON", `{"user_id":`, []string{"--schema", schemaFile}, 1, "line 1: invalid: PARSE_ERROR at /user_id: unexpected end of input", ""},
		{"too large", good, []string{"--schema", schemaFile, "--max-bytes", "20"}, 1, "line 1: invalid: PAYLOAD_TOO_LARGE at (record)", ""},
		{"missing --schema", good, nil, 2, "", "--schema is required"},
		{"unreadable schema", good, []string{"--schema", filepath.Join(dir, "nope.json")}, 2, "", "reading schema"},
		{"schema that does not compile", good, []string{"--schema", badSchema}, 2, "", "bad.json"},
		{"missing input file", "", []string{"--schema", schemaFile, filepath.Join(dir, "nope.jsonl")}, 2, "", "no such file"},
		{"two inputs", "", []string{"--schema", schemaFile, input, input}, 2, "", "at most one INPUT"},
		{"unknown flag", "", []string{"--schema", schemaFile, "--nope"}, 2, "", "flag provided but not defined"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCLI(t, c.stdin, nil, append([]string{"validate"}, c.args...)...)
			require.Equal(t, c.wantCode, code, "stdout: %s\nstderr: %s", out, errOut)
			if strings.HasSuffix(c.wantOut, "\n") {
				require.Equal(t, c.wantOut, out)
			} else {
				require.Contains(t, out, c.wantOut)
			}
			require.Contains(t, errOut, c.wantErrHas)
		})
	}
}

// Every command and subcommand has --help, which lists its exit statuses.
func TestHelpOnEveryCommand(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, "", nil, "--help")
	require.Equal(t, 0, code)
	require.Contains(t, out, "exit statuses")
	groups := map[string][]command{"schema": schemaCommands, "quarantine": quarantineCommands, "dlq": dlqCommands}
	for _, c := range commands {
		require.Contains(t, out, c.name)
		subs, isGroup := groups[c.name]
		if isGroup {
			code, out, errOut := runCLI(t, "", nil, c.name, "--help")
			require.Equal(t, 0, code, c.name)
			require.Empty(t, errOut)
			require.Contains(t, out, "exit", c.name)
		} else {
			subs = []command{{name: ""}}
		}
		for _, sub := range subs {
			name := strings.TrimSpace(c.name + " " + sub.name)
			args := append(strings.Fields(name), "--help")
			code, out, errOut := runCLI(t, "", nil, args...)
			require.Equal(t, 0, code, name)
			require.Contains(t, out, "Usage:\n  dataquarantine "+name, name)
			require.Regexp(t, `\nExit status:\n  0  .+\n(?:.*\n)*  2  .+\n$`, out, "%s --help lists its exit statuses", name)
			require.Empty(t, errOut)
		}
	}
	code, _, errOut := runCLI(t, "", nil, "frobnicate")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `unknown command "frobnicate"`)
	code, _, _ = runCLI(t, "", nil)
	require.Equal(t, 2, code)
}

func TestServeFlagsDocumented(t *testing.T) {
	t.Parallel()
	_, out, _ := runCLI(t, "", nil, "serve", "--help")
	for _, f := range []string{"-config", "-data-dir", "-http", "-brokers", "-embedded-kafka", "-demo"} {
		require.Contains(t, out, f)
	}
}

func TestServeRefusesBadConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, _, errOut := runCLI(t, "", []string{"DQ_KAFKA_PARTITIONS=0"}, "serve", "--data-dir", dir)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "kafka.partitions")

	cfgFile := writeFile(t, dir, "dq.yaml", "kafka:\n  brokerz: [a:1]\n")
	code, _, errOut = runCLI(t, "", nil, "serve", "--config", cfgFile)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "brokerz")

	code, _, errOut = runCLI(t, "", nil, "serve", "--brokers", "not-a-hostport", "--data-dir", dir)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "kafka.brokers")
}

func TestVersion(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, "", nil, "version")
	require.Equal(t, 0, code)
	require.Equal(t, "dataquarantine "+Version()+"\n", out)
}

func TestValidateRules(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	schemaFile := writeFile(t, dir, "user_event.json", userEvent)
	bare := writeFile(t, dir, "rules.yaml", `
- name: future_timestamp_check
  expr: timestamp(message.timestamp) <= now
  message: Timestamp cannot be in future
  field: /timestamp
- name: purchase_page
  expr: message.event_type != 'purchase' || has(message.page)
  message: a purchase needs its page
`)
	wrapped := writeFile(t, dir, "wrapped.yaml", "rules:\n  - name: views_only\n    expr: message.event_type == 'view'\n")
	broken := writeFile(t, dir, "broken.yaml", "- name: bad\n  expr: message.timestamp >\n")
	typo := writeFile(t, dir, "typo.yaml", "- name: bad\n  expression: message.amount > 0\n")
	empty := writeFile(t, dir, "empty.yaml", "# nothing yet\n")
	past := `{"user_id":"USER123456","event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`
	future := `{"user_id":"USER123456","event_type":"view","timestamp":"2999-01-10T19:50:00Z"}`
	purchase := `{"user_id":"USER123456","event_type":"purchase","timestamp":"2026-01-10T19:50:00Z"}`
	schemaInvalid := `{"user_id":"nope","event_type":"purchase","timestamp":"2999-01-10T19:50:00Z"}`

	cases := []struct {
		name       string
		stdin      string
		rules      string
		wantCode   int
		wantOut    string
		wantErrHas string
	}{
		{"rules pass", past, bare, 0, "line 1: valid\n", "1 records: 1 valid, 0 invalid"},
		{
			"future timestamp is a rule violation", future, bare, 1,
			"line 1: invalid: RULE_VIOLATION at /timestamp: Timestamp cannot be in future\n", "",
		},
		{
			"every failed rule is listed", strings.Replace(future, "view", "purchase", 1), bare, 1,
			"line 1: invalid: RULE_VIOLATION at /timestamp: Timestamp cannot be in future; RULE_VIOLATION at (record): a purchase needs its page\n", "",
		},
		{"cross-field rule", purchase, bare, 1, "line 1: invalid: RULE_VIOLATION at (record): a purchase needs its page\n", ""},
		{"schema errors come first, rules do not run", schemaInvalid, bare, 1, "line 1: invalid: PATTERN_MISMATCH at /user_id: ", ""},
		{"rules under a rules key", purchase, wrapped, 1, "line 1: invalid: RULE_VIOLATION at (record): failed rule views_only: message.event_type == 'view'\n", ""},
		{"rule that does not compile", past, broken, 2, "", "broken.yaml: compiling rules: rules[0] (bad).expr: 1:20: Syntax error"},
		{"unknown key", past, typo, 2, "", "field expression not found"},
		{"no rules", past, empty, 2, "", "no rules in the file"},
		{"missing rules file", past, filepath.Join(dir, "nope.yaml"), 2, "", "reading rules"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCLI(t, c.stdin, nil, "validate", "--schema", schemaFile, "--rules", c.rules)
			require.Equal(t, c.wantCode, code, "stdout: %s\nstderr: %s", out, errOut)
			if strings.HasSuffix(c.wantOut, "\n") {
				require.Equal(t, c.wantOut, out)
			} else {
				require.Contains(t, out, c.wantOut)
			}
			require.Contains(t, errOut, c.wantErrHas)
		})
	}
}

const orderAvro = `{"type": "record", "name": "Order", "fields": [
  {"name": "id", "type": "string"},
  {"name": "amount", "type": "double"},
  {"name": "address", "type": {"type": "record", "name": "Address", "fields": [{"name": "zip", "type": "string"}]}}
]}`

type avroAddress struct {
	Zip string `avro:"zip"`
}

type avroOrder struct {
	ID      string      `avro:"id"`
	Amount  float64     `avro:"amount"`
	Address avroAddress `avro:"address"`
}

func TestValidateAvro(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	schemaFile := writeFile(t, dir, "order.avsc", orderAvro)
	rulesFile := writeFile(t, dir, "rules.yaml", "- name: positive\n  expr: message.amount > 0.0\n  field: /amount\n")
	sch, err := twmbavro.Parse(orderAvro)
	require.NoError(t, err)
	enc := func(o avroOrder) []byte {
		b, err := sch.Encode(o)
		require.NoError(t, err)
		return b
	}
	good := enc(avroOrder{ID: "o-1", Amount: 12.5, Address: avroAddress{Zip: "75001"}})
	negative := enc(avroOrder{ID: "o-2", Amount: -1, Address: avroAddress{Zip: "75002"}})
	var serde sr.Serde
	serde.Register(7, avroOrder{}, sr.AppendEncodeFn(func(b []byte, v any) ([]byte, error) { return sch.AppendEncode(b, v) }))
	framed, err := serde.Encode(avroOrder{ID: "o-3", Amount: 1, Address: avroAddress{Zip: "75003"}})
	require.NoError(t, err)
	delimited := func(records ...[]byte) []byte {
		var b []byte
		for _, r := range records {
			b = binary.AppendUvarint(b, uint64(len(r)))
			b = append(b, r...)
		}
		return b
	}
	goodFile := writeFile(t, dir, "good.avro", string(good))
	truncFile := writeFile(t, dir, "trunc.avro", string(good[:len(good)-3]))
	negFile := writeFile(t, dir, "neg.avro", string(negative))
	framedFile := writeFile(t, dir, "framed.avro", string(framed))
	streamFile := writeFile(t, dir, "stream.bin", string(delimited(good, good[:5], negative)))
	cutStream := writeFile(t, dir, "cut.bin", string(delimited(good)[:8]))

	cases := []struct {
		name       string
		stdin      string
		args       []string
		wantCode   int
		wantOut    string
		wantErrHas string
	}{
		{"one record per file", "", []string{goodFile}, 0, goodFile + ": valid\n", "1 records: 1 valid, 0 invalid"},
		{"stdin is one record", string(good), nil, 0, "stdin: valid\n", ""},
		{
			"truncated record is a DECODE_ERROR at its field", "",
			[]string{goodFile, truncFile},
			1,
			goodFile + ": valid\n" + truncFile + ": invalid: DECODE_ERROR at /address/zip: the record is cut short: a string needs 5 bytes, only 2 remain\n",
			"2 records: 1 valid, 1 invalid",
		},
		{"rules run on Avro", "", []string{"--rules", rulesFile, "--quiet", goodFile, negFile}, 1, negFile + ": invalid: RULE_VIOLATION at /amount: failed rule positive: message.amount > 0.0\n", ""},
		{"a Confluent-framed record is not plain Avro", "", []string{framedFile}, 1, framedFile + ": invalid: DECODE_ERROR", ""},
		{"--wire strips the Confluent header", "", []string{"--wire", framedFile}, 0, framedFile + ": valid\n", ""},
		{"--wire wants the header", "", []string{"--wire", goodFile}, 1, goodFile + ": invalid: DECODE_ERROR at (record): no Confluent wire header", ""},
		{
			"length-delimited stream", "",
			[]string{"--length-delimited", "--rules", rulesFile, streamFile},
			1,
			streamFile + " record 1: valid\n" + streamFile + " record 2: invalid: DECODE_ERROR at /amount: the record is cut short: a double needs 8 bytes, only 1 remain\n" +
				streamFile + " record 3: invalid: RULE_VIOLATION at /amount: failed rule positive: message.amount > 0.0\n",
			"3 records: 1 valid, 2 invalid",
		},
		{"length-delimited stdin", string(delimited(good, good)), []string{"--length-delimited", "-"}, 0, "stdin record 1: valid\nstdin record 2: valid\n", ""},
		{"json output", "", []string{"--json", truncFile}, 1, `{"input":"` + truncFile + `","valid":false,"errors":[{"type":"DECODE_ERROR","field":"/address/zip"`, ""},
		{"too large", "", []string{"--max-bytes", "4", goodFile}, 1, goodFile + ": invalid: PAYLOAD_TOO_LARGE", ""},
		{"cut stream is an input error", "", []string{"--length-delimited", cutStream}, 2, "", "record 1 is cut short"},
		{"missing input", "", []string{filepath.Join(dir, "nope.avro")}, 2, "", "no such file"},
		{"schema that is not Avro", "", []string{"--schema", writeFile(t, dir, "bad.avsc", `{"type":"rec"}`), goodFile}, 2, "", "bad.avsc: compiling Avro schema"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"validate", "--type", "avro", "--schema", schemaFile}, c.args...)
			code, out, errOut := runCLI(t, c.stdin, nil, args...)
			require.Equal(t, c.wantCode, code, "stdout: %s\nstderr: %s", out, errOut)
			if strings.HasSuffix(c.wantOut, "\n") {
				require.Equal(t, c.wantOut, out)
			} else {
				require.Contains(t, out, c.wantOut)
			}
			require.Contains(t, errOut, c.wantErrHas)
		})
	}
}

func TestValidateTypeFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	schemaFile := writeFile(t, dir, "user_event.json", userEvent)
	cases := []struct {
		name       string
		args       []string
		wantErrHas string
	}{
		{"unknown type", []string{"--type", "xml"}, `--type "xml": want json, avro or protobuf`},
		{"length-delimited needs avro", []string{"--length-delimited"}, "apply to --type avro and protobuf only"},
		{"wire needs avro", []string{"--wire"}, "apply to --type avro and protobuf only"},
		{"message needs protobuf", []string{"--message", "p.M"}, "--message applies to --type protobuf only"},
		{"JSON schema is not a .proto", []string{"--type", "protobuf"}, "compiling Protobuf schema"},
		{"JSON schema is not Avro", []string{"--type", "avro"}, "compiling Avro schema"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, _, errOut := runCLI(t, "", nil, append([]string{"validate", "--schema", schemaFile}, c.args...)...)
			require.Equal(t, 2, code, errOut)
			require.Contains(t, errOut, c.wantErrHas)
		})
	}
}

// Flags may follow positional arguments, as users type them; "--" ends flags.
func TestFlagsAfterArguments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	schemaFile := writeFile(t, dir, "user_event.json", userEvent)
	input := writeFile(t, dir, "in.jsonl", `{"user_id":"USER123456","event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`+"\n")
	code, out, errOut := runCLI(t, "", nil, "validate", input, "--schema", schemaFile)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "line 1: valid\n", out)

	dash := writeFile(t, dir, "-odd.jsonl", `{}`+"\n")
	code, out, _ = runCLI(t, "", nil, "validate", "--schema", schemaFile, "--", dash)
	require.Equal(t, 1, code, "after --, an argument starting with - is an input")
	require.Contains(t, out, "MISSING_FIELD")
}

// serve refuses to listen beyond loopback without API tokens, and says how
// to fix it.
func TestServeRefusesOpenListenWithoutTokens(t *testing.T) {
	t.Parallel()
	code, _, errOut := runCLI(t, "", nil, "serve", "--data-dir", t.TempDir(), "--http", "0.0.0.0:0")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `http.listen: "0.0.0.0:0" is reachable from other machines, and http.auth.tokens is empty`)
	require.Contains(t, errOut, "DQ_HTTP_AUTH_TOKENS=")
}

// TestValidateRefuses pins what validate says, and its exit status, for
// each thing that stops it before it reads a record.
func TestValidateRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	schemaFile := writeFile(t, dir, "user_event.json", userEvent)
	missing := filepath.Join(dir, "missing")
	cases := []struct {
		name   string
		args   []string
		stderr string // whole, when it ends in a newline; else its beginning
	}{
		{"no schema", nil, "validate: --schema is required\nUsage:\n  dataquarantine validate "},
		{"two inputs", []string{"--schema", schemaFile, "a", "b"}, "validate: want at most one INPUT, got 2\n"},
		{"wire with JSON", []string{"--schema", schemaFile, "--wire"}, "validate: --length-delimited and --wire apply to --type avro and protobuf only\n"},
		{"unknown type", []string{"--schema", schemaFile, "--type", "xml"}, "validate: --type \"xml\": want json, avro or protobuf\n"},
		{"message without protobuf", []string{"--schema", schemaFile, "--type", "avro", "--message", "p.M"}, "validate: --message applies to --type protobuf only\n"},
		{"depth over the cap", []string{"--schema", schemaFile, "--max-depth", "1001"}, "validate: --max-depth 1001: want 1 to 1000\n"},
		{"depth zero", []string{"--schema", schemaFile, "--max-depth", "0"}, "validate: --max-depth 0: want 1 to 1000\n"},
		{"unreadable schema", []string{"--schema", missing}, "validate: reading schema: open " + missing + ": "},
		{"schema of another format", []string{"--schema", schemaFile, "--type", "avro"}, "validate: " + schemaFile + ": "},
		{"unreadable rules", []string{"--schema", schemaFile, "--rules", missing}, "validate: " + missing + ": "},
		{"unreadable input", []string{"--schema", schemaFile, missing}, "validate: open " + missing + ": "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCLI(t, "", nil, append([]string{"validate"}, c.args...)...)
			require.Equal(t, 2, code, errOut)
			require.Empty(t, out)
			if strings.HasSuffix(c.stderr, "\n") {
				require.Equal(t, c.stderr, errOut)
			} else {
				require.True(t, strings.HasPrefix(errOut, c.stderr), "stderr %q, want it to begin %q", errOut, c.stderr)
			}
		})
	}
}
