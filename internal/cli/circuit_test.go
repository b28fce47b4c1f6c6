package cli

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/app"
	"github.com/dataquarantine/dataquarantine/internal/config"
)

// Against a real running gateway: status lists the input topic's breaker;
// resume answers for it, and refuses an unknown topic.
func TestCircuitCommand(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Kafka.Embedded.Listen = "127.0.0.1:0"
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Log.Level = "warn"
	require.NoError(t, cfg.Validate())
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, app.Options{Config: cfg})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); require.NoError(t, <-done) }()
	server := "http://" + a.HTTPAddr()

	require.Eventually(t, func() bool {
		code, _, _ := runCLI(t, "", nil, "circuit", "--server", server, "status")
		return code == 0
	}, 10*time.Second, 20*time.Millisecond)
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
