package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/app"
	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/kafka"
)

// gatewayConfig is the round's gateway configuration: the run's config,
// with the round's topics (the raw one bound to subject user_event in the
// workload's format), group, schema, its own data dir (the default SQLite
// file and payload directory are fresh each round) and a free HTTP port.
// The circuit breaker runs but never trips (threshold 1), so a flood is
// measured rather than paused.
func gatewayConfig(opts *Options, brokers []string, run string) (config.Config, error) {
	cfg := opts.Config
	cfg.DataDir = filepath.Join(opts.Config.DataDir, run)
	cfg.Kafka.Brokers = brokers
	cfg.Kafka.GroupID = run + "-gateway"
	cfg.Kafka.Partitions = opts.Partitions
	cfg.Kafka.CreateTopics = true
	sch, wire := schemaConfig(opts.Format, opts.Rules)
	cfg.Schemas = []config.Schema{sch}
	cfg.Topics.Inputs = []config.Input{{Topic: run + "-raw", Subject: subject, WireHeader: wire}}
	cfg.Topics.Clean, cfg.Topics.DLQ = run+"-clean", run+"-dlq"
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Demo.Enabled = false
	cfg.Circuit.Threshold = 1
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("the benchmark's gateway configuration: %w", err)
	}
	return cfg, nil
}

// runGateway drains the round's records through the serve wiring: app.New
// and app.Run, as 'dataquarantine serve' runs them, with the pipeline's
// commit hook observing each committed batch. The measurement starts once
// the gateway has its partitions, and ends at the last commit. It then
// checks every record's route.
func runGateway(ctx context.Context, opts *Options, brokers []string, brokerCPU func() time.Duration, run string, prod *kgo.Client, w *workload) (Phase, []string, error) {
	cfg, err := gatewayConfig(opts, brokers, run)
	if err != nil {
		return Phase{}, nil, err
	}
	lat := newLatencies(opts.Records)
	prepareMeasuring()
	a, err := app.New(ctx, app.Options{Config: cfg, Version: "bench", Logger: opts.Logger, OnCommit: lat.observe})
	if err != nil {
		return Phase{}, nil, err
	}
	if opts.Shadow {
		if err := putCandidateInShadow(ctx, a.Registry()); err != nil {
			a.Close()
			return Phase{}, nil, err
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	if err := waitReady(ctx, a.Ready, done); err != nil {
		return Phase{}, nil, err
	}
	m := startMeasuring(brokerCPU)
	if opts.Rate > 0 {
		opts.Logger.Info("producing at a steady rate", "rate", opts.Rate, "duration", opts.Duration)
		if err := produceAtRate(ctx, prod, w, opts.Rate, opts.Records); err != nil {
			return Phase{}, nil, err
		}
	}
	if err := lat.wait(ctx, done); err != nil {
		return Phase{}, nil, fmt.Errorf("the gateway: %w", err)
	}
	// The window closes once the rows written ahead are indexed too, so the
	// CPU per record includes the indexing (throughput is to the last
	// commit).
	if err := waitReady(ctx, func() bool { return a.Spooled() == 0 }, done); err != nil {
		return Phase{}, nil, fmt.Errorf("waiting for the quarantine rows to be indexed: %w", err)
	}
	p := m.end(lat, opts.Records, w.bytes)
	p.IndexLagSec = time.Since(lat.lastCommit()).Seconds()
	var problems []string
	if opts.Shadow {
		if p.ShadowEvaluated, err = shadowEvaluated(a.Metrics()); err != nil {
			return p, nil, err
		}
		if p.ShadowEvaluated != int64(opts.Records) {
			problems = append(problems, fmt.Sprintf("the version in shadow judged %d of %d records", p.ShadowEvaluated, opts.Records))
		}
	}
	if opts.AfterDrain != nil {
		opts.AfterDrain()
	}
	stop()
	if err := <-done; err != nil {
		return p, nil, fmt.Errorf("the gateway stopped with: %w", err)
	}
	opts.Logger.Info("checking every record's route")
	meta, payloads, err := app.OpenStores(cfg)
	if err != nil {
		return p, nil, err
	}
	defer func() { _ = payloads.Close() }() // read only: a close error changes nothing
	defer func() { _ = meta.Close() }()
	return p, append(problems, verify(ctx, brokers, cfg.Topics.Clean, cfg.Topics.DLQ, w, meta)...), nil
}

// waitReady waits until ready reports true (the consumer has its
// partitions, the spool is empty), or the run ends first.
func waitReady(ctx context.Context, ready func() bool, done <-chan error) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !ready() {
		select {
		case err := <-done:
			return fmt.Errorf("stopped before consuming: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// runCopy drains the round's records with a bare consume-to-produce copy:
// the gateway's group client and producer settings (kafka.NewGroupClient:
// manual commits after the produce is acknowledged, idempotent acks=all
// producer, the same codec, batch size and batch caps), no validation, no
// stores. It is the ceiling the gateway's figures are ratios of.
func runCopy(ctx context.Context, opts *Options, brokers []string, brokerCPU func() time.Duration, run string, w *workload) (Phase, error) {
	cfg := opts.Config
	raw, out := run+"-raw", run+"-copy"
	limits := kafka.NewTopicLimits()
	prepareMeasuring()
	assigned := make(chan struct{})
	var once sync.Once
	cl, err := kafka.NewGroupClient(kafka.GroupOptions{
		Brokers: brokers, GroupID: run + "-copy", Topics: []string{raw},
		MaxBufferedRecords: 4 * cfg.Pipeline.BatchSize,
		Limits:             limits, Compression: cfg.Kafka.Compression,
		OnAssigned: func(map[string][]int32) { once.Do(func() { close(assigned) }) },
		Logger:     opts.Logger,
	})
	if err != nil {
		return Phase{}, err
	}
	defer cl.Close()
	if err := kafka.EnsureTopics(ctx, cl, []kafka.TopicSpec{{Name: out, Partitions: opts.Partitions, ReplicationFactor: cfg.Kafka.ReplicationFactor}}); err != nil {
		return Phase{}, err
	}
	if err := limits.Read(ctx, cl, out); err != nil {
		return Phase{}, err
	}
	lat := newLatencies(opts.Records)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- copyLoop(runCtx, cl, out, cfg.Pipeline.BatchSize, lat.observe) }()
	select {
	case <-assigned:
	case err := <-done:
		return Phase{}, fmt.Errorf("the copy stopped before consuming: %w", err)
	case <-ctx.Done():
		return Phase{}, ctx.Err()
	}
	m := startMeasuring(brokerCPU)
	if err := lat.wait(ctx, done); err != nil {
		return Phase{}, fmt.Errorf("the copy: %w", err)
	}
	p := m.end(lat, opts.Records, w.bytes)
	stop()
	if err := <-done; err != nil {
		return p, err
	}
	return p, nil
}

// copyLoop is the bare copy: poll a batch, produce each record to out in
// its source partition, wait for the acknowledgements, commit.
func copyLoop(ctx context.Context, cl *kgo.Client, out string, batch int, onCommit func([]*kgo.Record)) error {
	var recs []kgo.Record
	var ptrs []*kgo.Record
	for {
		fetches := cl.PollRecords(ctx, batch)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			cl.AllowRebalance()
			return nil
		}
		in := fetches.Records()
		recs, ptrs = recs[:0], ptrs[:0]
		for _, r := range in {
			recs = append(recs, kgo.Record{Topic: out, Key: r.Key, Value: r.Value, Headers: r.Headers, Timestamp: r.Timestamp, Partition: r.Partition})
		}
		for i := range recs {
			ptrs = append(ptrs, &recs[i])
		}
		if len(ptrs) > 0 {
			if err := cl.ProduceSync(ctx, ptrs...).FirstErr(); err != nil {
				cl.AllowRebalance()
				if errors.Is(err, context.Canceled) {
					return nil
				}
				return fmt.Errorf("copying: %w", err)
			}
			if err := cl.CommitRecords(ctx, in...); err != nil && ctx.Err() == nil {
				cl.AllowRebalance()
				return fmt.Errorf("committing the copy: %w", err)
			}
			onCommit(in)
		}
		cl.AllowRebalance()
	}
}
