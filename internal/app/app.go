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
	"slices"
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
	"github.com/dataquarantine/dataquarantine/internal/dlqimport"
	"github.com/dataquarantine/dataquarantine/internal/httpapi"
	"github.com/dataquarantine/dataquarantine/internal/httpapi/auth"
	"github.com/dataquarantine/dataquarantine/internal/httpapi/registryapi"
	"github.com/dataquarantine/dataquarantine/internal/kafka"
	"github.com/dataquarantine/dataquarantine/internal/live"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/postgres"
	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/reprocess"
	"github.com/dataquarantine/dataquarantine/internal/retention"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/shadow"
	"github.com/dataquarantine/dataquarantine/internal/validate"
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
	// OnCommit, when set, is the pipeline's OnCommit hook: called after each
	// batch is durable and committed, with its input records, on the
	// pipeline's goroutine. It is how the benchmark measures the serve
	// wiring without wiring a pipeline of its own. Default none.
	OnCommit func(recs []*kgo.Record)
}

// App is a running gateway.
type App struct {
	opts    Options
	cfg     config.Config
	log     *slog.Logger
	version string
	started time.Time

	embedded *kafka.Embedded
	brokers  []string
	limits   *kafka.TopicLimits // the output topics' max.message.bytes, read at start
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
	importCl *kgo.Client         // topics.imports' group client, nil without imports
	imports  *dlqimport.Follower // topics.imports, nil without any
	circuit  *circuit.Set
	lag      *kafka.LagReporter
	purge    *retention.Job
	metrics  *pipeline.Metrics
	gatherer prometheus.Gatherer // the registry /metrics serves
	shadow   *shadow.Tally       // what the versions in shadow would change
	httpLn   net.Listener
	httpSrv  *http.Server
	ready    atomic.Bool
	fenced   atomic.Bool    // another process took kafka.instance_id
	recorder *live.Recorder // the dashboard's in-memory history; nil with ui.prometheus_url
}

// New builds every component and binds every listener, so that a port in
// use or a bad schema fails here, before anything runs. Close releases what
// New acquired; Run also does.
func New(ctx context.Context, opts Options) (_ *App, err error) {
	a := newApp(opts)
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	st, err := a.openBackends(ctx)
	if err != nil {
		return nil, err
	}
	reg := a.newMetricsRegistry()
	a.gatherer = reg
	if err := a.spoolStores(reg); err != nil {
		return nil, err
	}
	if a.purge, err = a.newRetention(st, reg); err != nil {
		return nil, err
	}
	engine, err := a.buildPipeline(ctx, reg)
	if err != nil {
		return nil, err
	}
	if err := a.followImports(reg); err != nil {
		return nil, err
	}
	if err := a.buildReprocess(engine, reg); err != nil {
		return nil, err
	}
	if err := a.listenHTTP(reg); err != nil {
		return nil, err
	}
	return a, nil
}

// newApp is an App with opts' defaults filled in, nothing acquired yet.
func newApp(opts Options) *App {
	a := &App{opts: opts, cfg: opts.Config, log: opts.Logger, version: opts.Version, started: time.Now()}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.version == "" {
		a.version = "dev"
	}
	return a
}

// openBackends makes the data directory and connects what the gateway
// stores in and reads from: the broker (or starts the embedded one), the
// quarantine stores with their record lifecycle and audit log, and the
// schema registry.
func (a *App) openBackends(ctx context.Context) (stores, error) {
	if err := os.MkdirAll(a.cfg.DataDir, 0o750); err != nil {
		return stores{}, fmt.Errorf("creating data dir: %w", err)
	}
	if err := a.startKafka(ctx); err != nil {
		return stores{}, err
	}
	st, err := openStores(a.cfg, a.log)
	if err != nil {
		return st, err
	}
	a.meta, a.payloads, a.pg = st.meta, st.payloads, st.pg
	if a.records, a.audit, err = lifecycleOf(st.meta); err != nil {
		return st, err
	}
	return st, a.openRegistry(ctx)
}

// newMetricsRegistry is the Prometheus registry every component registers
// with, holding the process's own collectors and PostgreSQL's pool gauges.
func (a *App) newMetricsRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo(a.version),
	)
	if a.pg != nil {
		reg.MustRegister(poolGauges(a.pg)...)
	}
	return reg
}

// buildPipeline builds the pipeline and what it reports to and asks: its
// metrics, the shadow evaluator, the validation engine (returned: the
// replay validates with it too), the lag reporter and the circuit
// breakers.
func (a *App) buildPipeline(ctx context.Context, reg prometheus.Registerer) (*validate.Engine, error) {
	a.metrics = pipeline.NewMetrics(reg)
	var err error
	if a.shadow, err = shadow.New(shadow.Options{Sample: a.cfg.Shadow.Sample, Registerer: reg}); err != nil {
		return nil, err
	}
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
	breaker, err := a.newCircuit(reg)
	if err != nil {
		return nil, err
	}
	a.pipe, err = pipeline.New(pipeline.Options{
		Client:          a.client,
		Transact:        a.txn,
		Engine:          engine,
		Metadata:        a.meta,
		Payloads:        a.payloads,
		CleanTopic:      a.cfg.Topics.Clean,
		DLQTopic:        a.cfg.Topics.DLQ,
		DLQCompat:       pipeline.DLQCompat{Headers: pipeline.DLQHeaders(a.cfg.Topics.DLQHeaders), ConnectorName: a.cfg.Kafka.GroupID},
		Metrics:         a.metrics,
		BatchSize:       a.cfg.Pipeline.BatchSize,
		RetryBackoffMin: a.cfg.Pipeline.RetryBackoffMin,
		RetryBackoffMax: a.cfg.Pipeline.RetryBackoffMax,
		MaxBatchHold:    a.cfg.Pipeline.MaxBatchHold,
		Logger:          a.log,
		Circuit:         breaker,
		OnCommit:        a.opts.OnCommit,
		Shadow:          a.shadow,
		Observe:         a.observedTopics(false),
		ObservedRows:    a.observedTopics(true),
	})
	if err != nil {
		return nil, err
	}
	return engine, nil
}

// newCircuit builds the circuit breakers of the enforcing topics, kept as
// a.circuit; none (a nil recorder) when the breaker is disabled or no
// topic enforces.
func (a *App) newCircuit(reg prometheus.Registerer) (pipeline.CircuitRecorder, error) {
	enforcing := a.enforcingTopics()
	if !a.cfg.Circuit.Enabled || len(enforcing) == 0 {
		return nil, nil
	}
	var err error
	a.circuit, err = circuit.NewSet(circuit.SetOptions{
		Breaker: circuit.Options{
			Threshold:  a.cfg.Circuit.Threshold,
			Window:     a.cfg.Circuit.Window,
			MinRecords: a.cfg.Circuit.MinRecords,
			Cooldown:   a.cfg.Circuit.Cooldown,
		},
		Topics:     enforcing,
		Pauser:     a.client,
		Registerer: reg,
		WebhookURL: a.cfg.Circuit.WebhookURL,
		Logger:     a.log.With("component", "circuit"),
	})
	if err != nil {
		return nil, err
	}
	return a.circuit, nil
}

// buildReprocess builds the replay of quarantined records, validating with
// engine and publishing with the replay's own publisher.
func (a *App) buildReprocess(engine *validate.Engine, reg prometheus.Registerer) error {
	publisher, err := a.replayPublisher()
	if err != nil {
		return err
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
	return err
}

func (a *App) startKafka(ctx context.Context) error {
	a.brokers = a.cfg.Kafka.Brokers
	if len(a.brokers) == 0 {
		emb, err := kafka.StartEmbedded(kafka.EmbeddedOptions{
			Listen:      a.cfg.Kafka.Embedded.Listen,
			DataDir:     filepath.Join(a.cfg.DataDir, "kafka"),
			AllowRemote: a.cfg.Kafka.Embedded.AllowRemote,
			Advertise:   a.cfg.Kafka.Embedded.Advertise,
			Logger:      a.log,
		})
		if err != nil {
			return err
		}
		a.embedded = emb
		a.brokers = []string{emb.Addr()}
	}
	inputs := a.inputTopics()
	a.limits = kafka.NewTopicLimits()
	gopts := kafka.GroupOptions{
		Brokers:  a.brokers,
		ClientID: a.cfg.Kafka.ClientID,
		GroupID:  a.cfg.Kafka.GroupID,
		Topics:   inputs,
		OnAssigned: func(map[string][]int32) {
			if a.fenced.Swap(false) {
				a.log.Info("consuming again after being fenced", "instance_id", a.cfg.Kafka.InstanceID)
			}
			if !a.ready.Swap(true) {
				a.log.Info("consuming", "topics", inputs, "group", a.cfg.Kafka.GroupID)
				if id := a.cfg.Kafka.InstanceID; id != "" {
					a.log.Info("static group member: a restart with this id takes its partitions back at once", "instance_id", id)
				}
			}
		},
		MaxBufferedRecords: 4 * a.cfg.Pipeline.BatchSize,
		SessionTimeout:     a.cfg.Kafka.SessionTimeout,
		Limits:             a.limits,
		Compression:        a.cfg.Kafka.Compression,
		Logger:             a.log,
		InstanceID:         a.cfg.Kafka.InstanceID,
		OnFenced: func(err error) {
			a.fenced.Store(true)
			a.log.Error("fenced: another process joined the consumer group with this kafka.instance_id, so this one consumes nothing; give every gateway its own id",
				"instance_id", a.cfg.Kafka.InstanceID, "group", a.cfg.Kafka.GroupID, "err", err)
		},
	}
	cl, err := a.newKafkaClient(ctx, gopts)
	if err != nil {
		return err
	}
	a.client = cl
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// Every topic the gateway produces to: reprocess jobs may target the
	// inputs.
	outputs := slices.Concat(inputs, []string{a.cfg.Topics.Clean, a.cfg.Topics.DLQ})
	if a.cfg.Kafka.CreateTopics {
		create := slices.Clone(outputs)
		for _, im := range a.cfg.Topics.Imports {
			// As Kafka Connect creates its DLQ topic when missing: a
			// followed topic that does not exist yet is waited on either way.
			create = append(create, im.Topic)
		}
		specs := make([]kafka.TopicSpec, 0, len(create))
		for _, t := range create {
			specs = append(specs, kafka.TopicSpec{Name: t, Partitions: a.cfg.Kafka.Partitions, ReplicationFactor: a.cfg.Kafka.ReplicationFactor})
		}
		if err := kafka.EnsureTopics(ctx, cl, specs); err != nil {
			return fmt.Errorf("ensuring topics on %v: %w", a.brokers, err)
		}
	}
	// Read before the first produce: the producer caps each topic's
	// batches at its limit, so a record too large fails at once and is
	// routed elsewhere instead of retried.
	if err := a.limits.Read(ctx, cl, outputs...); err != nil {
		a.log.Warn("could not read the topics' max.message.bytes; producing with the default cap", "err", err)
	}
	for _, t := range []string{a.cfg.Topics.Clean, a.cfg.Topics.DLQ} {
		a.log.Debug("producer batch cap", "topic", t, "max_message_bytes", a.limits.For(t))
	}
	return nil
}

func (a *App) listenHTTP(reg *prometheus.Registry) error {
	regAPI, err := registryapi.New(registryapi.Options{Registry: a.registry, Logger: a.log, Audit: a.audit})
	if err != nil {
		return err
	}
	shadows := a.shadowControl(regAPI)
	h, err := httpapi.New(httpapi.Options{
		Quarantine: a.meta,
		Payloads:   a.payloads,
		Stats:      statsSource{reg: reg, since: a.started},
		Circuit:    a.circuitControl(),
		Reprocess:  a.replay,
		Audit:      a.audit,
		Metrics:    promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}),
		Health:     a.health,
		Logger:     a.log,
		Shadow:     shadows,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", a.cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("listening on http.listen %s: %w", a.cfg.HTTP.Listen, err)
	}
	a.httpLn = ln
	ui, stats, err := a.newUI(reg, regAPI, shadows)
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
	guard, err := a.newAuth(reg)
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
func (a *App) newAuth(reg prometheus.Registerer) (*auth.Middleware, error) {
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
		AllowedHosts:  a.cfg.HTTP.AllowedHosts,
		Registerer:    reg,
		Audit:         a.audit,
		Logger:        a.log.With("component", "auth"),
	})
}

// KafkaAddr returns the bootstrap address in use (the embedded broker's, or
// the first configured broker).
func (a *App) KafkaAddr() string { return a.brokers[0] }

// HTTPAddr returns the HTTP listener's address.
func (a *App) HTTPAddr() string { return a.httpLn.Addr().String() }

// Registry returns the gateway's schema registry, as its registry API
// changes it (the benchmark puts a candidate version in shadow through it
// before Run).
func (a *App) Registry() *registry.Registry { return a.registry }

// Metrics returns the gateway's metrics registry, what /metrics serves
// (the benchmark reads schema_shadow_verdicts_total from it).
func (a *App) Metrics() prometheus.Gatherer { return a.gatherer }

// Ready reports whether the gateway consumes: its partitions are assigned.
func (a *App) Ready() bool { return a.ready.Load() }

// Embedded reports whether the broker runs in this process.
func (a *App) Embedded() bool { return a.embedded != nil }

// Run serves until ctx ends, then shuts down in order: demo traffic and the
// HTTP server stop, the pipeline finishes its batch, and the stores and
// broker close. It returns the first component error, if any.
func (a *App) Run(ctx context.Context) error {
	defer a.Close()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.pipe.Run(ctx) })
	if a.imports != nil {
		g.Go(func() error { return a.imports.Run(ctx) })
	}
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
	if a.recorder != nil {
		g.Go(func() error { return a.recorder.Run(ctx) })
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
	a.drainSpools(ctx)
	a.log.Info("stopped cleanly")
	return nil
}

// drainSpools gives the spools a last chance, at a clean stop, to hand what
// they hold to their stores (SQLite's write-ahead rows above all), so a
// clean stop leaves nothing behind; what is left drains at the next start.
func (a *App) drainSpools(ctx context.Context) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for _, s := range a.spools {
		if !s.Drain(dctx) {
			_, items, _ := s.Depth()
			a.log.Warn("a spool still holds writes at shutdown; they drain at the next start", "items", items)
		}
	}
}

// Spooled returns how many rows and payloads wait in the spools for their
// stores: with SQLite, the rows written ahead and not yet indexed.
func (a *App) Spooled() int64 {
	var n int64
	for _, s := range a.spools {
		_, items, _ := s.Depth()
		n += items
	}
	return n
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
	if a.importCl != nil {
		a.importCl.Close()
		a.importCl = nil
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

// statsSource reads the API's stats from the gateway's metrics registry.
type statsSource struct {
	reg   prometheus.Gatherer
	since time.Time
}

func (s statsSource) Stats() httpapi.Stats {
	// A registry that fails to gather still gives what it gathered, and
	// /metrics says what failed.
	t, _ := live.ReadTotals(s.reg)
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

// enforcingTopics lists the input topics in enforce mode: the ones a
// circuit breaker watches (an observe-mode topic quarantines nothing, so
// there is nothing to pause it for).
func (a *App) enforcingTopics() []string {
	var ts []string
	for _, in := range a.cfg.Topics.Inputs {
		if in.Mode != config.ModeObserve {
			ts = append(ts, in.Topic)
		}
	}
	return ts
}

// observedTopics lists the input topics in observe mode (with rows: those
// that also store their observed records).
func (a *App) observedTopics(rows bool) map[string]bool {
	out := map[string]bool{}
	for _, in := range a.cfg.Topics.Inputs {
		if in.Mode == config.ModeObserve && (!rows || in.ObservedRows) {
			out[in.Topic] = true
		}
	}
	return out
}

// shadowControl is the API's and the UI's view of shadow evaluation; it
// changes rollout states through changes, the registry API's audited way.
func (a *App) shadowControl(changes *registryapi.Handler) *shadowControl {
	return &shadowControl{registry: a.registry, changes: changes, tally: a.shadow, audit: a.audit, log: a.log, sample: a.cfg.Shadow.Sample}
}

// circuitControl is the breaker set for the API, or nil (a typed nil
// pointer in the interface would look enabled) when it is disabled.
func (a *App) circuitControl() httpapi.CircuitControl {
	if a.circuit == nil {
		return nil
	}
	return a.circuit
}

// openRegistry opens the schema registry (openRegistryStore). It then
// registers the config's schemas in it (GitOps): each under its subject
// unless already there, in version order, enforced, since they are what
// the pipeline validates with. A config schema the registry refuses as
// incompatible is logged, not fatal: the pipeline still uses the config.
func (a *App) openRegistry(ctx context.Context) error {
	s, _, err := openRegistryStore(ctx, a.cfg)
	if err != nil {
		return err
	}
	a.regStore = s
	a.registry, err = registry.New(registry.Options{Store: a.regStore, OnChange: a.schemaChanged})
	if err != nil {
		return err
	}
	n, err := a.registry.Migrate(ctx)
	if err != nil {
		return fmt.Errorf("migrating the schema registry: %w", err)
	}
	if n > 0 {
		a.log.Info("schema registry: fingerprints and GUIDs computed for schemas stored before them", "schemas", n)
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

// health is what /healthz and /readyz report: ready once partitions are
// assigned, unless another process fenced this one (the same
// kafka.instance_id) or the pipeline is stalled (pipeline.stall_timeout without
// a commit while it has work: records it polled, or lag on a topic the
// circuit breaker has not paused).
func (a *App) health() httpapi.Health {
	now := time.Now()
	pr := a.metrics.Progress()
	var lag int64
	lagging := false
	for topic, n := range a.lag.TopicLag() {
		lag += n
		if n > 0 && !a.paused(topic) {
			lagging = true
		}
	}
	ph := &httpapi.PipelineHealth{
		LastCommit:             pr.LastCommit.UTC(),
		SecondsSinceLastCommit: now.Sub(pr.LastCommit).Seconds(),
		Lag:                    lag,
		Stalled:                pr.Stalled(now, a.cfg.Pipeline.StallTimeout, lagging),
	}
	if !pr.PendingSince.IsZero() {
		ph.UncommittedSeconds = now.Sub(pr.PendingSince).Seconds()
	}
	fenced := a.fenced.Load()
	h := httpapi.Health{Ready: a.ready.Load() && !ph.Stalled && !fenced, Pipeline: ph}
	switch {
	case !a.ready.Load():
		h.Reason = "starting: no partitions assigned yet"
	case fenced:
		h.Reason = fmt.Sprintf("fenced: another process joined the group with kafka.instance_id %q; give every gateway its own id", a.cfg.Kafka.InstanceID)
	case ph.Stalled:
		h.Reason = fmt.Sprintf("stalled: no commit for %s while there is work; see the logs and pipeline_permanent_errors_total", now.Sub(pr.LastCommit).Round(time.Second))
	}
	return h
}

// paused reports whether the circuit breaker has paused topic.
func (a *App) paused(topic string) bool {
	if a.circuit == nil {
		return false
	}
	s, ok := a.circuit.Snapshots()[topic]
	return ok && s.State == circuit.Open
}
