package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

const cliToken = "cli-viewer-token-0123456789"

// quarantinedGateway runs a gateway with auth on (one viewer token) and
// two invalid records quarantined, and returns its URL.
func quarantinedGateway(t *testing.T) string {
	t.Helper()
	server, broker := runningGatewayWith(t, func(c *config.Config) {
		c.HTTP.Auth.Tokens = []config.Token{{Name: "cli", Role: config.RoleViewer, Token: cliToken}}
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.DefaultProduceTopic("raw-events"))
	require.NoError(t, err)
	defer cl.Close()
	enumViolation := &kgo.Record{
		Key:     []byte("k1"),
		Value:   []byte(`{"user_id":"USER123456","event_type":"jump","timestamp":"2026-01-10T19:50:00Z"}`),
		Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("abc")}},
	}
	require.NoError(t, cl.ProduceSync(context.Background(), enumViolation, &kgo.Record{Value: []byte(`not json`)}).FirstErr())
	testwait.For(t, 20*time.Second, "the records to be quarantined", func() error {
		code, out, stderr := runCLI(t, "", []string{"DQ_TOKEN=" + cliToken}, "quarantine", "list", "--server", server, "--json")
		if code != 0 || strings.Count(out, `"id"`) != 2 {
			return fmt.Errorf("exit %d: %s%s", code, out, stderr)
		}
		return nil
	})
	return server
}

func TestQuarantineListAndShow(t *testing.T) {
	t.Parallel()
	server := quarantinedGateway(t)

	// Without a token the gateway refuses, and the CLI says what to do.
	code, _, errOut := runCLI(t, "", nil, "quarantine", "list", "--server", server)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "pass --token or set DQ_TOKEN")

	code, out, errOut := runCLI(t, "", nil, "quarantine", "list", "--server", server, "--token", cliToken)
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, out)
	require.Regexp(t, `^ID\s+QUARANTINED AT\s+SOURCE\s+SUBJECT\s+ERROR\s+FIELD\s+STATUS$`, lines[0])
	require.Contains(t, out, "ENUM_VIOLATION")
	require.Contains(t, out, "PARSE_ERROR")
	require.Contains(t, out, "quarantined")

	// Filters reach the API.
	code, out, errOut = runCLI(t, "", []string{"DQ_TOKEN=" + cliToken}, "quarantine", "list", "--server", server, "--error-type", "ENUM_VIOLATION", "--since", "1h")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "ENUM_VIOLATION")
	require.NotContains(t, out, "PARSE_ERROR")
	id := strings.Fields(strings.Split(out, "\n")[1])[0]

	// Full-text search in payloads.
	code, out, errOut = runCLI(t, "", []string{"DQ_TOKEN=" + cliToken}, "quarantine", "list", "--server", server, "--search", "JUMP")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, id)
	require.NotContains(t, out, "PARSE_ERROR")
	code, out, errOut = runCLI(t, "", []string{"DQ_TOKEN=" + cliToken}, "quarantine", "list", "--server", server, "--search", "nowhere")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "no quarantined records match\n", out)

	// Paging: one per page, with the cursor to go on.
	code, out, errOut = runCLI(t, "", []string{"DQ_TOKEN=" + cliToken}, "quarantine", "list", "--server", server, "--limit", "1")
	require.Equal(t, 0, code, errOut)
	_, cursor, ok := strings.Cut(out, "more: add --cursor ")
	require.True(t, ok, out)
	code, out, errOut = runCLI(t, "", []string{"DQ_TOKEN=" + cliToken}, "quarantine", "list", "--server", server, "--limit", "1", "--cursor", strings.TrimSpace(cursor))
	require.Equal(t, 0, code, errOut)
	require.Len(t, strings.Split(strings.TrimSpace(out), "\n"), 2, out)

	code, out, errOut = runCLI(t, "", []string{"DQ_TOKEN=" + cliToken}, "quarantine", "show", "--server", server, id)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "ID              "+id)
	require.Contains(t, out, "Source          raw-events partition")
	require.Contains(t, out, "Key             \"k1\"")
	require.Contains(t, out, "Errors (1):\n  ENUM_VIOLATION    /event_type")
	require.Contains(t, out, "trace: \"abc\"")
	require.Contains(t, out, "\nPayload (79 bytes):\n  {\n"+
		"    \"user_id\": \"USER123456\",\n"+
		"    \"event_type\": \"jump\",\n"+
		"    \"timestamp\": \"2026-01-10T19:50:00Z\"\n"+
		"  }\n", "the JSON payload is indented, its members in their order")

	// --ids, for scripts: the IDs alone.
	code, out, errOut = runCLI(t, "", []string{"DQ_TOKEN=" + cliToken}, "quarantine", "list", "--server", server, "--search", "k1", "--ids")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, id+"\n", out)
	code, _, errOut = runCLI(t, "", []string{"DQ_TOKEN=" + cliToken}, "quarantine", "list", "--server", server, "--ids", "--json")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--json and --ids exclude each other")

	code, out, errOut = runCLI(t, "", []string{"DQ_TOKEN=" + cliToken}, "quarantine", "show", "--server", server, "--json", id)
	require.Equal(t, 0, code, errOut)
	var d map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &d))
	require.Equal(t, id, d["id"])

	code, _, errOut = runCLI(t, "", []string{"DQ_TOKEN=" + cliToken}, "quarantine", "show", "--server", server, "nope")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `no quarantined record with id "nope"`)

	// The other client commands send the token too.
	code, out, errOut = runCLI(t, "", []string{"DQ_TOKEN=" + cliToken}, "circuit", "--server", server, "status")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "raw-events")
	code, out, errOut = runCLI(t, "", nil, "schema", "list", "--server", server, "--token", cliToken)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "user_event")
	// A viewer cannot resume a circuit.
	code, _, errOut = runCLI(t, "", nil, "circuit", "--server", server, "--token", cliToken, "resume", "raw-events")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "needs the operator role")
}

// apiStub answers the reprocess and discard endpoints per the contract of
// issue 6 (they are built on another branch) and records the requests.
type apiStub struct {
	mu       sync.Mutex
	requests []string // "METHOD path body"
	auth     []string
	polls    int
}

func (s *apiStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path+" "+strings.TrimSpace(string(body)))
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	polls := s.polls
	if r.Method == http.MethodGet {
		s.polls++
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/reprocess":
		var req struct {
			DryRun bool `json:"dry_run"`
		}
		_ = json.Unmarshal(body, &req)
		if req.DryRun {
			_, _ = io.WriteString(w, `{"matched":3,"would_pass":2,"would_fail":1,"sample_failures":[{"id":"q-3","errors":[{"type":"ENUM_VIOLATION","field":"/event_type","keyword":"enum","message":"value must be one of view, click, purchase"}]}]}`)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		if strings.Contains(string(body), `"q-ok"`) {
			_, _ = io.WriteString(w, `{"job":"job-ok"}`)
			return
		}
		_, _ = io.WriteString(w, `{"job":"job-7"}`)
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/reprocess/job-ok":
		_, _ = io.WriteString(w, `{"state":"done","matched":1,"passed":1,"failed":0}`)
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/reprocess/job-7":
		if polls < 2 {
			_, _ = io.WriteString(w, `{"state":"running","matched":3,"passed":1,"failed":0}`)
			return
		}
		_, _ = io.WriteString(w, `{"state":"done","matched":3,"passed":2,"failed":1}`)
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/reprocess/job-bad":
		_, _ = io.WriteString(w, `{"state":"failed","matched":3,"passed":0,"failed":0}`)
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/quarantine/q-1/discard":
		_, _ = io.WriteString(w, `{"id":"q-1","status":"discarded"}`)
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/quarantine/q-404/discard":
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":{"code":"not_found","message":"no quarantined record with id \"q-404\""}}`)
	default:
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"error":{"code":"forbidden","message":"stub: unexpected request"}}`)
	}
}

func (s *apiStub) seen() ([]string, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...), append([]string(nil), s.auth...)
}

func TestQuarantineReprocessRequests(t *testing.T) { //nolint:paralleltest // sets pollInterval
	old := pollInterval
	pollInterval = time.Millisecond
	t.Cleanup(func() { pollInterval = old })

	t.Run("dry run by filter", func(t *testing.T) {
		stub := &apiStub{}
		srv := httptest.NewServer(stub)
		defer srv.Close()
		code, out, errOut := runCLI(t, "", []string{"DQ_TOKEN=op-token"}, "quarantine", "reprocess", "--server", srv.URL,
			"--error-type", "ENUM_VIOLATION", "--topic", "raw-events", "--since", "2026-11-03T10:00:00Z", "--dry-run", "--reason", "schema v2")
		require.Equal(t, 0, code, errOut)
		reqs, auth := stub.seen()
		require.Len(t, reqs, 1)
		method, rest, _ := strings.Cut(reqs[0], " ")
		path, body, _ := strings.Cut(rest, " ")
		require.Equal(t, "POST", method)
		require.Equal(t, "/api/v1/reprocess", path)
		require.JSONEq(t, `{"filter":{"error_type":"ENUM_VIOLATION","topic":"raw-events","since":"2026-11-03T10:00:00Z"},"dry_run":true,"target":"clean","reason":"schema v2"}`, body)
		require.Equal(t, []string{"Bearer op-token"}, auth)
		require.Contains(t, out, "dry run: 3 matched, 2 would pass, 1 would fail")
		require.Contains(t, out, "q-3")
		require.Contains(t, out, "ENUM_VIOLATION    /event_type")
	})

	t.Run("real run by ids, waiting, one failing again", func(t *testing.T) {
		stub := &apiStub{}
		srv := httptest.NewServer(stub)
		defer srv.Close()
		code, out, errOut := runCLI(t, "", nil, "quarantine", "reprocess", "--server", srv.URL, "--token", "flag-token",
			"--id", "q-1,q-2", "--id", "q-3", "--target", "raw", "--wait")
		require.Equal(t, 1, code, "a record failed again")
		require.Equal(t, "quarantine reprocess: 1 of 3 records failed again (quarantine list --status failed_again lists them)\n", errOut)
		reqs, auth := stub.seen()
		_, body, _ := strings.Cut(strings.TrimPrefix(reqs[0], "POST /api/v1/reprocess"), " ")
		require.JSONEq(t, `{"filter":{"ids":["q-1","q-2","q-3"]},"dry_run":false,"target":"raw"}`, body)
		require.Equal(t, "Bearer flag-token", auth[0])
		require.Equal(t, "GET /api/v1/reprocess/job-7 ", reqs[1])
		require.Equal(t, "started job job-7\n"+
			"running  3 matched, 1 passed, 0 failed again\n"+
			"done     3 matched, 2 passed, 1 failed again\n", out)
	})

	t.Run("real run, waiting, every record passing", func(t *testing.T) {
		srv := httptest.NewServer(&apiStub{})
		defer srv.Close()
		code, out, errOut := runCLI(t, "", nil, "quarantine", "reprocess", "--server", srv.URL, "--id", "q-ok", "--wait")
		require.Equal(t, 0, code, errOut)
		require.Equal(t, "started job job-ok\ndone     1 matched, 1 passed, 0 failed again\n", out)
		require.Empty(t, errOut)
	})

	t.Run("real run without waiting", func(t *testing.T) {
		stub := &apiStub{}
		srv := httptest.NewServer(stub)
		defer srv.Close()
		code, out, errOut := runCLI(t, "", nil, "quarantine", "reprocess", "--server", srv.URL, "--id", "q-1")
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "started job job-7")
		reqs, auth := stub.seen()
		require.Len(t, reqs, 1)
		require.Equal(t, []string{""}, auth, "no token given, none sent")
	})

	t.Run("a failed job fails the command", func(t *testing.T) {
		srv := httptest.NewServer(&apiStub{})
		defer srv.Close()
		var stdout strings.Builder
		env := Env{Stdout: &stdout, Stderr: &stdout}
		token, server := "", srv.URL
		require.Equal(t, exitInvalid, followJob(context.Background(), env, gateway{server: &server, token: &token}, "job-bad", false))
		require.Contains(t, stdout.String(), "job job-bad ended failed")
	})

	t.Run("usage errors", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"quarantine", "reprocess"}, "select records with --id or at least one filter"},
			{[]string{"quarantine", "reprocess", "--id", "q-1", "--target", "dlq"}, "--target must be clean, raw or source"},
			{[]string{"quarantine", "reprocess", "--since", "yesterday", "--status", "quarantined"}, "--since: \"yesterday\" is neither"},
			{[]string{"quarantine", "discard", "q-1"}, "--reason is required"},
			{[]string{"quarantine", "discard", "--reason", "x"}, "takes one record ID"},
			{[]string{"quarantine", "show"}, "takes one record ID"},
			{[]string{"quarantine", "frob"}, `unknown subcommand "frob"`},
			{[]string{"quarantine"}, "Subcommands:"},
		} {
			code, _, errOut := runCLI(t, "", nil, tc.args...)
			require.Equal(t, 2, code, "%v", tc.args)
			require.Contains(t, errOut, tc.want, "%v", tc.args)
		}
	})

	t.Run("help", func(t *testing.T) {
		for _, sub := range []string{"list", "show", "reprocess", "discard"} { // every one: TestHelpOnEveryCommand
			code, out, _ := runCLI(t, "", nil, "quarantine", sub, "--help")
			require.Equal(t, 0, code, sub)
			require.Contains(t, out, "dataquarantine quarantine "+sub)
			require.Contains(t, out, "-token")
		}
		code, out, _ := runCLI(t, "", nil, "quarantine", "--help")
		require.Equal(t, 0, code)
		require.Contains(t, out, "reprocess")
	})
}

func TestQuarantineDiscardRequests(t *testing.T) {
	t.Parallel()
	stub := &apiStub{}
	srv := httptest.NewServer(stub)
	defer srv.Close()
	code, out, errOut := runCLI(t, "", []string{"DQ_TOKEN=op-token"}, "quarantine", "discard", "--server", srv.URL, "--reason", "test data", "q-1")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "q-1: discarded\n", out)
	reqs, auth := stub.seen()
	require.Equal(t, []string{`POST /api/v1/quarantine/q-1/discard {"reason":"test data"}`}, reqs)
	require.Equal(t, []string{"Bearer op-token"}, auth)

	// $DQ_SERVER is the default --server.
	code, _, errOut = runCLI(t, "", []string{"DQ_SERVER=" + srv.URL}, "quarantine", "discard", "--reason", "x", "q-404")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `no quarantined record with id "q-404"`)

	// An unreachable gateway is an error naming it.
	code, _, errOut = runCLI(t, "", nil, "quarantine", "discard", "--server", "http://127.0.0.1:1", "--reason", "x", "q-1")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "reaching the gateway at http://127.0.0.1:1")
}
