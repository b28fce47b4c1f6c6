package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
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

func TestHelpOnEveryCommand(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, "", nil, "--help")
	require.Equal(t, 0, code)
	for _, c := range commands {
		require.Contains(t, out, c.name)
		code, out, errOut := runCLI(t, "", nil, c.name, "--help")
		require.Equal(t, 0, code, c.name)
		require.Contains(t, out, "Usage:\n  dataquarantine "+c.name, c.name)
		require.Empty(t, errOut)
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
