package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/quarantine/spool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/fs"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/postgres"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/s3"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/registry"
	regpostgres "github.com/dataquarantine/dataquarantine/internal/registry/postgres"
	regsqlite "github.com/dataquarantine/dataquarantine/internal/registry/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/reprocess"
	"github.com/dataquarantine/dataquarantine/internal/rules"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/formats"
	"github.com/dataquarantine/dataquarantine/internal/schema/jsonschema"
	"github.com/dataquarantine/dataquarantine/internal/validate"
)

// stores are the metadata and payload stores a config names.
type stores struct {
	meta     quarantine.MetadataStore
	payloads quarantine.PayloadStore
	pg       *postgres.Store // meta, when it is PostgreSQL (for pool metrics)
}

// openStores opens the metadata and payload stores cfg's URLs name. On
// error nothing stays open.
// Errors never repeat a URL or a key: the drivers' do not either.
func openStores(cfg config.Config, log *slog.Logger) (st stores, err error) {
	defer func() {
		if err != nil && st.meta != nil {
			_ = st.meta.Close() // already failing; the first error is the one to report
			st = stores{}
		}
	}()
	// A network store connects (PostgreSQL also migrates) as it opens:
	// bounded, so an unreachable server fails start-up instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	metaURL, err := config.ParseStoreURL(cfg.MetadataURL())
	if err != nil {
		return st, fmt.Errorf("storage.metadata.url: %w", err)
	}
	switch metaURL.Scheme {
	case config.SchemeSQLite:
		s, err := sqlite.New(sqlite.Options{Path: metaURL.Path})
		if err != nil {
			return st, fmt.Errorf("opening metadata store: %w", err)
		}
		st.meta = s
	case config.SchemePostgres, config.SchemePostgreSQL:
		s, err := postgres.New(ctx, postgres.Options{URL: cfg.MetadataURL(), Logger: log})
		if err != nil {
			return st, fmt.Errorf("opening metadata store: %w", err)
		}
		st.meta, st.pg = s, s
	default:
		return st, fmt.Errorf("storage.metadata.url: unsupported scheme %q", metaURL.Scheme)
	}
	payURL, err := config.ParseStoreURL(cfg.PayloadsURL())
	if err != nil {
		return st, fmt.Errorf("storage.payloads.url: %w", err)
	}
	switch payURL.Scheme {
	case config.SchemeFile:
		s, err := fs.New(fs.Options{Dir: payURL.Path})
		if err != nil {
			return st, fmt.Errorf("opening payload store: %w", err)
		}
		st.payloads = s
	case config.SchemeS3:
		loc, err := config.ParseS3URL(cfg.PayloadsURL())
		if err != nil {
			return st, fmt.Errorf("storage.payloads.url: %w", err)
		}
		keys := cfg.Storage.Payloads
		if (keys.AccessKey == "") != (keys.SecretKey == "") {
			return st, errors.New("storage.payloads.access_key and secret_key: set both, or neither for anonymous access")
		}
		s, err := s3.New(ctx, s3.Options{
			Endpoint: loc.Endpoint, Bucket: loc.Bucket, Secure: loc.Secure, Region: loc.Region,
			AccessKey: keys.AccessKey, SecretKey: keys.SecretKey,
		})
		if err != nil {
			return st, fmt.Errorf("opening payload store: %w", err)
		}
		st.payloads = s
	default:
		return st, fmt.Errorf("storage.payloads.url: unsupported scheme %q", payURL.Scheme)
	}
	return st, nil
}

// lifecycleOf returns the record lifecycle, job store and audit log the
// metadata driver keeps beside the quarantine rows.
func lifecycleOf(meta quarantine.MetadataStore) (reprocess.Store, audit.Log, error) {
	switch s := meta.(type) {
	case *sqlite.Store:
		return s, s.AuditLog(), nil
	case *postgres.Store:
		return s, s.AuditLog(), nil
	}
	return nil, nil, fmt.Errorf("metadata store %T keeps no record lifecycle", meta)
}

// buildEngine compiles every configured schema (so a bad one fails start-up
// with its config key) and builds the engine over a resolver that follows
// the registry: each input topic's subject is validated against its newest
// enforced version, with older enforced versions as fallbacks.
func (a *App) buildEngine(ctx context.Context, reg prometheus.Registerer) (*validate.Engine, error) {
	versions, err := compileSchemas(&a.cfg)
	if err != nil {
		return nil, err
	}
	bindings := make(map[string]string, len(a.cfg.Topics.Inputs))
	noFallback, wire, rejectDeprecated := make(map[string]bool), make(map[string]bool), make(map[string]bool)
	for _, in := range a.cfg.Topics.Inputs {
		bindings[in.Topic] = in.Subject
		noFallback[in.Topic] = in.Fallback == config.FallbackNone
		wire[in.Topic] = in.WireHeader != config.WireIgnore
		rejectDeprecated[in.Topic] = in.DeprecatedIDs == config.DeprecatedReject
	}
	a.resolver, err = registry.NewResolver(ctx, registry.ResolverOptions{
		Registry:            a.registry,
		Bindings:            bindings,
		NoFallback:          noFallback,
		Wire:                wire,
		RejectDeprecatedIDs: rejectDeprecated,
		Compile:             registryCompiler(&a.cfg, versions),
		Refresh:             a.cfg.Registry.RefreshInterval,
		OnShadow:            a.shadow.Track,
		Registerer:          reg,
		Logger:              a.log.With("component", "schemas"),
	})
	if err != nil {
		return nil, fmt.Errorf("loading the input topics' schemas from the registry: %w", err)
	}
	return validate.New(validate.Options{
		Resolver: a.resolver, IDs: a.resolver, MaxBytes: a.cfg.Limits.MaxBytes, Layers: a.metrics, Shadows: a.resolver,
	})
}

// schemaChanged is the registry's OnChange: a version registered, deleted
// or moved to another rollout state through this gateway applies to the
// very next batch.
func (a *App) schemaChanged(ctx context.Context, subject string) {
	if a.resolver == nil { // registering the config's schemas, before the resolver exists
		return
	}
	if err := a.resolver.Reload(ctx, subject); err != nil {
		a.log.Warn("reloading a changed schema subject failed; the periodic refresh retries", "subject", subject, "err", err)
	}
}

// registryCompiler compiles registry versions with the config's decode
// limits and business rules: a version whose schema is one of the
// config's (same subject, same text up to whitespace) gets that entry's
// rules (rules are configured per schema version) and Protobuf message,
// then the rules stored with the version in the registry.
func registryCompiler(cfg *config.Config, configured []*schema.Version) registry.Compiler {
	// What the config says of a schema beyond its text: its rules and, for
	// Protobuf, the message of records without a wire header.
	type extras struct {
		rules   *rules.Set
		message string
	}
	extrasOf := make(map[[2]string]extras, len(configured))
	for i, v := range configured {
		src, err := cfg.SchemaSource(i)
		if err != nil || (v.Rules == nil && cfg.Schemas[i].Message == "") {
			continue // compileSchemas read it already
		}
		text, err := registry.CanonicalText(v.Format, string(src))
		if err != nil {
			continue // not JSON: the registry refused it too
		}
		extrasOf[[2]string{v.Subject, text}] = extras{rules: v.Rules, message: cfg.Schemas[i].Message}
	}
	lim := JSONLimits(cfg)
	return func(req registry.CompileRequest) (*schema.Version, error) {
		v, err := formats.Compile(req.Format, req.Subject, req.Version, []byte(req.Text), formats.Options{
			Limits: lim, Message: extrasOf[[2]string{req.Subject, req.Text}].message,
		})
		if err != nil {
			return nil, err
		}
		var stored *rules.Set
		if len(req.Rules) > 0 {
			// The registry compiled them at registration: an error here
			// is a rule stored by another build of the gateway.
			if stored, err = rules.Compile(req.Rules, rules.Options{}); err != nil {
				return nil, fmt.Errorf("the version's rule set: %w", err)
			}
		}
		v.Rules = rules.Join(extrasOf[[2]string{req.Subject, req.Text}].rules, stored)
		return v, nil
	}
}

// compileSchemas compiles the config's schemas with its decode limits, and
// attaches each entry's business rules to its version.
func compileSchemas(cfg *config.Config) ([]*schema.Version, error) {
	lim := JSONLimits(cfg)
	versions := make([]*schema.Version, 0, len(cfg.Schemas))
	for i, s := range cfg.Schemas {
		src, err := cfg.SchemaSource(i)
		if err != nil {
			return nil, fmt.Errorf("schemas[%d]: %w", i, err)
		}
		v, err := formats.Compile(schema.Format(s.Type), s.Subject, s.Version, src, formats.Options{Limits: lim, Message: s.Message})
		if err != nil {
			return nil, fmt.Errorf("schemas[%d]: %w", i, err)
		}
		if len(s.Rules) > 0 {
			if v.Rules, err = rules.Compile(s.Rules, rules.Options{}); err != nil {
				return nil, fmt.Errorf("schemas[%d]: %w", i, err)
			}
		}
		versions = append(versions, v)
	}
	return versions, nil
}

// JSONLimits returns the JSON decoder limits of the config.
func JSONLimits(cfg *config.Config) jsonschema.Limits {
	return jsonschema.Limits{MaxDepth: cfg.Limits.MaxDepth, AllowDuplicateKeys: cfg.Limits.AllowDuplicateKeys}
}

// OpenStores opens the metadata and payload stores cfg names, as serve does
// (the benchmark opens them too). The caller closes both.
func OpenStores(cfg config.Config) (quarantine.MetadataStore, quarantine.PayloadStore, error) {
	st, err := openStores(cfg, slog.Default())
	return st.meta, st.payloads, err
}

// Migrate applies the schema migrations of the stores cfg names, the
// quarantine metadata and the schema registry, as serve does when it
// opens them; it is for running them ahead of a rollout ('dataquarantine
// migrate'). It returns what it migrated, each store named with its
// redacted URL.
func Migrate(ctx context.Context, cfg config.Config) ([]string, error) {
	u := cfg.MetadataURL()
	parsed, err := config.ParseStoreURL(u)
	if err != nil {
		return nil, fmt.Errorf("storage.metadata.url: %w", err)
	}
	switch parsed.Scheme {
	case config.SchemeSQLite:
		s, err := sqlite.New(sqlite.Options{Path: parsed.Path})
		if err != nil {
			return nil, fmt.Errorf("migrating the SQLite metadata store: %w", err)
		}
		if err := s.Close(); err != nil {
			return nil, fmt.Errorf("closing the SQLite metadata store: %w", err)
		}
	case config.SchemePostgres, config.SchemePostgreSQL:
		if err := postgres.Migrate(ctx, u); err != nil {
			return nil, fmt.Errorf("migrating the PostgreSQL metadata store: %w", err)
		}
	default:
		return nil, fmt.Errorf("storage.metadata.url: unsupported scheme %q", parsed.Scheme)
	}
	done := []string{"metadata store " + config.RedactURL(u)}
	reg, where, err := openRegistryStore(ctx, cfg) // opening migrates
	if err != nil {
		return done, err
	}
	if err := reg.Close(); err != nil {
		return done, fmt.Errorf("closing the schema registry: %w", err)
	}
	return append(done, "schema registry "+where), nil
}

// openRegistryStore opens the schema registry's store where the metadata
// is: in PostgreSQL beside the quarantine tables, or in registry.db beside
// the SQLite metadata file, migrating its tables. It returns the store and
// where it is (a redacted URL).
func openRegistryStore(ctx context.Context, cfg config.Config) (registry.Store, string, error) {
	u, err := config.ParseStoreURL(cfg.MetadataURL())
	if err != nil {
		return nil, "", fmt.Errorf("storage.metadata.url: %w", err)
	}
	switch u.Scheme {
	case config.SchemePostgres, config.SchemePostgreSQL:
		openCtx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		s, err := regpostgres.New(openCtx, regpostgres.Options{URL: cfg.MetadataURL()})
		if err != nil {
			return nil, "", fmt.Errorf("opening schema registry: %w", err)
		}
		return s, config.RedactURL(cfg.MetadataURL()), nil
	default:
		path := filepath.Join(filepath.Dir(u.Path), "registry.db")
		s, err := regsqlite.New(regsqlite.Options{Path: path})
		if err != nil {
			return nil, "", fmt.Errorf("opening schema registry: %w", err)
		}
		return s, "sqlite://" + path, nil
	}
}

// syncer is a spool's background drain.
type syncer interface {
	Run(ctx context.Context) error
	// Drain drains once, reporting whether the spool is empty.
	Drain(ctx context.Context) bool
	// Depth is what the spool holds: files, rows or payloads, bytes.
	Depth() (n, items, bytes int64)
}

// spoolStores puts a local, fsync'd spool in front of the metadata store
// and of a network payload store (S3), so that while one is down the
// pipeline keeps flowing and its writes wait on local disk (PRODUCT.md §6);
// Run drains them when the store is back. For PostgreSQL, rows spool only
// while it is down; for SQLite every batch is written ahead to the spool and
// indexed in the background (the spool package's Deferred), so the pipeline
// pays an fsync'd append, not SQLite's indexes. Local payload files need
// no spool. The spool depth gauges are exported either way.
func (a *App) spoolStores(reg prometheus.Registerer) error {
	logger := a.log.With("component", "spool")
	var payDepth func() (n, items, bytes int64)
	m, err := spool.NewMetadata(spool.MetadataOptions{
		Primary: a.meta, Dir: filepath.Join(a.cfg.DataDir, "spool", "metadata"), Logger: logger,
		Deferred: a.pg == nil,
	})
	if err != nil {
		return fmt.Errorf("opening the metadata spool: %w", err)
	}
	a.meta = m
	a.spools = append(a.spools, m)
	metaDepth := m.Depth
	if a.pg == nil {
		// SQLite's rows are written ahead, not waiting for a store to come
		// back: their count is the index's lag, a gauge of its own.
		metaDepth = nil
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "quarantine_index_lag_rows",
			Help: "Quarantined rows written ahead (durable in the local spool) and not yet indexed into SQLite.",
		}, func() float64 {
			_, rows, _ := m.Depth()
			return float64(rows)
		}))
	}
	if _, remote := a.payloads.(*s3.Store); remote {
		p, err := spool.NewPayloads(spool.PayloadOptions{
			Primary: a.payloads, Dir: filepath.Join(a.cfg.DataDir, "spool", "payloads"), Logger: logger,
		})
		if err != nil {
			return fmt.Errorf("opening the payload spool: %w", err)
		}
		a.payloads = p
		a.spools = append(a.spools, p)
		payDepth = p.Depth
	}
	for store, depth := range map[string]func() (int64, int64, int64){"metadata": metaDepth, "payloads": payDepth} {
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "spool_depth_records", ConstLabels: prometheus.Labels{"store": store},
				Help: "Records waiting in the local spool for their store (metadata rows or payloads) to come back.",
			}, func() float64 {
				if depth == nil {
					return 0
				}
				_, items, _ := depth()
				return float64(items)
			}),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "spool_depth_bytes", ConstLabels: prometheus.Labels{"store": store},
				Help: "Bytes waiting in the local spool for their store to come back.",
			}, func() float64 {
				if depth == nil {
					return 0
				}
				_, _, b := depth()
				return float64(b)
			}),
		)
	}
	return nil
}
