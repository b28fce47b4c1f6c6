package dlqimport_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/dlqimport"
	"github.com/dataquarantine/dataquarantine/internal/dlqimport/dlqtest"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/fs"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
)

// BenchmarkConvert is the per-record cost of reading a Connect dead-letter
// record's headers into a row.
func BenchmarkConvert(b *testing.B) {
	r := at(dlqtest.Connect("connect-dlq", orders(41), dlqtest.JSONConverterFailure("s3-sink"), true), 0, 12)
	opts := dlqimport.Options{Now: func() time.Time { return importedAt }}
	b.ReportAllocs()
	for b.Loop() {
		dlqimport.Convert(dlqimport.FormatConnect, r, opts)
	}
}

// BenchmarkImport imports a Connect DLQ of 20000 records from an
// in-process broker into SQLite and files, as the CLI does; it reports
// records/s.
func BenchmarkImport(b *testing.B) {
	const n = 20000
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "connect-dlq"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()[0]), kgo.DefaultProduceTopic("connect-dlq"))
	if err != nil {
		b.Fatal(err)
	}
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = dlqtest.Connect("connect-dlq", orders(int64(i)), dlqtest.JSONConverterFailure("s3-sink"), true)
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		b.Fatal(err)
	}
	cl.Close()
	b.ReportAllocs()
	var total time.Duration
	for b.Loop() {
		dir := b.TempDir()
		meta, err := sqlite.New(sqlite.Options{Path: filepath.Join(dir, "dq.db")})
		if err != nil {
			b.Fatal(err)
		}
		payloads, err := fs.New(fs.Options{Dir: filepath.Join(dir, "payloads")})
		if err != nil {
			b.Fatal(err)
		}
		in, err := pipeline.NewIngester(pipeline.IngestOptions{Metadata: meta, Payloads: payloads})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		res, err := dlqimport.Import(context.Background(), dlqimport.ImportOptions{
			KafkaOpts: []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()[0])}, Topic: "connect-dlq", Format: dlqimport.FormatConnect,
			Ingester: in, Metadata: meta,
		})
		total += time.Since(start)
		if err != nil || res.Imported != n {
			b.Fatalf("imported %d of %d: %v", res.Imported, n, err)
		}
		_ = meta.Close()
		_ = payloads.Close()
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "records/s")
}
