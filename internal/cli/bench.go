package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/bench"
	"github.com/dataquarantine/dataquarantine/internal/config"
)

func runBench(ctx context.Context, env Env) int {
	fs := newFlagSet(env, "bench", "[flags]", `
Benchmark the gateway as 'serve' runs it, on this machine. Each round
produces a deterministic workload (user_event records in JSON, Avro or
Protobuf, a share of each invalid kind) into fresh topics, drains it through
the serve wiring (the same composition root: registry-resolved schemas,
spools, circuit breaker, metrics, HTTP; only the topics, group and data dir
are the round's), and checks that every record went exactly once where it
belongs. With --baseline copy it also drains the same records with a bare
consume-to-produce copy through the same broker with the same client
settings, and reports the gateway's throughput and CPU per record as ratios
of the copy's: what validation costs over moving the bytes.

The broker runs in a process of its own ('dataquarantine broker', started
and stopped by the benchmark) unless --brokers (or the config) names a
cluster. CPU per record is the gateway's process alone; the broker
process's is reported apart. Latency is from each record's produce
timestamp to its batch being durable and committed. Stores are SQLite and
files in the data dir unless --metadata-url/--payloads-url (or the config)
name others (PostgreSQL, S3/MinIO).

By default it drains a backlog of --records; with --rate it produces at a
steady rate for --duration instead, the way to measure latency. Figures
vary from run to run on a shared machine: use --rounds 3 or more and read
the medians.`)
	var f benchFlags
	f.register(fs)
	fs.exitStatus(`0  the run finished and every record went exactly where it belongs
1  the run failed, or a record went astray (the report says which)
2  bad flags or configuration`)
	if code := fs.parse(); code >= 0 {
		return code
	}
	cfg, removeTmp, err := f.config(fs, env.Environ)
	if err != nil {
		fmt.Fprintf(env.Stderr, "bench: %v\n", err)
		return exitUsage
	}
	defer removeTmp()
	if problem := f.check(); problem != "" {
		fmt.Fprintln(env.Stderr, "bench: "+problem)
		return exitUsage
	}
	logger, err := newLogger(env.Stderr, cfg.Log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "bench: %v\n", err)
		return exitUsage
	}
	stopProfile, err := startCPUProfile(f.cpuProf)
	if err != nil {
		fmt.Fprintf(env.Stderr, "bench: %v\n", err)
		return exitUsage
	}
	defer stopProfile()
	res, err := bench.Run(ctx, bench.Options{
		Records: f.records, Size: f.size, InvalidShare: f.invalid, Format: f.format, Rules: f.withRules, Shadow: f.shadow,
		Partitions: int32(f.parts), Seed: f.seed, Rounds: f.rounds, Baseline: f.baseline,
		Rate: f.rate, Duration: f.duration, Config: cfg, Logger: logger,
		AfterDrain: heapProfiler(f.memProf, env.Stderr),
	})
	if err != nil {
		fmt.Fprintf(env.Stderr, "bench: %v\n", err)
		return exitInvalid
	}
	if f.asJSON {
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

// benchFlags are the bench command's flags.
type benchFlags struct {
	cfgPath, format, baseline                     string
	brokers, metadataURL, payloadsURL, dataDir    string
	cpuProf, memProf                              string
	records, size, parts, rounds, rate, batchSize int
	invalid                                       float64
	withRules, shadow, asJSON                     bool
	seed                                          uint64
	duration                                      time.Duration
}

func (f *benchFlags) register(fs *flagSet) {
	fs.StringVar(&f.cfgPath, "config", "", "YAML config `file` (brokers, stores, limits, batch size, compression)")
	fs.IntVar(&f.records, "records", 1_000_000, "records to drain in a backlog run")
	fs.IntVar(&f.size, "size", 300, "approximate record size in `bytes`")
	fs.Float64Var(&f.invalid, "invalid", 0.1, "share of invalid records, 0..1")
	fs.StringVar(&f.format, "format", bench.FormatJSON, "record format: json, avro or protobuf (raw binary)")
	fs.BoolVar(&f.withRules, "rules", false, "add a CEL business rule to the schema, and records that break it")
	fs.BoolVar(&f.shadow, "shadow", false, "put a candidate version 2 of the schema in shadow, judging every record beside version 1 (json only): what shadow validation costs")
	fs.IntVar(&f.parts, "partitions", 6, "partitions of the benchmark topics")
	fs.Uint64Var(&f.seed, "seed", 1, "workload seed")
	fs.IntVar(&f.rounds, "rounds", 1, "rounds to run; the summary gives median, min and max")
	fs.StringVar(&f.baseline, "baseline", "", "'copy': also drain each round with a bare consume-to-produce copy, and report ratios to it")
	fs.IntVar(&f.rate, "rate", 0, "produce at this many `records/s` while the gateway runs (latency run) instead of draining a backlog")
	fs.DurationVar(&f.duration, "duration", 30*time.Second, "length of a --rate run")
	fs.StringVar(&f.brokers, "brokers", "", "external Kafka `host:port[,host:port]` instead of a broker process")
	fs.StringVar(&f.metadataURL, "metadata-url", "", "metadata store `URL` (sqlite://PATH or postgres://...; default SQLite in the data dir)")
	fs.StringVar(&f.payloadsURL, "payloads-url", "", "payload store `URL` (file://PATH or s3://BUCKET?endpoint=...; default files in the data dir)")
	fs.StringVar(&f.dataDir, "data-dir", "", "data `dir` for the broker process and the default stores (default: a temporary dir, removed afterwards)")
	fs.IntVar(&f.batchSize, "batch-size", 0, "records per pipeline batch (default: the config's pipeline.batch_size)")
	fs.BoolVar(&f.asJSON, "json", false, "print the result as JSON")
	fs.StringVar(&f.cpuProf, "cpuprofile", "", "write a CPU profile of the whole run to `file` (go tool pprof)")
	fs.StringVar(&f.memProf, "memprofile", "", "write a heap profile to `file` when a gateway drain ends, before the stores close (go tool pprof; -sample_index=inuse_space for what is live, alloc_space for the churn)")
}

// config loads the config file and applies the flags given over it, in a
// temporary data dir unless --data-dir names one; removeTmp removes that
// dir (it does nothing when there is none, or with the error: the dir is
// already removed).
func (f *benchFlags) config(fs *flagSet, environ []string) (cfg config.Config, removeTmp func(), err error) {
	removeTmp = func() {}
	cfg, err = config.Load(f.cfgPath, environ)
	if err != nil {
		return cfg, removeTmp, err
	}
	if f.dataDir == "" {
		tmp, err := os.MkdirTemp("", "dataquarantine-bench-")
		if err != nil {
			return cfg, removeTmp, err
		}
		removeTmp = func() { _ = os.RemoveAll(tmp) } // best effort: it is a temporary dir
		f.dataDir = tmp
	}
	cfg.DataDir = f.dataDir
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "brokers":
			cfg.Kafka.Brokers = splitList(f.brokers)
		case "batch-size":
			cfg.Pipeline.BatchSize = f.batchSize
		case "metadata-url":
			cfg.Storage.Metadata.URL = f.metadataURL
		case "payloads-url":
			cfg.Storage.Payloads.URL = f.payloadsURL
		}
	})
	if err := cfg.Validate(); err != nil {
		removeTmp()
		return cfg, func() {}, fmt.Errorf("invalid configuration:\n%v", indent(err.Error()))
	}
	return cfg, removeTmp, nil
}

// check returns what is wrong with the workload flags, "" when nothing is.
func (f *benchFlags) check() string {
	switch {
	case f.records < 1, f.size < 1, f.parts < 1, f.rounds < 1, f.rate < 0, f.invalid < 0, f.invalid > 1:
		return "--records, --size, --partitions and --rounds must be positive, --rate not negative, --invalid within 0..1"
	case !slices.Contains(bench.Formats, f.format):
		return fmt.Sprintf("--format %q: want one of %s", f.format, strings.Join(bench.Formats, ", "))
	case !slices.Contains(bench.Baselines, f.baseline):
		return fmt.Sprintf("--baseline %q: want copy (or nothing)", f.baseline)
	case f.baseline != "" && f.rate > 0:
		return "--baseline is measured on backlog runs; drop --rate"
	case f.shadow && f.format != bench.FormatJSON:
		return fmt.Sprintf("--shadow is measured with --format json only, not %s", f.format)
	}
	return ""
}

// startCPUProfile starts a CPU profile of the whole run into path; stop
// ends it and closes the file. Without a path it does nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return func() {}, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return func() {}, err
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close() // the profile is flushed by StopCPUProfile
	}, nil
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
	rules := ""
	if r.Rules {
		rules = " + CEL rule"
	}
	if r.Shadow {
		rules += " + a version in shadow"
	}
	fmt.Fprintf(w, "DataQuarantine bench: %s, %d round(s) (%s%s, ~%d B, %d valid / %d invalid, %d partitions)\n",
		what, len(r.Rounds), r.Format, rules, r.RecordBytes, r.Valid, r.Invalid, r.Partitions)
	fmt.Fprintf(w, "  broker            %s\n", r.Broker)
	fmt.Fprintf(w, "  stores            %s\n", r.Stores)
	fmt.Fprintf(w, "\n  round  phase     records/s   MB/s  CPU µs/rec  broker µs/rec  p50 ms  p99 ms  max ms  peak RSS MB  index lag s\n")
	row := func(i int, name string, p *bench.Phase) {
		fmt.Fprintf(w, "  %5d  %-8s %10.0f %6.1f %11.2f %14.2f %7.1f %7.1f %7.1f %12.0f %12.2f\n", i, name,
			p.RecordsPerS, p.MBPerS, p.CPUPerRecUS, p.BrokerCPUPerRecUS, p.LatencyP50MS, p.LatencyP99MS, p.LatencyMaxMS, p.PeakRSSMB, p.IndexLagSec)
	}
	for i, rd := range r.Rounds {
		row(i+1, "gateway", &rd.Gateway)
		if rd.Copy != nil {
			row(i+1, "copy", rd.Copy)
		}
	}
	fmt.Fprintf(w, "\n  median (min - max) over %d round(s)\n", len(r.Rounds))
	fmt.Fprintf(w, "  gateway records/s       %s\n", r.Gateway.RecordsPerS)
	fmt.Fprintf(w, "  gateway CPU µs/record   %s (its process alone)\n", r.Gateway.CPUPerRecUS)
	fmt.Fprintf(w, "  broker CPU µs/record    %s\n", r.Gateway.BrokerCPUPerRecUS)
	fmt.Fprintf(w, "  latency p99 ms          %s (produce -> durable and committed)\n", r.Gateway.LatencyP99MS)
	fmt.Fprintf(w, "  peak RSS MB             %s\n", r.Gateway.PeakRSSMB)
	if r.Copy != nil {
		fmt.Fprintf(w, "  copy records/s          %s\n", r.Copy.RecordsPerS)
		fmt.Fprintf(w, "  copy CPU µs/record      %s\n", r.Copy.CPUPerRecUS)
		fmt.Fprintf(w, "  rate vs copy            %sx (gateway records/s / copy records/s, same round)\n", r.RateRatio)
		fmt.Fprintf(w, "  CPU vs copy             %sx (gateway CPU per record / copy's, same round)\n", r.CPURatio)
	}
	if r.Correct {
		fmt.Fprintf(w, "  correctness             OK: every record routed exactly once to where it belongs\n")
		return
	}
	fmt.Fprintf(w, "  correctness             FAILED:\n")
	for _, p := range r.Problems {
		fmt.Fprintf(w, "    - %s\n", p)
	}
}
