package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/dataquarantine/dataquarantine/internal/bench"
	"github.com/dataquarantine/dataquarantine/internal/config"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func benchConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Pipeline.BatchSize = 500
	require.NoError(t, cfg.Validate())
	return cfg
}

// The benchmark's smoke test: a small backlog through the real pipeline,
// asserting correctness and plausible figures, never a timing.
func TestBacklogRunIsCorrect(t *testing.T) {
	t.Parallel()
	res, err := bench.Run(context.Background(), bench.Options{
		Records: 3000, Size: 300, InvalidShare: 0.2, Partitions: 3, Seed: 7, Config: benchConfig(t),
	})
	require.NoError(t, err)
	require.True(t, res.Correct, "problems: %v", res.Problems)
	require.Empty(t, res.Problems)
	require.Equal(t, "backlog", res.Mode)
	require.Equal(t, 3000, res.Records)
	require.Equal(t, 3000, res.Valid+res.Invalid)
	require.InDelta(t, 600, res.Invalid, 150)
	require.Equal(t, "embedded", res.Broker)
	require.Positive(t, res.RecordsPerS)
	require.Positive(t, res.CPUPerRecUS)
	require.Positive(t, res.PeakRSSMB)
	require.LessOrEqual(t, res.LatencyP50MS, res.LatencyP99MS)
	require.LessOrEqual(t, res.LatencyP99MS, res.LatencyMaxMS)
}

func TestRateRunIsCorrect(t *testing.T) {
	t.Parallel()
	res, err := bench.Run(context.Background(), bench.Options{
		Rate: 500, Duration: 2 * time.Second, Seed: 3, Config: benchConfig(t),
	})
	require.NoError(t, err)
	require.True(t, res.Correct, "problems: %v", res.Problems)
	require.Equal(t, "rate", res.Mode)
	require.Equal(t, 1000, res.Records)
	require.Equal(t, 500, res.RateTarget)
}
