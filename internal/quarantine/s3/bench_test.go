package s3_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/testbackend"
)

// BenchmarkWriteSegment writes 500-payload segments of 300-byte values, one
// PUT each, as the pipeline writes a batch: objects/s and payloads/s are
// the figures that matter.
func BenchmarkWriteSegment(b *testing.B) {
	ctx := context.Background()
	s := newStore(b, testbackend.S3(b))
	payloads := make([]quarantine.Payload, 500)
	for i := range payloads {
		payloads[i] = quarantine.Payload{Value: []byte(strings.Repeat("v", 300))}
	}
	b.SetBytes(500 * 300)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if _, err := s.WriteSegment(ctx, fmt.Sprintf("seg-%d", n), payloads); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "objects/s")
	b.ReportMetric(float64(n*len(payloads))/b.Elapsed().Seconds(), "payloads/s")
}

// BenchmarkWriteSegmentParallel is BenchmarkWriteSegment with several writers
// at once (partitions written concurrently), for the throughput a latency-bound
// PUT allows.
func BenchmarkWriteSegmentParallel(b *testing.B) {
	ctx := context.Background()
	s := newStore(b, testbackend.S3(b))
	payloads := make([]quarantine.Payload, 500)
	for i := range payloads {
		payloads[i] = quarantine.Payload{Value: []byte(strings.Repeat("v", 300))}
	}
	b.SetBytes(500 * 300)
	b.SetParallelism(4) // 4 x GOMAXPROCS (2 here) writers
	b.ReportAllocs()
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.WriteSegment(ctx, fmt.Sprintf("seg-%d", n.Add(1)), payloads); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "objects/s")
	b.ReportMetric(float64(n.Load()*int64(len(payloads)))/b.Elapsed().Seconds(), "payloads/s")
}

// BenchmarkRead reads single 300-byte payloads from a 500-payload segment,
// one ranged GET each.
func BenchmarkRead(b *testing.B) {
	ctx := context.Background()
	s := newStore(b, testbackend.S3(b))
	payloads := make([]quarantine.Payload, 500)
	for i := range payloads {
		payloads[i] = quarantine.Payload{Value: []byte(strings.Repeat("v", 300))}
	}
	refs, err := s.WriteSegment(ctx, "seg", payloads)
	require.NoError(b, err)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.Read(ctx, refs[i%len(refs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "reads/s")
}
