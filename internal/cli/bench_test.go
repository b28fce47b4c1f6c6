package cli

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBenchCommand(t *testing.T) {
	t.Parallel()
	code, out, errOut := runCLI(t, "", []string{"DQ_LOG_LEVEL=warn"}, "bench", "--records", "800", "--partitions", "2", "--json")
	require.Equal(t, 0, code, "stderr: %s", errOut)
	var res struct {
		Mode    string `json:"mode"`
		Records int    `json:"records"`
		Correct bool   `json:"correct"`
		Valid   int    `json:"valid"`
		Invalid int    `json:"invalid"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.Equal(t, "backlog", res.Mode)
	require.Equal(t, 800, res.Records)
	require.True(t, res.Correct)
	require.Equal(t, 800, res.Valid+res.Invalid)

	code, out, _ = runCLI(t, "", []string{"DQ_LOG_LEVEL=warn"}, "bench", "--records", "300")
	require.Equal(t, 0, code)
	require.Contains(t, out, "correctness       OK")
	require.Contains(t, out, "records/s")

	code, _, errOut = runCLI(t, "", nil, "bench", "--invalid-share", "2")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--invalid-share")
}
