package pipeline_test

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/kafka"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/fs"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/formats"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
	"github.com/dataquarantine/dataquarantine/internal/validate"
)

// BenchmarkPipeline drains a backlog of b.N ~300-byte events (10% invalid)
// through the real pipeline: kfake broker, SQLite and segment files, zero
// loss on (acks=all, idempotent producer, commit after durable writes).
func BenchmarkPipeline(b *testing.B) { benchPipeline(b, nil, nil) }

// benchPipeline is BenchmarkPipeline with, when shadows is set, the engine
// evaluating them in shadow and the pipeline counting them in tally. It
// also reports the process's CPU time per record (the broker's included).
func benchPipeline(b *testing.B, shadows schema.ShadowResolver, tally pipeline.ShadowRecorder) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, rawTopic, cleanTopic, dlqTopic))
	require.NoError(b, err)
	defer c.Close()
	addr := c.ListenAddrs()[0]
	dir := b.TempDir()
	meta, err := sqlite.New(sqlite.Options{Path: filepath.Join(dir, "dq.db")})
	require.NoError(b, err)
	defer meta.Close()
	payloads, err := fs.New(fs.Options{Dir: filepath.Join(dir, "payloads")})
	require.NoError(b, err)
	defer payloads.Close()
	v, err := formats.Compile(schema.FormatJSON, "user_event", 1, []byte(userEventSchema), formats.Options{})
	require.NoError(b, err)
	res, err := schema.NewStatic(map[string]string{rawTopic: "user_event"}, []*schema.Version{v})
	require.NoError(b, err)
	engine, err := validate.New(validate.Options{Resolver: res, Shadows: shadows})
	require.NoError(b, err)

	// The backlog, produced before the clock starts.
	prod, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(rawTopic), kgo.ProducerLinger(5*time.Millisecond))
	require.NoError(b, err)
	pad := fmt.Sprintf("%0200d", 0)
	recs := make([]*kgo.Record, 0, 10000)
	for i := range b.N {
		val := fmt.Sprintf(`{"user_id":"USER%06d","event_type":"view","timestamp":"2026-01-10T19:50:00Z","page":"/p/%s"}`, i%1000000, pad)
		if i%10 == 0 {
			val = fmt.Sprintf(`{"user_id":"user-%d","event_type":"view","timestamp":"2026-01-10T19:50:00Z","page":"/p/%s"}`, i, pad)
		}
		recs = append(recs, &kgo.Record{Value: []byte(val)})
		if len(recs) == cap(recs) || i == b.N-1 {
			require.NoError(b, prod.ProduceSync(context.Background(), recs...).FirstErr())
			recs = recs[:0]
		}
	}
	prod.Close()

	cl, err := kafka.NewGroupClient(kafka.GroupOptions{Brokers: []string{addr}, GroupID: "bench", Topics: []string{rawTopic}})
	require.NoError(b, err)
	defer cl.Close()
	m := pipeline.NewMetrics(prometheus.NewRegistry())
	// drained is closed once every record's batch is committed.
	drained, committed := make(chan struct{}), 0
	p, err := pipeline.New(pipeline.Options{
		Client: cl, Engine: engine, Metadata: meta, Payloads: payloads,
		CleanTopic: cleanTopic, DLQTopic: dlqTopic, Metrics: m, Shadow: tally,
		OnCommit: func(recs []*kgo.Record) {
			if committed < b.N && committed+len(recs) >= b.N {
				close(drained)
			}
			committed += len(recs)
		},
	})
	require.NoError(b, err)

	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime(b)
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	testwait.Recv(b, 10*time.Minute, "the backlog to be committed", drained)
	elapsed := time.Since(start)
	cpu = cpuTime(b) - cpu
	b.StopTimer()
	cancel()
	require.NoError(b, <-done)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/record")
}

// cpuTime is the CPU time (user and system) the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
