package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/bench"
	"github.com/dataquarantine/dataquarantine/internal/config"
)

func runBench(ctx context.Context, env Env) int {
	fs := newFlagSet(env, "bench", "[flags]", `
Benchmark the gateway on this machine: produce a deterministic synthetic
workload (JSON events for the user_event schema, a share of each invalid
kind), run the real pipeline over it with the configured stores, and report
throughput, CPU time per record, end-to-end latency (from each record's
produce timestamp to its batch being durable and committed), peak RSS, and
a correctness check (every record routed exactly once to where it belongs).

By default it drains a backlog of --records. With --rate it produces at a
steady rate for --duration instead, the way to measure latency.

The broker is an embedded one in a temporary data dir unless --brokers (or
the config) names a cluster; the benchmark creates fresh topics per run.
Stores are SQLite and files in the data dir unless the config names others.`)
	var (
		cfgPath   = fs.String("config", "", "YAML config `file` (brokers, stores, limits, batch size)")
		records   = fs.Int("records", 1_000_000, "records to drain in a backlog run")
		size      = fs.Int("size", 300, "approximate record size in `bytes`")
		invalid   = fs.Float64("invalid-share", 0.1, "share of invalid records, 0..1")
		parts     = fs.Int("partitions", 6, "partitions of the benchmark topics")
		seed      = fs.Uint64("seed", 1, "workload seed")
		rate      = fs.Int("rate", 0, "produce at this many `records/s` while the pipeline runs (latency run) instead of draining a backlog")
		duration  = fs.Duration("duration", 30*time.Second, "length of a --rate run")
		brokers   = fs.String("brokers", "", "external Kafka `host:port[,host:port]` instead of an embedded broker")
		dataDir   = fs.String("data-dir", "", "data `dir` for the embedded broker and default stores (default: a temporary dir, removed afterwards)")
		batchSize = fs.Int("batch-size", 0, "records per pipeline batch (default: the config's pipeline.batch_size)")
		asJSON    = fs.Bool("json", false, "print the result as JSON")
		cpuProf   = fs.String("cpuprofile", "", "write a CPU profile of the whole run to `file` (go tool pprof)")
		memProf   = fs.String("memprofile", "", "write a heap profile to `file` when the drain ends, before the stores close (go tool pprof; -sample_index=inuse_space for what is live, alloc_space for the churn)")
	)
	fs.exitStatus(`0  the run finished and every record went exactly where it belongs
1  the run failed, or a record went astray (the report says which)
2  bad flags or configuration`)
	if code := fs.parse(); code >= 0 {
		return code
	}
	cfg, err := config.Load(*cfgPath, env.Environ)
	if err != nil {
		fmt.Fprintf(env.Stderr, "bench: %v\n", err)
		return exitUsage
	}
	if *dataDir == "" {
		tmp, err := os.MkdirTemp("", "dataquarantine-bench-")
		if err != nil {
			fmt.Fprintf(env.Stderr, "bench: %v\n", err)
			return exitUsage
		}
		defer func() { _ = os.RemoveAll(tmp) }() // best effort: it is a temporary dir
		*dataDir = tmp
	}
	cfg.DataDir = *dataDir
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "brokers":
			cfg.Kafka.Brokers = splitList(*brokers)
		case "batch-size":
			cfg.Pipeline.BatchSize = *batchSize
		}
	})
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(env.Stderr, "bench: invalid configuration:\n%v\n", indent(err.Error()))
		return exitUsage
	}
	switch {
	case *records < 1, *size < 1, *parts < 1, *rate < 0, *invalid < 0, *invalid > 1:
		fmt.Fprintln(env.Stderr, "bench: --records, --size and --partitions must be positive, --rate not negative, --invalid-share within 0..1")
		return exitUsage
	}
	logger, err := newLogger(env.Stderr, cfg.Log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "bench: %v\n", err)
		return exitUsage
	}
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			fmt.Fprintf(env.Stderr, "bench: %v\n", err)
			return exitUsage
		}
		defer f.Close() //nolint:errcheck // the profile is flushed by StopCPUProfile
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(env.Stderr, "bench: %v\n", err)
			return exitUsage
		}
		defer pprof.StopCPUProfile()
	}
	res, err := bench.Run(ctx, bench.Options{
		Records: *records, Size: *size, InvalidShare: *invalid, Partitions: int32(*parts), Seed: *seed,
		Rate: *rate, Duration: *duration, Config: cfg, Logger: logger,
		AfterDrain: heapProfiler(*memProf, env.Stderr),
	})
	if err != nil {
		fmt.Fprintf(env.Stderr, "bench: %v\n", err)
		return exitInvalid
	}
	if *asJSON {
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintf(env.Stdout, "%s\n", b)
	} else {
		printBenchResult(env.Stdout, &res)
	}
	if !res.Correct {
		return exitInvalid
	}
	return exitOK
}

// heapProfiler returns the bench's AfterDrain hook writing a heap profile to
// path, or nil when path is "".
func heapProfiler(path string, stderr io.Writer) func() {
	if path == "" {
		return nil
	}
	return func() {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.Lookup("heap").WriteTo(f, 0)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "bench: writing the heap profile: %v\n", err)
		}
	}
}

func printBenchResult(w io.Writer, r *bench.Result) {
	what := fmt.Sprintf("backlog drain of %d records", r.Records)
	if r.Mode == "rate" {
		what = fmt.Sprintf("steady %d records/s, %d records", r.RateTarget, r.Records)
	}
	fmt.Fprintf(w, "DataQuarantine bench: %s (~%d B, %d valid / %d invalid, %d partitions)\n", what, r.RecordBytes, r.Valid, r.Invalid, r.Partitions)
	fmt.Fprintf(w, "  broker            %s\n", r.Broker)
	fmt.Fprintf(w, "  stores            %s\n", r.Stores)
	fmt.Fprintf(w, "  throughput        %.0f records/s, %.1f MB/s (%.2f s)\n", r.RecordsPerS, r.MBPerS, r.ElapsedSec)
	fmt.Fprintf(w, "  CPU per record    %.2f µs (whole process%s)\n", r.CPUPerRecUS, map[bool]string{true: ", embedded broker included", false: ""}[r.Broker == "embedded"])
	fmt.Fprintf(w, "  latency           p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms (produce -> durable and committed)\n",
		r.LatencyP50MS, r.LatencyP95MS, r.LatencyP99MS, r.LatencyMaxMS)
	fmt.Fprintf(w, "  peak RSS          %.0f MB\n", r.PeakRSSMB)
	if r.Correct {
		fmt.Fprintf(w, "  correctness       OK: every record routed exactly once to where it belongs\n")
		return
	}
	fmt.Fprintf(w, "  correctness       FAILED:\n")
	for _, p := range r.Problems {
		fmt.Fprintf(w, "    - %s\n", p)
	}
}
