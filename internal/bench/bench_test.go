package bench_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"go.uber.org/goleak"

	"github.com/dataquarantine/dataquarantine/internal/bench"
	"github.com/dataquarantine/dataquarantine/internal/cli"
	"github.com/dataquarantine/dataquarantine/internal/config"
)

// TestMain lets this test binary stand in for dataquarantine: run with
// DATAQUARANTINE_TEST_MAIN=1 it is the command line, so the benchmark can
// start it as its broker process ('broker').
func TestMain(m *testing.M) {
	if os.Getenv("DATAQUARANTINE_TEST_MAIN") == "1" {
		os.Exit(cli.Main())
	}
	_ = os.Setenv("DATAQUARANTINE_TEST_MAIN", "1") // inherited by the broker processes only
	goleak.VerifyTestMain(m)
}

func benchConfig(t *testing.T, brokers ...string) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Pipeline.BatchSize = 500
	cfg.Kafka.Brokers = brokers
	cfg.Log.Level = "warn"
	require.NoError(t, cfg.Validate())
	return cfg
}

func requireStat(t *testing.T, s bench.Stat, what string) {
	t.Helper()
	require.Positive(t, s.Min, what)
	require.LessOrEqual(t, s.Min, s.Median, what)
	require.LessOrEqual(t, s.Median, s.Max, what)
}

// The benchmark's smoke test: two rounds of a small backlog through the
// serve wiring and the copy baseline, with the broker in a process of its
// own. It asserts correctness and the shape of the figures, never a timing.
func TestBacklogRoundsWithBaseline(t *testing.T) {
	t.Parallel()
	res, err := bench.Run(context.Background(), bench.Options{
		Records: 3000, Size: 300, InvalidShare: 0.2, Partitions: 3, Seed: 7, Rounds: 2, Baseline: "copy",
		Executable: os.Args[0], Config: benchConfig(t),
	})
	require.NoError(t, err)
	require.True(t, res.Correct, "problems: %v", res.Problems)
	require.Equal(t, "backlog", res.Mode)
	require.Contains(t, res.Broker, "a broker process")
	require.Equal(t, 3000, res.Valid+res.Invalid)
	require.InDelta(t, 600, res.Invalid, 150)
	require.Len(t, res.Rounds, 2)
	for _, rd := range res.Rounds {
		require.NotNil(t, rd.Copy)
		for _, p := range []bench.Phase{rd.Gateway, *rd.Copy} {
			require.Positive(t, p.RecordsPerS)
			require.Positive(t, p.CPUPerRecUS)
			require.Positive(t, p.PeakRSSMB)
			require.LessOrEqual(t, p.LatencyP50MS, p.LatencyP99MS)
			require.LessOrEqual(t, p.LatencyP99MS, p.LatencyMaxMS)
		}
	}
	requireStat(t, res.Gateway.RecordsPerS, "gateway records/s")
	requireStat(t, res.Gateway.CPUPerRecUS, "gateway CPU")
	require.NotNil(t, res.Copy)
	requireStat(t, *res.RateRatio, "rate ratio")
	requireStat(t, *res.CPURatio, "CPU ratio")
	require.InDelta(t, res.Rounds[0].Gateway.RecordsPerS/res.Rounds[0].Copy.RecordsPerS, res.RateRatio.Min, res.RateRatio.Max-res.RateRatio.Min+1e-9,
		"the ratios are of the same round's phases")
}

// Every format, with a business rule, against a cluster the benchmark did
// not start (--brokers): each record routed where it belongs.
func TestFormatsWithRules(t *testing.T) {
	t.Parallel()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	require.NoError(t, err)
	defer c.Close()
	for _, format := range bench.Formats {
		t.Run(format, func(t *testing.T) {
			res, err := bench.Run(context.Background(), bench.Options{
				Records: 2000, InvalidShare: 0.3, Format: format, Rules: true, Partitions: 2, Seed: 3,
				Config: benchConfig(t, c.ListenAddrs()[0]),
			})
			require.NoError(t, err)
			require.True(t, res.Correct, "problems: %v", res.Problems)
			require.Equal(t, format, res.Format)
			require.InDelta(t, 600, res.Invalid, 120)
			require.Zero(t, res.Rounds[0].Gateway.BrokerCPUPerRecUS, "an external cluster's CPU is not ours to read")
		})
	}
}

func TestRateRunIsCorrect(t *testing.T) {
	t.Parallel()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	require.NoError(t, err)
	defer c.Close()
	res, err := bench.Run(context.Background(), bench.Options{
		Rate: 500, Duration: 2 * time.Second, Seed: 3, Config: benchConfig(t, c.ListenAddrs()[0]),
	})
	require.NoError(t, err)
	require.True(t, res.Correct, "problems: %v", res.Problems)
	require.Equal(t, "rate", res.Mode)
	require.Equal(t, 1000, res.Records)
	require.Equal(t, 500, res.RateTarget)
}

func TestOptionsRefused(t *testing.T) {
	t.Parallel()
	for _, o := range []bench.Options{
		{InvalidShare: 2},
		{Format: "xml"},
		{Baseline: "cat"},
		{Baseline: "copy", Rate: 10},
	} {
		o.Config = config.Default()
		o.Executable = "/nonexistent"
		_, err := bench.Run(context.Background(), o)
		require.Error(t, err, "%+v", o)
	}
}

// --shadow: a candidate version judges every record beside the enforced
// one, through the serve wiring, without changing a route; only JSON.
func TestShadow(t *testing.T) {
	t.Parallel()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	require.NoError(t, err)
	defer c.Close()
	res, err := bench.Run(context.Background(), bench.Options{
		Records: 2000, InvalidShare: 0.3, Shadow: true, Partitions: 2, Seed: 5,
		Config: benchConfig(t, c.ListenAddrs()[0]),
	})
	require.NoError(t, err)
	require.True(t, res.Correct, "problems: %v", res.Problems)
	require.True(t, res.Shadow)
	require.Equal(t, int64(2000), res.Rounds[0].Gateway.ShadowEvaluated)

	_, err = bench.Run(context.Background(), bench.Options{Records: 10, Format: bench.FormatAvro, Shadow: true, Config: benchConfig(t, c.ListenAddrs()[0])})
	require.ErrorContains(t, err, "--format json only")
}
