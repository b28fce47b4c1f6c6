package faulttest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/dataquarantine/dataquarantine/internal/quarantine/fs"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/postgres"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/s3"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/testbackend"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// A gateway SIGKILLed mid-batch (the broker kills it as it commits the
// offsets of a batch whose records and quarantine writes are done), then
// restarted on the same data dir, loses nothing and quarantines nothing
// twice: every input record is in the clean topic or the DLQ at least once,
// every quarantine row exists exactly once with its payload, and nothing
// else is anywhere.
func TestSIGKILLMidBatchAndRestart(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	k := newCluster(t)
	const n = 20000
	in := newInput()
	k.produce(in, 0, n)

	dataDir := t.TempDir()
	gw := startGateway(t, bin, "gateway", k.gatewayEnv(dataDir))
	k.killAtRequest(gw, kmsg.OffsetCommit, 3)
	atKill := k.committed()
	require.Less(t, atKill, int64(n), "the gateway finished before it could be killed; raise n")
	t.Logf("killed as it committed a batch, with %d of %d input records committed", atKill, n)

	gw = startGateway(t, bin, "gateway-restarted", k.gatewayEnv(dataDir))
	k.waitCommitted(n, gw)
	gw.stop()

	dups := k.checkTopics(in)
	require.Positive(t, dups, "the batch killed before its commit is delivered again")
	t.Logf("%d records were delivered twice (redelivered after the kill)", dups)
	meta, err := sqlite.New(sqlite.Options{Path: filepath.Join(dataDir, "dq.db")})
	require.NoError(t, err)
	defer meta.Close()
	payloads, err := fs.New(fs.Options{Dir: filepath.Join(dataDir, "payloads")})
	require.NoError(t, err)
	defer payloads.Close()
	checkQuarantine(t, in, meta, payloads)
}

// Three gateways in one consumer group over PostgreSQL and a shared payload
// directory; one is SIGKILLed while the stream flows. The group gives its
// partitions to the other two (cooperative rebalancing), they finish the
// stream, and the outcome is exact: nothing lost, nothing quarantined twice.
func TestScaleOutOneKilled(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	pgURL := testbackend.Postgres(t)
	k := newCluster(t)
	payloadDir := t.TempDir()
	gws := make([]*gateway, 3)
	for i := range gws {
		env := k.gatewayEnv(t.TempDir())
		env["DQ_STORAGE_METADATA_URL"] = pgURL
		env["DQ_STORAGE_PAYLOADS_URL"] = "file://" + payloadDir
		gws[i] = startGateway(t, bin, fmt.Sprintf("gateway-%d", i), env)
	}
	k.waitGroupMembers(3)

	// The stream flows while a member dies: produced in a goroutine, in
	// chunks, as the gateways consume.
	const n = 20000
	in := newInput()
	produced := make(chan error, 1)
	go func() { produced <- k.tryProduce(in, 0, n) }()
	testwait.For(t, time.Minute, "a quarter of the stream committed", k.committedAtLeast(n/4))
	gws[1].kill()
	atKill := k.committed()
	require.Less(t, atKill, int64(n), "the stream finished before a gateway could be killed; raise n")
	t.Logf("killed gateway-1 with %d of %d input records committed", atKill, n)
	require.NoError(t, <-produced)

	k.waitCommitted(n, gws[0], gws[2])
	k.waitGroupMembers(2)
	gws[0].stop()
	gws[2].stop()

	dups := k.checkTopics(in)
	t.Logf("%d records were delivered twice (redelivered after the kill)", dups)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	meta, err := postgres.New(ctx, postgres.Options{URL: pgURL})
	require.NoError(t, err)
	defer meta.Close()
	payloads, err := fs.New(fs.Options{Dir: payloadDir})
	require.NoError(t, err)
	defer payloads.Close()
	checkQuarantine(t, in, meta, payloads)
}

// PostgreSQL stopped while the stream flows and started again: the gateway
// spools metadata rows locally meanwhile, drains the spool once the database
// is back, and every quarantine row is there exactly once.
func TestPostgresOutageMidStream(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	pg := testbackend.NewPostgresServer(t)
	pgURL := pg.NewSchema(t)
	k := newCluster(t)
	dataDir := t.TempDir()
	env := k.gatewayEnv(dataDir)
	env["DQ_STORAGE_METADATA_URL"] = pgURL
	gw := startGateway(t, bin, "gateway", env)

	const n = 20000
	in := newInput()
	streamThroughOutage(t, k, gw, in, n, "metadata", "PostgreSQL", pg.Stop, pg.Start)

	k.checkTopics(in)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	meta, err := postgres.New(ctx, postgres.Options{URL: pgURL})
	require.NoError(t, err)
	defer meta.Close()
	payloads, err := fs.New(fs.Options{Dir: filepath.Join(dataDir, "payloads")})
	require.NoError(t, err)
	defer payloads.Close()
	checkQuarantine(t, in, meta, payloads)
}

// With kafka.exactly_once, a gateway SIGKILLed inside a transaction (its
// batch produced and its offsets sent, the commit not yet made) and
// restarted leaves each input record exactly once in the clean topic or the
// DLQ, as a read_committed consumer sees them, while a read_uncommitted one
// also sees the killed transaction's records; each quarantine row is there
// once.
func TestExactlyOnceSIGKILL(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	k := newCluster(t)
	const n = 20000
	in := newInput()
	k.produce(in, 0, n)

	dataDir := t.TempDir()
	env := k.gatewayEnv(dataDir)
	env["DQ_KAFKA_EXACTLY_ONCE"] = "true"
	gw := startGateway(t, bin, "gateway", env)
	k.killAtRequest(gw, kmsg.EndTxn, 3)
	atKill := k.committed()
	require.Less(t, atKill, int64(n), "the gateway finished before it could be killed; raise n")
	t.Logf("killed in a transaction, with %d of %d input records committed", atKill, n)

	gw = startGateway(t, bin, "gateway-restarted", env)
	k.waitCommitted(n, gw)
	gw.stop()

	dups := k.checkRecords(in, k.readQuiet(cleanTopic, kgo.ReadCommitted()), k.readQuiet(dlqTopic, kgo.ReadCommitted()))
	require.Zero(t, dups, "a read_committed consumer sees each record once")
	dups = k.checkRecords(in, k.readQuiet(cleanTopic, kgo.ReadUncommitted()), k.readQuiet(dlqTopic, kgo.ReadUncommitted()))
	require.Positive(t, dups, "a read_uncommitted consumer also sees the killed transaction's records")
	t.Logf("a read_uncommitted consumer sees %d records twice", dups)
	meta, err := sqlite.New(sqlite.Options{Path: filepath.Join(dataDir, "dq.db")})
	require.NoError(t, err)
	defer meta.Close()
	payloads, err := fs.New(fs.Options{Dir: filepath.Join(dataDir, "payloads")})
	require.NoError(t, err)
	defer payloads.Close()
	checkQuarantine(t, in, meta, payloads)
}

// MinIO stopped while the stream flows and started again: the gateway
// spools payload segments locally meanwhile and uploads them once MinIO is
// back; every quarantine row then reads its payload from MinIO.
func TestMinIOOutageMidStream(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	minio := testbackend.NewMinIOServer(t)
	bucket := minio.Bucket(t)
	k := newCluster(t)
	dataDir := t.TempDir()
	env := k.gatewayEnv(dataDir)
	env["DQ_STORAGE_PAYLOADS_URL"] = fmt.Sprintf("s3://%s?endpoint=%s&secure=false", bucket.Bucket, bucket.Endpoint)
	env["DQ_STORAGE_PAYLOADS_ACCESS_KEY"] = bucket.AccessKey
	env["DQ_STORAGE_PAYLOADS_SECRET_KEY"] = bucket.SecretKey
	gw := startGateway(t, bin, "gateway", env)

	const n = 20000
	in := newInput()
	streamThroughOutage(t, k, gw, in, n, "payloads", "MinIO", minio.Stop, minio.Start)

	k.checkTopics(in)
	meta, err := sqlite.New(sqlite.Options{Path: filepath.Join(dataDir, "dq.db")})
	require.NoError(t, err)
	defer meta.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	payloads, err := s3.New(ctx, s3.Options{
		Endpoint: bucket.Endpoint, Bucket: bucket.Bucket, AccessKey: bucket.AccessKey, SecretKey: bucket.SecretKey,
		CreateBucket: new(false),
	})
	require.NoError(t, err)
	defer payloads.Close()
	checkQuarantine(t, in, meta, payloads)
}

// streamThroughOutage streams n records through gw while the backend behind
// its store spool is stopped for the second half: the pipeline must keep
// committing on the spool meanwhile, then drain it once the backend is
// started again. It stops gw at the end.
func streamThroughOutage(t *testing.T, k *cluster, gw *gateway, in *input, n int, store, backend string, stop, start func() error) {
	t.Helper()
	depth := `spool_depth_records{store="` + store + `"}`
	k.produce(in, 0, n/2)
	testwait.For(t, time.Minute, "a quarter of the stream committed", k.committedAtLeast(int64(n/4)))
	require.NoError(t, stop())
	atStop := k.committed()
	t.Logf("%s stopped with %d of %d input records committed", backend, atStop, n)
	k.produce(in, n/2, n)
	testwait.For(t, time.Minute, store+" spooled while "+backend+" is down", func() error {
		v, err := gw.metric(depth)
		if err == nil && v == 0 {
			err = errors.New(depth + " is 0")
		}
		return err
	})
	testwait.For(t, time.Minute, "commits while "+backend+" is down", k.committedAtLeast(atStop+1001))
	spooled, err := gw.metric(depth)
	require.NoError(t, err)
	t.Logf("%d of %d input records committed, %v %s spooled, while %s is down", k.committed(), n, spooled, store, backend)
	require.NoError(t, start())

	k.waitCommitted(n, gw)
	testwait.For(t, time.Minute, "the "+store+" spool drained", func() error {
		v, err := gw.metric(depth)
		if err == nil && v != 0 {
			err = fmt.Errorf("%s is %v", depth, v)
		}
		return err
	})
	gw.stop()
}
