package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/app"
	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/dlqimport"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

func runDLQ(ctx context.Context, env Env) int {
	return group{name: "dlq", about: `Adopt existing dead-letter topics: bring the records Kafka Connect, Confluent's
DlqAction or another DataQuarantine gateway dead-lettered into the quarantine,
where they are browsable, searchable and reprocessable to their original topic
(quarantine reprocess --target source). To follow a topic continuously, list it
in topics.imports and run serve. See docs/dlq.md.`, subs: dlqCommands}.run(ctx, env)
}

// dlqCommands are the subcommands of "dataquarantine dlq".
var dlqCommands = []command{
	{"import", "read a dead-letter topic once into the quarantine", runDLQImport},
}

func runDLQImport(ctx context.Context, env Env) int {
	fs := newFlagSet(env, "dlq import", "--topic TOPIC --from connect|confluent|dq [flags]", `
Read the dead-letter topic TOPIC, from its earliest records to the end it has
when the import starts, into the quarantine: one metadata row and one stored
payload (value and headers, byte for byte) per record. The original topic,
partition and offset and the reason come from the writer's headers:

  connect    a Kafka Connect sink's errors.deadletterqueue topic; the
             __connect.errors.* context headers (written with
             errors.deadletterqueue.context.headers.enable=true)
  confluent  Confluent's DlqAction (a data-contract rule with onFailure DLQ);
             the __rule.* headers
  dq         another DataQuarantine gateway's DLQ; the dq.* headers

A record without those headers is imported too, its error saying what was
missing. Importing a topic twice adds nothing: a record's id is that of its
original topic, partition and offset when its headers name all three, else
that of its own place in TOPIC.

The stores and brokers are the config's (as serve uses them): in embedded
mode, the running gateway's broker (kafka.embedded.listen) and its data dir.
Records are read and written in bounded batches; an outage of a store is
retried with back-off until it ends or --timeout passes.`)
	fs.exitStatus(`0  every record was read and is stored
1  the import failed (no such topic, a broker or store unreachable until --timeout,
   an interrupt): what was stored stays, and importing again adds the rest
2  bad flags or configuration`)
	var (
		topic       = fs.String("topic", "", "the dead-letter `topic` to import (required)")
		from        = fs.String("from", "", "who wrote it: `connect`, confluent or dq (required)")
		sourceTopic = fs.String("source-topic", "", "the original `topic` of records whose headers name none (a Connect DLQ without context headers), so they can be reprocessed to it")
		cfgPath     = fs.String("config", "", "YAML config `file` (brokers, stores)")
		dataDir     = fs.String("data-dir", "", "data `dir` holding the default stores (default ./data)")
		brokers     = fs.String("brokers", "", "Kafka `host:port[,host:port]` to read from (default: kafka.brokers, else kafka.embedded.listen)")
		batchSize   = fs.Int("batch-size", 500, "records written per batch, 1 to 100000")
		timeout     = fs.Duration("timeout", 0, "give up after this `duration` (0: no limit)")
		asJSON      = fs.Bool("json", false, "print the counts as JSON")
	)
	if code := fs.parse(); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(fs, "dlq import takes no arguments: name the topic with --topic")
	}
	if *topic == "" || *from == "" {
		return usageError(fs, "--topic and --from are required")
	}
	if err := config.CheckTopicName(*topic); err != nil {
		return usageError(fs, "--topic: "+err.Error())
	}
	format, err := dlqimport.ParseFormat(*from)
	if err != nil {
		return usageError(fs, "--from: "+err.Error())
	}
	if *sourceTopic != "" {
		if err := config.CheckTopicName(*sourceTopic); err != nil {
			return usageError(fs, "--source-topic: "+err.Error())
		}
	}
	if *batchSize < 1 || *batchSize > 100_000 {
		return usageError(fs, fmt.Sprintf("--batch-size must be 1 to 100000, got %d", *batchSize))
	}
	if *timeout < 0 {
		return usageError(fs, "--timeout must not be negative")
	}
	cfg, err := config.Load(*cfgPath, env.Environ)
	if err != nil {
		fmt.Fprintf(env.Stderr, "dlq import: %v\n", err)
		return exitUsage
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "data-dir" {
			cfg.DataDir = *dataDir
		}
	})
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(env.Stderr, "dlq import: invalid configuration:\n%v\n", indent(err.Error()))
		return exitUsage
	}
	seeds := cfg.Kafka.Brokers
	if len(seeds) == 0 {
		seeds = []string{cfg.Kafka.Embedded.Listen}
	}
	if *brokers != "" {
		seeds = nil
		for b := range strings.SplitSeq(*brokers, ",") {
			if b = strings.TrimSpace(b); b != "" {
				seeds = append(seeds, b)
			}
		}
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	res, err := importDLQ(ctx, env, cfg, seeds, dlqimport.ImportOptions{
		Topic: *topic, Format: format, SourceTopic: *sourceTopic, BatchSize: *batchSize,
	})
	if res.ByErrorType == nil {
		res.ByErrorType = map[record.ErrorType]int64{}
	}
	if *asJSON {
		out := struct {
			Topic string `json:"topic"`
			From  string `json:"from"`
			dlqimport.Result
			Error string `json:"error,omitempty"`
		}{Topic: *topic, From: string(format), Result: res}
		if err != nil {
			out.Error = err.Error()
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if werr := enc.Encode(out); werr != nil && !errors.Is(werr, io.ErrShortWrite) {
			fmt.Fprintf(env.Stderr, "dlq import: %v\n", werr)
		}
	} else if err == nil || res.Read > 0 {
		printImport(env.Stdout, *topic, format, res)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "dlq import: %v\n", err)
		return exitInvalid
	}
	return exitOK
}

// importDLQ opens the config's stores and imports.
func importDLQ(ctx context.Context, env Env, cfg config.Config, seeds []string, opts dlqimport.ImportOptions) (dlqimport.Result, error) {
	if cfg.Storage.Metadata.URL == "" || cfg.Storage.Payloads.URL == "" {
		// The default stores live in the data dir: a mistyped --data-dir
		// must not import into a new, empty store nobody reads.
		if _, err := os.Stat(cfg.DataDir); err != nil {
			return dlqimport.Result{}, fmt.Errorf("data dir %s: %w (the stores are in the gateway's data_dir: pass --data-dir or --config)", cfg.DataDir, err)
		}
	}
	meta, payloads, err := app.OpenStores(cfg)
	if err != nil {
		return dlqimport.Result{}, err
	}
	defer func() {
		for _, c := range []io.Closer{meta, payloads} {
			if c != nil {
				if err := c.Close(); err != nil {
					fmt.Fprintf(env.Stderr, "dlq import: closing a store: %v\n", err)
				}
			}
		}
	}()
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	in, err := pipeline.NewIngester(pipeline.IngestOptions{
		Metadata: meta, Payloads: payloads,
		RetryBackoffMin: cfg.Pipeline.RetryBackoffMin, RetryBackoffMax: cfg.Pipeline.RetryBackoffMax,
		Logger: log,
	})
	if err != nil {
		return dlqimport.Result{}, err
	}
	opts.KafkaOpts = []kgo.Opt{kgo.SeedBrokers(seeds...), kgo.ClientID(cfg.Kafka.ClientID + "-dlq-import")}
	opts.Ingester, opts.Metadata, opts.Logger = in, meta, log
	last := time.Now()
	opts.Progress = func(r dlqimport.Result) {
		if time.Since(last) >= 5*time.Second {
			last = time.Now()
			fmt.Fprintf(env.Stderr, "dlq import: %d read, %d imported, %d skipped so far\n", r.Read, r.Imported, r.Skipped)
		}
	}
	return dlqimport.Import(ctx, opts)
}

// printImport prints the counts for a person.
func printImport(w io.Writer, topic string, f dlqimport.Format, r dlqimport.Result) {
	parts := "partitions"
	if r.Partitions == 1 {
		parts = "partition"
	}
	fmt.Fprintf(w, "%s (%s, %d %s): %d records read, %d imported, %d already in the quarantine\n",
		topic, f.Title(), r.Partitions, parts, r.Read, r.Imported, r.Skipped)
	if len(r.ByErrorType) > 0 {
		types := make([]record.ErrorType, 0, len(r.ByErrorType))
		for t := range r.ByErrorType {
			types = append(types, t)
		}
		slices.SortFunc(types, func(a, b record.ErrorType) int {
			return cmp.Or(cmp.Compare(r.ByErrorType[b], r.ByErrorType[a]), strings.Compare(string(a), string(b)))
		})
		counts := make([]string, len(types))
		for i, t := range types {
			counts[i] = fmt.Sprintf("%s %d", t, r.ByErrorType[t])
		}
		fmt.Fprintf(w, "  imported by error type: %s\n", strings.Join(counts, ", "))
	}
	if r.MissingHeaders > 0 {
		fmt.Fprintf(w, "  %d lacked the %s headers: their error says what is missing (keyword %s)\n", r.MissingHeaders, f.Title(), dlqimport.KeywordMissingHeaders)
	}
}
