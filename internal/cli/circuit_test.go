package cli

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Against a real running gateway: status lists the input topic's breaker;
// resume answers for it, and refuses an unknown topic.
func TestCircuitCommand(t *testing.T) {
	t.Parallel()
	server := runningGateway(t)
	code, out, errOut := runCLI(t, "", nil, "circuit", "--server", server, "status")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "raw-events")
	require.Contains(t, out, "closed")

	code, out, errOut = runCLI(t, "", nil, "circuit", "--server", server, "resume", "raw-events")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "raw-events: resumed\n", out)

	code, _, errOut = runCLI(t, "", nil, "circuit", "--server", server, "resume", "nope")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "no input topic nope")

	code, _, errOut = runCLI(t, "", nil, "circuit", "frob")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "want 'status' or 'resume TOPIC'")
}
