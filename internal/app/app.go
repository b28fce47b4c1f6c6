package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/circuit"
	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/demo"
	"github.com/dataquarantine/dataquarantine/internal/httpapi"
	"github.com/dataquarantine/dataquarantine/internal/httpapi/auth"
	"github.com/dataquarantine/dataquarantine/internal/httpapi/registryapi"
	"github.com/dataquarantine/dataquarantine/internal/kafka"
	"github.com/dataquarantine/dataquarantine/internal/live"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/postgres"
	"github.com/dataquarantine/dataquarantine/internal/registry"
	regpostgres "github.com/dataquarantine/dataquarantine/internal/registry/postgres"
	regsqlite "github.com/dataquarantine/dataquarantine/internal/registry/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/reprocess"
	"github.com/dataquarantine/dataquarantine/internal/retention"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/web"
)

// Options configure an App.
type Options struct {
	// Config must have passed Validate. Required.
	Config config.Config
	// Version is reported in logs and metrics. Default "dev".
	Version string
	// Logger: default slog.Default().
	Logger *slog.Logger
}

// App is a running gateway.
type App struct {
	cfg     config.Config
	log     *slog.Logger
	version string
	started time.Time

	embedded *kafka.Embedded
	brokers  []string
	client   *kgo.Client
	txn      *kgo.GroupTransactSession // kafka.exactly_once: wraps client
	replayCl *kgo.Client               // reprocess jobs' producer with exactly-once, nil otherwise
	demoCl   *kgo.Client
	meta     quarantine.MetadataStore
	payloads quarantine.PayloadStore
	pg       *postgres.Store // the metadata store when it is PostgreSQL, for pool metrics
	spools   []syncer        // spools in front of network stores, drained by Run
	regStore registry.Store
	audit    audit.Log       // the audit trail kept by the metadata store
	records  reprocess.Store // the metadata driver itself: lifecycle and jobs (a.meta may be a spool in front of it)
	replay   *reprocess.Service
	registry *registry.Registry
	resolver *registry.Resolver
	pipe     *pipeline.Pipeline
	circuit  *circuit.Set
	lag      *kafka.LagReporter
	purge    *retention.Job
	metrics  *pipeline.Metrics
	httpLn   net.Listener
	httpSrv  *http.Server
	ready    atomic.Bool
}

// New builds every component and binds every listener, so that a port in
// use or a bad schema fails here, before anything runs. Close releases what
// New acquired; Run also does.
func New(ctx context.Context, opts Options) (_ *App, err error) {
	a := &App{cfg: opts.Config, log: opts.Logger, version: opts.Version, started: time.Now()}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.version == "" {
		a.version = "dev"
	}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if err := os.MkdirAll(a.cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("creating data dir: %w", err)
	}
	if err := a.startKafka(ctx); err != nil {
		return nil, err
	}
	st, err := openStores(a.cfg, a.log)
	if err != nil {
		return nil, err
	}
	a.meta, a.payloads, a.pg = st.meta, st.payloads, st.pg
	if a.records, a.audit, err = lifecycleOf(st.meta); err != nil {
		return nil, err
	}
	if err := a.openRegistry(ctx); err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo(a.version),
	)
	if a.pg != nil {
		reg.MustRegister(poolGauges(a.pg)...)
	}
	if err := a.spoolStores(reg); err != nil {
		return nil, err
	}
	if a.purge, err = a.newRetention(st, reg); err != nil {
		return nil, err
	}
	a.metrics = pipeline.NewMetrics(reg)
	engine, err := a.buildEngine(ctx, reg)
	if err != nil {
		return nil, err
	}
	a.lag, err = kafka.NewLagReporter(kafka.LagOptions{
		Client: a.client, Group: a.cfg.Kafka.GroupID, Topics: a.inputTopics(),
		Registerer: reg, Logger: a.log,
	})
	if err != nil {
		return nil, err
	}
	var breaker pipeline.CircuitRecorder
	if a.cfg.Circuit.Enabled {
		a.circuit, err = circuit.NewSet(circuit.SetOptions{
			Breaker: circuit.Options{
				Threshold:  a.cfg.Circuit.Threshold,
				Window:     a.cfg.Circuit.Window,
				MinRecords: a.cfg.Circuit.MinRecords,
				Cooldown:   a.cfg.Circuit.Cooldown,
			},
			Topics:     a.inputTopics(),
			Pauser:     a.client,
			Registerer: reg,
			WebhookURL: a.cfg.Circuit.WebhookURL,
			Logger:     a.log.With("component", "circuit"),
		})
		if err != nil {
			return nil, err
		}
		breaker = a.circuit
	}
	a.pipe, err = pipeline.New(pipeline.Options{
		Client:          a.client,
		Transact:        a.txn,
		Engine:          engine,
		Metadata:        a.meta,
		Payloads:        a.payloads,
		CleanTopic:      a.cfg.Topics.Clean,
		DLQTopic:        a.cfg.Topics.DLQ,
		Metrics:         a.metrics,
		BatchSize:       a.cfg.Pipeline.BatchSize,
		RetryBackoffMin: a.cfg.Pipeline.RetryBackoffMin,
		RetryBackoffMax: a.cfg.Pipeline.RetryBackoffMax,
		Logger:          a.log,
		Circuit:         breaker,
	})
	if err != nil {
		return nil, err
	}
	publisher, err := a.replayPublisher()
	if err != nil {
		return nil, err
	}
	a.replay, err = reprocess.New(reprocess.Options{
		Store:           a.records,
		Payloads:        a.payloads,
		Validator:       engine,
		Publisher:       publisher,
		CleanTopic:      a.cfg.Topics.Clean,
		Audit:           a.audit,
		MaxReplays:      a.cfg.Reprocess.MaxReplays,
		BatchSize:       a.cfg.Reprocess.BatchSize,
		MaxAttempts:     a.cfg.Reprocess.MaxAttempts,
		MaxPayloadBytes: a.cfg.Limits.MaxBytes,
		Lease:           a.cfg.Reprocess.Lease,
		ScanInterval:    a.cfg.Reprocess.ScanInterval,
		Registerer:      reg,
		Logger:          a.log,
	})
	if err != nil {
		return nil, err
	}
	if err := a.listenHTTP(reg); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *App) startKafka(ctx context.Context) error {
	a.brokers = a.cfg.Kafka.Brokers
	if len(a.brokers) == 0 {
		emb, err := kafka.StartEmbedded(kafka.EmbeddedOptions{
			Listen:  a.cfg.Kafka.Embedded.Listen,
			DataDir: filepath.Join(a.cfg.DataDir, "kafka"),
		})
		if err != nil {
			return err
		}
		a.embedded = emb
		a.brokers = []string{emb.Addr()}
	}
	inputs := a.inputTopics()
	gopts := kafka.GroupOptions{
		Brokers:  a.brokers,
		ClientID: a.cfg.Kafka.ClientID,
		GroupID:  a.cfg.Kafka.GroupID,
		Topics:   inputs,
		OnAssigned: func(map[string][]int32) {
			if !a.ready.Swap(true) {
				a.log.Info("consuming", "topics", inputs, "group", a.cfg.Kafka.GroupID)
			}
		},
		MaxBufferedRecords: 4 * a.cfg.Pipeline.BatchSize,
		SessionTimeout:     a.cfg.Kafka.SessionTimeout,
		Logger:             a.log,
	}
	cl, err := a.newKafkaClient(ctx, gopts)
	if err != nil {
		return err
	}
	a.client = cl
	if !a.cfg.Kafka.CreateTopics {
		return nil
	}
	specs := make([]kafka.TopicSpec, 0, len(inputs)+2)
	for _, t := range append(inputs, a.cfg.Topics.Clean, a.cfg.Topics.DLQ) {
		specs = append(specs, kafka.TopicSpec{Name: t, Partitions: a.cfg.Kafka.Partitions, ReplicationFactor: a.cfg.Kafka.ReplicationFactor})
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := kafka.EnsureTopics(ctx, cl, specs); err != nil {
		return fmt.Errorf("ensuring topics on %v: %w", a.brokers, err)
	}
	return nil
}

func (a *App) listenHTTP(reg *prometheus.Registry) error {
	h, err := httpapi.New(httpapi.Options{
		Quarantine: a.meta,
		Payloads:   a.payloads,
		Stats:      statsSource{m: a.metrics, since: a.started},
		Circuit:    a.circuitControl(),
		Reprocess:  a.replay,
		Audit:      a.audit,
		Metrics:    promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}),
		Ready:      a.ready.Load,
		Logger:     a.log,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", a.cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("listening on http.listen %s: %w", a.cfg.HTTP.Listen, err)
	}
	a.httpLn = ln
	regAPI, err := registryapi.New(registryapi.Options{Registry: a.registry, Logger: a.log, Audit: a.audit})
	if err != nil {
		return err
	}
	ui, stats, err := a.newUI(reg, regAPI)
	if err != nil {
		return err
	}
	root := http.NewServeMux()
	root.Handle("/registry/", http.StripPrefix("/registry", regAPI))
	root.Handle(registryapi.StatePattern, regAPI.StateHandler())
	for _, p := range []string{"/api/", "/healthz", "/readyz", "/metrics"} {
		root.Handle(p, h)
	}
	root.Handle(live.EventsPattern, live.Stream(live.StreamOptions{Sampler: stats, Logger: a.log}))
	if a.cfg.HTTP.Pprof {
		mountPprof(root)
	}
	root.Handle("/", ui)
	guard, err := a.newAuth()
	if err != nil {
		return err
	}
	a.httpSrv = &http.Server{
		Handler:           guard.Wrap(root),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	a.httpSrv.RegisterOnShutdown(stats.Close) // event streams end, so Shutdown does not wait on them
	return nil
}

// newAuth builds the HTTP auth middleware from http.auth, recording changes
// in a.audit when there is one.
func (a *App) newAuth() (*auth.Middleware, error) {
	tokens := make([]auth.Token, len(a.cfg.HTTP.Auth.Tokens))
	for i, t := range a.cfg.HTTP.Auth.Tokens {
		secret, err := a.cfg.TokenValue(i)
		if err != nil {
			return nil, fmt.Errorf("http.auth.tokens[%d]: %w", i, err)
		}
		tokens[i] = auth.Token{Name: t.Name, Role: t.Role, Secret: secret}
	}
	login, err := web.LoginPage()
	if err != nil {
		return nil, err
	}
	return auth.New(auth.Options{
		Tokens:        tokens,
		LoginPage:     login,
		PublicMetrics: a.cfg.HTTP.Auth.PublicMetrics,
		Audit:         a.audit,
		Logger:        a.log.With("component", "auth"),
	})
}

// KafkaAddr returns the bootstrap address in use (the embedded broker's, or
// the first configured broker).
func (a *App) KafkaAddr() string { return a.brokers[0] }

// HTTPAddr returns the HTTP listener's address.
func (a *App) HTTPAddr() string { return a.httpLn.Addr().String() }

// Embedded reports whether the broker runs in this process.
func (a *App) Embedded() bool { return a.embedded != nil }

// Run serves until ctx ends, then shuts down in order: demo traffic and the
// HTTP server stop, the pipeline finishes its batch, and the stores and
// broker close. It returns the first component error, if any.
func (a *App) Run(ctx context.Context) error {
	defer a.Close()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.pipe.Run(ctx) })
	g.Go(func() error { return a.lag.Run(ctx) })
	g.Go(func() error { return a.purge.Run(ctx) })
	g.Go(func() error { return a.resolver.Run(ctx) })
	g.Go(func() error { return a.replay.Run(ctx) })
	for _, s := range a.spools {
		g.Go(func() error { return s.Run(ctx) })
	}
	if a.circuit != nil {
		g.Go(func() error { return a.circuit.Run(ctx) })
	}
	g.Go(func() error {
		if err := a.httpSrv.Serve(a.httpLn); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := a.httpSrv.Shutdown(shutCtx); err != nil {
			// A browser holding a connection it has not sent a request
			// on (a preconnect) keeps Shutdown waiting: not a failure.
			a.log.Warn("closing HTTP connections still open after 5s", "err", err)
			return a.httpSrv.Close()
		}
		return nil
	})
	if a.cfg.Demo.Enabled {
		if err := a.startDemo(ctx, g); err != nil {
			return err
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	a.log.Info("stopped cleanly")
	return nil
}

func (a *App) startDemo(ctx context.Context, g *errgroup.Group) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(a.brokers...), kgo.ClientID(a.cfg.Kafka.ClientID+"-demo"))
	if err != nil {
		return fmt.Errorf("creating demo producer: %w", err)
	}
	a.demoCl = cl
	p := demo.NewProducer(demo.Options{
		Client:       cl,
		Topic:        a.cfg.Topics.Inputs[0].Topic,
		Rate:         a.cfg.Demo.Rate,
		InvalidShare: a.cfg.Demo.InvalidShare,
		Logger:       a.log,
	})
	g.Go(func() error { return p.Run(ctx) })
	return nil
}

// Close releases everything New acquired, in reverse order. It is safe to
// call more than once.
func (a *App) Close() {
	if a.demoCl != nil {
		a.demoCl.Close()
		a.demoCl = nil
	}
	if a.httpLn != nil {
		_ = a.httpLn.Close() // already closed after a clean Shutdown
	}
	if a.replayCl != nil {
		a.replayCl.Close()
		a.replayCl = nil
	}
	if a.client != nil {
		a.client.Close()
		a.client = nil
	}
	for _, c := range []io.Closer{a.meta, a.payloads} {
		if c != nil {
			if err := c.Close(); err != nil {
				a.log.Warn("closing store", "err", err)
			}
		}
	}
	a.meta, a.payloads = nil, nil
	if a.regStore != nil {
		if err := a.regStore.Close(); err != nil {
			a.log.Warn("closing schema registry", "err", err)
		}
		a.regStore = nil
	}
	if a.embedded != nil {
		a.embedded.Close()
		a.embedded = nil
	}
}

func buildInfo(version string) prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "dataquarantine_build_info",
		Help:        "Build information; the value is always 1.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	g.Set(1)
	return g
}

// poolGauges export the PostgreSQL metadata store's connection pool use, read
// at scrape time, for the pool-saturation alert (PRODUCT.md §8 names them).
func poolGauges(pg *postgres.Store) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "postgres_pool_active_connections",
			Help: "Connections of the PostgreSQL metadata store's pool in use.",
		}, func() float64 {
			active, _ := pg.PoolStats()
			return float64(active)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "postgres_pool_max_connections",
			Help: "Largest size of the PostgreSQL metadata store's pool.",
		}, func() float64 {
			_, maxConns := pg.PoolStats()
			return float64(maxConns)
		}),
	}
}

// statsSource adapts the pipeline's metrics to the API's stats.
type statsSource struct {
	m     *pipeline.Metrics
	since time.Time
}

func (s statsSource) Stats() httpapi.Stats {
	t := s.m.Totals()
	return httpapi.Stats{
		Since:              s.since,
		Processed:          t.Processed,
		Valid:              t.Valid,
		Invalid:            t.Invalid,
		InvalidByErrorType: t.InvalidByErrorType,
	}
}

func (a *App) inputTopics() []string {
	ts := make([]string, len(a.cfg.Topics.Inputs))
	for i, in := range a.cfg.Topics.Inputs {
		ts[i] = in.Topic
	}
	return ts
}

// circuitControl is the breaker set for the API, or nil (a typed nil
// pointer in the interface would look enabled) when it is disabled.
func (a *App) circuitControl() httpapi.CircuitControl {
	if a.circuit == nil {
		return nil
	}
	return a.circuit
}

// openRegistry opens the schema registry where the metadata is: in
// PostgreSQL beside the quarantine tables, or in registry.db beside the
// SQLite metadata file. It then registers the config's schemas in it (GitOps): each under its subject
// unless already there, in version order, enforced, since they are what
// the pipeline validates with. A config schema the registry refuses as
// incompatible is logged, not fatal: the pipeline still uses the config.
func (a *App) openRegistry(ctx context.Context) error {
	u, err := config.ParseStoreURL(a.cfg.MetadataURL())
	if err != nil {
		return fmt.Errorf("storage.metadata.url: %w", err)
	}
	// Assigned only on success: a nil *Store in the interface would not
	// be nil for Close.
	switch u.Scheme {
	case config.SchemePostgres, config.SchemePostgreSQL:
		openCtx, cancel := context.WithTimeout(ctx, time.Minute)
		s, err := regpostgres.New(openCtx, regpostgres.Options{URL: a.cfg.MetadataURL()})
		cancel()
		if err != nil {
			return fmt.Errorf("opening schema registry: %w", err)
		}
		a.regStore = s
	default:
		s, err := regsqlite.New(regsqlite.Options{Path: filepath.Join(filepath.Dir(u.Path), "registry.db")})
		if err != nil {
			return fmt.Errorf("opening schema registry: %w", err)
		}
		a.regStore = s
	}
	a.registry, err = registry.New(registry.Options{Store: a.regStore, OnChange: a.schemaChanged})
	if err != nil {
		return err
	}
	order := make([]int, len(a.cfg.Schemas))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool { return a.cfg.Schemas[order[x]].Version < a.cfg.Schemas[order[y]].Version })
	for _, i := range order {
		sc := a.cfg.Schemas[i]
		src, err := a.cfg.SchemaSource(i)
		if err != nil {
			return fmt.Errorf("schemas[%d]: %w", i, err)
		}
		_, err = a.registry.Register(ctx, registry.RegisterRequest{
			Subject: sc.Subject, Format: schema.Format(sc.Type), Schema: string(src), State: registry.StateEnforced,
		})
		if errors.Is(err, registry.ErrIncompatible) || errors.Is(err, registry.ErrOperationNotPermitted) {
			a.log.Warn("schema registry refused a config schema", "subject", sc.Subject, "version", sc.Version, "err", err)
			continue
		}
		if err != nil {
			return fmt.Errorf("registering schemas[%d] (subject %s) in the schema registry: %w", i, sc.Subject, err)
		}
	}
	return nil
}
