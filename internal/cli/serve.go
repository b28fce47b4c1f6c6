package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/dataquarantine/dataquarantine/internal/app"
	"github.com/dataquarantine/dataquarantine/internal/config"
)

func runServe(ctx context.Context, env Env) int {
	fs := newFlagSet(env, "serve", "[flags]", `
Run the gateway. With no flags and no config it starts in embedded mode: an
in-process Kafka-protocol broker, a SQLite metadata store and payload files,
all under the data dir, with the built-in user_event schema bound to
raw-events. --brokers uses an external Kafka cluster instead.

Settings come from built-in defaults, then the --config file, then DQ_*
environment variables (e.g. DQ_KAFKA_BROKERS), then these flags.
See docs/configuration.md for every key.`)
	var (
		cfgPath  = fs.String("config", "", "YAML config `file`")
		dataDir  = fs.String("data-dir", "", "data `dir` for the embedded broker log, SQLite and payload files (default ./data)")
		httpAddr = fs.String("http", "", "HTTP listen `address` for the API, metrics and health (default 127.0.0.1:8080)")
		brokers  = fs.String("brokers", "", "external Kafka `host:port[,host:port]`; no embedded broker is started")
		embedded = fs.String("embedded-kafka", "", "listen `address` of the embedded broker (default 127.0.0.1:9092)")
		demo     = fs.Bool("demo", false, "also produce demo traffic (mostly valid, some of each kind of invalid) into the first input topic")
	)
	fs.exitStatus(`0  stopped cleanly, by SIGINT or SIGTERM
1  could not start, or stopped with an error (logged)
2  bad flags or configuration`)
	if code := fs.parse(); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "serve: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	cfg, err := config.Load(*cfgPath, env.Environ)
	if err != nil {
		fmt.Fprintf(env.Stderr, "dataquarantine: %v\n", err)
		return exitUsage
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "data-dir":
			cfg.DataDir = *dataDir
		case "http":
			cfg.HTTP.Listen = *httpAddr
		case "brokers":
			cfg.Kafka.Brokers = splitList(*brokers)
		case "embedded-kafka":
			cfg.Kafka.Embedded.Listen = *embedded
		case "demo":
			cfg.Demo.Enabled = *demo
		}
	})
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(env.Stderr, "dataquarantine: invalid configuration:\n%v\n", indent(err.Error()))
		return exitUsage
	}
	logger, err := newLogger(env.Stderr, cfg.Log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "dataquarantine: %v\n", err)
		return exitUsage
	}
	a, err := app.New(ctx, app.Options{Config: cfg, Version: Version(), Logger: logger})
	if err != nil {
		logger.Error("cannot start", "err", err)
		return exitInvalid
	}
	printBanner(env.Stdout, &cfg, a)
	if err := a.Run(ctx); err != nil {
		logger.Error("stopped with an error", "err", err)
		return exitInvalid
	}
	return exitOK
}

func printBanner(w io.Writer, cfg *config.Config, a *app.App) {
	mode := "external Kafka"
	kafkaNote := ""
	if a.Embedded() {
		mode = "embedded mode"
		kafkaNote = "  (embedded broker; any Kafka client can connect)"
	}
	fmt.Fprintf(w, "DataQuarantine %s, %s\n", Version(), mode)
	fmt.Fprintf(w, "  Kafka bootstrap   %s%s\n", a.KafkaAddr(), kafkaNote)
	for _, in := range cfg.Topics.Inputs {
		note := ""
		if in.Mode == config.ModeObserve {
			note = "  (observe mode: every record goes to the clean topic, invalid ones marked)"
		}
		fmt.Fprintf(w, "  Input topic       %s -> schema subject %s%s\n", in.Topic, in.Subject, note)
	}
	fmt.Fprintf(w, "  Clean topic       %s\n", cfg.Topics.Clean)
	fmt.Fprintf(w, "  Quarantine topic  %s\n", cfg.Topics.DLQ)
	for _, im := range cfg.Topics.Imports {
		fmt.Fprintf(w, "  Followed DLQ      %s (written by %s) -> quarantine\n", im.Topic, im.From)
	}
	base := "http://" + a.HTTPAddr()
	fmt.Fprintf(w, "  Web UI            %s/\n", base)
	fmt.Fprintf(w, "  HTTP              %s  (API %s/api/v1/quarantine, metrics %s/metrics)\n", base, base, base)
	if n := len(cfg.HTTP.Auth.Tokens); n > 0 {
		fmt.Fprintf(w, "  HTTP auth         on: %d API token(s); browsers log in at %s/login\n", n, base)
	} else {
		fmt.Fprintf(w, "  HTTP auth         off (loopback only): every request acts as admin\n")
	}
	fmt.Fprintf(w, "  Data dir          %s\n", cfg.DataDir)
	fmt.Fprintf(w, "  Metadata store    %s\n", config.RedactURL(cfg.MetadataURL()))
	fmt.Fprintf(w, "  Payload store     %s\n", config.RedactURL(cfg.PayloadsURL()))
	if cfg.Demo.Enabled {
		fmt.Fprintf(w, "  Demo traffic      %d records/s into %s, %.0f%% invalid\n", cfg.Demo.Rate, cfg.Topics.Inputs[0].Topic, cfg.Demo.InvalidShare*100)
	}
	fmt.Fprintf(w, "\nTry it:\n  echo '{\"user_id\":\"USER123456\",\"event_type\":\"view\",\"timestamp\":\"2026-01-10T19:50:00Z\"}' | kcat -P -b %s -t %s\n  curl -s %s/api/v1/stats\n\n",
		a.KafkaAddr(), cfg.Topics.Inputs[0].Topic, base)
}

func newLogger(w io.Writer, c config.Log) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
