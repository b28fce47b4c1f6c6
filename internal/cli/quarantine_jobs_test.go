package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// TestQuarantineJobs lists the jobs of a real gateway, started through the
// CLI itself.
func TestQuarantineJobs(t *testing.T) {
	t.Parallel()
	server, broker := runningGatewayWith(t, nil)
	code, out, errOut := runCLI(t, "", nil, "quarantine", "jobs", "--server", server)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "no reprocess jobs yet\n", out)

	cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.DefaultProduceTopic("raw-events"))
	require.NoError(t, err)
	defer cl.Close()
	require.NoError(t, cl.ProduceSync(context.Background(), &kgo.Record{Value: []byte(`not json`)}).FirstErr())
	testwait.For(t, 20*time.Second, "the record quarantined", func() error {
		code, out, errOut := runCLI(t, "", nil, "quarantine", "list", "--server", server, "--json")
		if code != 0 || strings.Count(out, `"id"`) != 1 {
			return fmt.Errorf("exit %d: %s%s", code, out, errOut)
		}
		return nil
	})

	// Two jobs over it, both failing it again; the second's reason is
	// hostile to a terminal. (--wait's exit status is reprocess's to test.)
	for _, run := range []struct{ status, reason string }{
		{"quarantined", "parser fixed?"},
		{"failed_again", "again,\nwith\x1b[31m a newline"},
	} {
		_, _, errOut = runCLI(t, "", nil, "quarantine", "reprocess", "--server", server, "--status", run.status, "--reason", run.reason, "--wait")
		require.NotContains(t, errOut, "reaching the gateway")
	}

	code, out, errOut = runCLI(t, "", nil, "quarantine", "jobs", "--server", server)
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, out)
	require.Regexp(t, `^JOB\s+STATE\s+STARTED\s+ENDED\s+DURATION\s+PASSED\s+FAILED\s+MATCHED\s+TARGET\s+BY\s+REASON$`, lines[0])
	require.Regexp(t, `^[0-9a-f]{24}\s+done\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+[0-9.]+m?s\s+0\s+1\s+1\s+clean\s+anonymous\s+again, with\x{FFFD}\[31m a newline$`, lines[1],
		"newest first, the reason on one line without its escape")
	require.Regexp(t, `\s+anonymous\s+parser fixed\?$`, lines[2])
	newest := strings.Fields(lines[1])[0]

	code, out, errOut = runCLI(t, "", nil, "quarantine", "jobs", "--server", server, "--limit", "1")
	require.Equal(t, 0, code, errOut)
	_, cursor, ok := strings.Cut(out, "more: add --cursor ")
	require.True(t, ok, out)
	require.Contains(t, out, newest)
	code, out, errOut = runCLI(t, "", nil, "quarantine", "jobs", "--server", server, "--limit", "1", "--cursor", strings.TrimSpace(cursor))
	require.Equal(t, 0, code, errOut)
	require.NotContains(t, out, newest)
	require.NotContains(t, out, "more:")

	code, out, errOut = runCLI(t, "", nil, "quarantine", "jobs", "--server", server, "--state", "running")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "no running reprocess jobs\n", out)

	code, out, errOut = runCLI(t, "", nil, "quarantine", "jobs", "--server", server, "--json", "--state", "done")
	require.Equal(t, 0, code, errOut)
	var page struct {
		Jobs []map[string]any `json:"jobs"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &page))
	require.Len(t, page.Jobs, 2)
	require.Equal(t, "parser fixed?", page.Jobs[1]["reason"])

	code, _, errOut = runCLI(t, "", nil, "quarantine", "jobs", "--server", server, "--cursor", "bogus")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "invalid cursor")
}

func TestQuarantineJobsUsage(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, "", nil, "quarantine", "jobs", "--help")
	require.Equal(t, 0, code)
	require.Contains(t, out, "dataquarantine quarantine jobs [--state running|done|failed]")
	require.Contains(t, out, "Exit status:\n  0  done")
	code, out, _ = runCLI(t, "", nil, "quarantine", "--help")
	require.Equal(t, 0, code)
	require.Contains(t, out, "jobs       list reprocess jobs")

	for _, args := range [][]string{{"--state", "finished"}, {"--limit", "0"}, {"--limit", "501"}, {"extra"}, {"--nope"}} {
		code, _, errOut := runCLI(t, "", nil, append([]string{"quarantine", "jobs"}, args...)...)
		require.Equal(t, 2, code, "%v", args)
		require.Contains(t, errOut, "Usage:", "%v", args)
	}

	// Nothing listens: 1, saying where it tried.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	code, _, errOut := runCLI(t, "", nil, "quarantine", "jobs", "--server", "http://"+addr)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "reaching the gateway at http://"+addr)
}
