package faulttest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/dlqimport/dlqtest"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/fs"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// A Kafka Connect dead-letter topic followed into the quarantine
// (topics.imports) while the gateway is SIGKILLed at random moments and
// restarted on the same data dir each time: every dead-letter record becomes exactly one
// quarantine row, whose payload is the record as it was in the topic.
func TestImportCrashLoop(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	k := newCluster(t)
	ctx := context.Background()
	const connectDLQ, n, kills = "dlq-orders-sink", 6000, 5
	_, err := k.adm.CreateTopic(ctx, partitions, 1, nil, connectDLQ)
	require.NoError(t, err)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 2))
	values := make([][]byte, n)
	recs := make([]*kgo.Record, n)
	for i := range recs {
		values[i] = fmt.Appendf(nil, `{"id": %d, "note": "%x"`, i, rnd.Uint64()) // cut short: why Connect failed it
		recs[i] = dlqtest.Connect(connectDLQ, dlqtest.Original{
			Topic: "orders", Partition: int32(i % 3), Offset: int64(i), Key: []byte("r-" + strconv.Itoa(i)), Value: values[i],
			Timestamp: time.Now(),
		}, dlqtest.JSONConverterFailure("orders-sink"), true)
	}
	require.NoError(t, k.cl.ProduceSync(ctx, recs...).FirstErr())

	importGroup := group + "-dlq-import"
	committed := func() int64 { return k.committedIn(importGroup, connectDLQ) }
	marks := make([]int64, kills)
	for i := range marks {
		marks[i] = int64(float64(n) * (0.05 + 0.85*rnd.Float64()))
	}
	slices.Sort(marks)
	dataDir := t.TempDir()
	env := k.gatewayEnv(dataDir)
	env["DQ_KAFKA_SESSION_TIMEOUT"] = "1s"
	env["DQ_TOPICS_IMPORTS"] = "[{topic: " + connectDLQ + ", from: connect}]"
	for i, mark := range marks {
		gw := startGateway(t, bin, "gateway-"+strconv.Itoa(i), env)
		testwait.For(t, 2*time.Minute, "the import to pass its next kill point", func() error {
			if c := committed(); c < mark {
				return fmt.Errorf("%d imported, want %d", c, mark)
			}
			return nil
		})
		// At a random moment, not at the nth commit: the import takes
		// large polls, and its last commit may already be behind it (a
		// kill waiting for a commit that never comes hung the test).
		time.Sleep(time.Duration(rnd.IntN(200)) * time.Millisecond)
		gw.kill()
		c := committed()
		t.Logf("kill %d: %d of %d imported", i+1, c, n)
		if c == n {
			break
		}
	}
	gw := startGateway(t, bin, "gateway-last", env)
	testwait.For(t, 2*time.Minute, "every dead-letter record imported", func() error {
		if c := committed(); c != n {
			require.True(t, gw.running(), "the gateway exited: %v\n%s", gw.waitErr, gw.logTail(4096))
			return fmt.Errorf("%d of %d imported", c, n)
		}
		return nil
	})
	gw.stop()

	meta, err := sqlite.New(sqlite.Options{Path: filepath.Join(dataDir, "dq.db")})
	require.NoError(t, err)
	defer meta.Close()
	payloads, err := fs.New(fs.Options{Dir: filepath.Join(dataDir, "payloads")})
	require.NoError(t, err)
	defer payloads.Close()
	seen := make([]bool, n)
	walkRows(t, meta, func(e quarantine.Entry) {
		off := int(e.SourceOffset)
		require.Equal(t, "orders", e.SourceTopic)
		require.True(t, off >= 0 && off < n, "row %s: offset %d", e.ID, off)
		require.False(t, seen[off], "dead-letter record %d imported twice", off)
		seen[off] = true
		require.Equal(t, "r-"+strconv.Itoa(off), string(e.Key))
		p, err := payloads.Read(ctx, e.Payload)
		require.NoError(t, err, "payload of record %d", off)
		require.Equal(t, string(values[off]), string(p.Value), "payload of record %d", off)
	})
	for off, ok := range seen {
		require.True(t, ok, "dead-letter record %d not imported", off)
	}
}
