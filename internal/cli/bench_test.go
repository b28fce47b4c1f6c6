package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBenchCommand(t *testing.T) {
	t.Parallel()
	code, out, errOut := runCLI(t, "", []string{"DQ_LOG_LEVEL=warn"}, "bench", "--records", "800", "--partitions", "2", "--baseline", "copy", "--rounds", "2", "--json")
	require.Equal(t, 0, code, "stderr: %s", errOut)
	var res struct {
		Mode    string `json:"mode"`
		Records int    `json:"records"`
		Correct bool   `json:"correct"`
		Valid   int    `json:"valid"`
		Invalid int    `json:"invalid"`
		Broker  string `json:"broker"`
		Rounds  []struct {
			Copy *struct{} `json:"copy"`
		} `json:"rounds"`
		RateRatio *struct{ Median float64 } `json:"rate_ratio"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.Equal(t, "backlog", res.Mode)
	require.Equal(t, 800, res.Records)
	require.True(t, res.Correct)
	require.Equal(t, 800, res.Valid+res.Invalid)
	require.Contains(t, res.Broker, "a broker process", "the broker runs outside the gateway's process")
	require.Len(t, res.Rounds, 2)
	require.NotNil(t, res.Rounds[1].Copy)
	require.NotNil(t, res.RateRatio)
	require.Positive(t, res.RateRatio.Median)

	code, out, _ = runCLI(t, "", []string{"DQ_LOG_LEVEL=warn"}, "bench", "--records", "300")
	require.Equal(t, 0, code)
	require.Contains(t, out, "correctness             OK")
	require.Contains(t, out, "gateway records/s")

	for _, bad := range [][]string{{"--invalid", "2"}, {"--format", "xml"}, {"--baseline", "cat"}, {"--baseline", "copy", "--rate", "10"}} {
		code, _, errOut = runCLI(t, "", nil, append([]string{"bench"}, bad...)...)
		require.Equal(t, 2, code, "%v", bad)
		require.Contains(t, errOut, bad[0])
	}
}

// TestBenchRefuses: what the bench says, and its exit status, for flags
// and configuration it cannot run with, before anything starts.
func TestBenchRefuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		environ []string
		args    []string
		stderr  string
	}{
		{"invalid share", nil, []string{"--invalid", "2"}, "bench: --records, --size, --partitions and --rounds must be positive, --rate not negative, --invalid within 0..1\n"},
		{"rounds", nil, []string{"--rounds", "0"}, "bench: --records, --size, --partitions and --rounds must be positive, --rate not negative, --invalid within 0..1\n"},
		{"format", nil, []string{"--format", "xml"}, `bench: --format "xml": want one of json, avro, protobuf` + "\n"},
		{"baseline", nil, []string{"--baseline", "cat"}, `bench: --baseline "cat": want copy (or nothing)` + "\n"},
		{"baseline with rate", nil, []string{"--baseline", "copy", "--rate", "10"}, "bench: --baseline is measured on backlog runs; drop --rate\n"},
		{"shadow with avro", nil, []string{"--shadow", "--format", "avro"}, "bench: --shadow is measured with --format json only, not avro\n"},
		{"config", nil, []string{"--config", filepath.Join(t.TempDir(), "missing.yaml")}, "bench: "},
		{"invalid configuration", nil, []string{"--batch-size", "-1"}, "bench: invalid configuration:\n  "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCLI(t, "", c.environ, append([]string{"bench"}, c.args...)...)
			require.Equal(t, 2, code)
			require.Empty(t, out)
			if strings.HasSuffix(c.stderr, "\n") {
				require.Equal(t, c.stderr, errOut)
			} else {
				require.True(t, strings.HasPrefix(errOut, c.stderr), "stderr %q, want it to begin %q", errOut, c.stderr)
			}
		})
	}
}
