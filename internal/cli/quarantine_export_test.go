package cli

import (
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestQuarantineExport(t *testing.T) {
	t.Parallel()
	server := quarantinedGateway(t)
	env := []string{"DQ_TOKEN=" + cliToken}

	code, out, errOut := runCLI(t, "", env, "quarantine", "export", "--server", server)
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, "JSON Lines, one record each")
	require.Contains(t, out, `"event_type\":\"jump\"`)
	require.Contains(t, errOut, "to standard output (2 records match)")

	dir := t.TempDir()
	file := filepath.Join(dir, "enum.csv")
	code, out, errOut = runCLI(t, "", env, "quarantine", "export", "--server", server, "--format", "csv", "--error-type", "ENUM_VIOLATION", "-o", file)
	require.Equal(t, 0, code, errOut)
	require.Empty(t, out)
	require.Contains(t, errOut, "to "+file+" (1 records match)")
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2)
	require.Equal(t, "id", rows[0][0])
	require.Contains(t, rows[1], "ENUM_VIOLATION")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left")

	// --limit stops the export and prints the cursor that goes on.
	code, first, errOut := runCLI(t, "", env, "quarantine", "export", "--server", server, "--limit", "1")
	require.Equal(t, 0, code, errOut)
	m := regexp.MustCompile(`go on with --cursor (\S+)`).FindStringSubmatch(errOut)
	require.NotNil(t, m, errOut)
	code, rest, errOut := runCLI(t, "", env, "quarantine", "export", "--server", server, "--limit", "1", "--cursor", m[1])
	require.Equal(t, 0, code, errOut)
	require.NotContains(t, errOut, "go on with")
	require.ElementsMatch(t, lines, []string{strings.TrimSpace(first), strings.TrimSpace(rest)})

	for _, args := range [][]string{{"--format", "xml"}, {"extra"}, {"--since", "last tuesday"}} {
		code, _, errOut = runCLI(t, "", env, append([]string{"quarantine", "export", "--server", server}, args...)...)
		require.Equal(t, 2, code, "%v: %s", args, errOut)
	}
	code, _, errOut = runCLI(t, "", env, "quarantine", "export", "--server", server, "--limit", "-1")
	require.Equal(t, 2, code, "a bad flag, refused before asking the gateway")
	require.Contains(t, errOut, "--limit must be from 1 to 1000000, got -1")
}

// A transfer that breaks off is a failure, and leaves no file behind. No
// real gateway breaks off on demand: this server does.
func TestQuarantineExportBrokenTransfer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		_, _ = w.Write([]byte("id,quarantined_at\nabc,2026-11-03T10:00:00Z\n"))
		_ = http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	file := filepath.Join(dir, "out.csv")
	code, _, errOut := runCLI(t, "", nil, "quarantine", "export", "--server", srv.URL, "--format", "csv", "-o", file)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "the transfer broke off")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries, "no file, whole or partial")
}
