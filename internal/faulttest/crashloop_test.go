package faulttest

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/dataquarantine/dataquarantine/internal/quarantine/fs"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// crashLoopRecords is the stream the crash loop drains: small in CI, and
// DQ_CRASHLOOP_RECORDS=1000000 for the figure in docs/operations.md.
func crashLoopRecords(t *testing.T) int {
	if s := os.Getenv("DQ_CRASHLOOP_RECORDS"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err, "DQ_CRASHLOOP_RECORDS")
		return n
	}
	return 30_000
}

// A drain through a broker in another process, with the gateway SIGKILLed
// at least ten times at random points: as it produces a batch, as it
// commits one, or at a random moment between, then restarted on the same
// data dir each time. Nothing is lost and nothing is quarantined twice:
// every input record is in exactly one of the two output topics (at least
// once: a batch killed before its commit comes again), every quarantine
// row exists exactly once, and every stored payload is byte-identical to
// what was produced.
func TestCrashLoop(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	k := newCluster(t)
	n := crashLoopRecords(t)
	in := newInput()
	k.produce(in, 0, n)
	const kills = 10
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 1))
	// Kill points spread over the drain: each kill happens after the
	// group has committed past the next of these.
	marks := make([]int64, kills)
	for i := range marks {
		marks[i] = int64(float64(n) * (0.05 + 0.85*rnd.Float64()))
	}
	slices.Sort(marks)

	dataDir := t.TempDir()
	env := k.gatewayEnv(dataDir)
	env["DQ_KAFKA_SESSION_TIMEOUT"] = "1s" // the group notices a dead member at once
	for i, mark := range marks {
		gw := startGateway(t, bin, "gateway-"+strconv.Itoa(i), env)
		testwait.For(t, 2*time.Minute, "the drain to pass its next kill point", k.committedAtLeast(mark))
		switch how := rnd.IntN(3); how {
		case 0:
			k.killAtRequest(gw, kmsg.Produce, 1+rnd.IntN(5))
		case 1:
			k.killAtRequest(gw, kmsg.OffsetCommit, 1+rnd.IntN(3))
		default:
			time.Sleep(time.Duration(rnd.IntN(200)) * time.Millisecond)
			gw.kill()
		}
		t.Logf("kill %d: %d of %d committed", i+1, k.committed(), n)
	}
	gw := startGateway(t, bin, "gateway-last", env)
	k.waitCommitted(n, gw)
	gw.stop()

	dups := k.checkTopics(in)
	t.Logf("%d kills, %d records delivered twice", kills, dups)
	meta, err := sqlite.New(sqlite.Options{Path: filepath.Join(dataDir, "dq.db")})
	require.NoError(t, err)
	defer meta.Close()
	payloads, err := fs.New(fs.Options{Dir: filepath.Join(dataDir, "payloads")})
	require.NoError(t, err)
	defer payloads.Close()
	checkQuarantine(t, in, meta, payloads)
}
