package demo

import (
	"context"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Options configure a Producer.
type Options struct {
	// Client produces the events. Required.
	Client *kgo.Client
	// Topic receives the events. Required.
	Topic string
	// Rate is events per second. Default 50.
	Rate int
	// InvalidShare is the share of invalid events, 0..1. Default 0.2.
	InvalidShare float64
	// Seed makes the stream reproducible. Default: the start time.
	Seed uint64
	// Logger: default slog.Default().
	Logger *slog.Logger
}

// Producer feeds demo traffic into a topic at a steady rate.
type Producer struct {
	opts Options
	gen  *Generator
}

// NewProducer returns a Producer.
func NewProducer(opts Options) *Producer {
	if opts.Rate <= 0 {
		opts.Rate = 50
	}
	if opts.InvalidShare < 0 || opts.InvalidShare > 1 {
		opts.InvalidShare = 0.2
	}
	if opts.Seed == 0 {
		opts.Seed = uint64(time.Now().UnixNano())
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Producer{opts: opts, gen: NewGenerator(opts.Seed, opts.InvalidShare)}
}

// Run produces until ctx ends. It ticks every 100 ms (or slower for low
// rates) and produces the events due since the last tick.
func (p *Producer) Run(ctx context.Context) error {
	tick := max(100*time.Millisecond, time.Second/time.Duration(p.opts.Rate))
	t := time.NewTicker(tick)
	defer t.Stop()
	start := time.Now()
	sent := 0
	p.opts.Logger.Info("demo traffic started", "topic", p.opts.Topic, "rate", p.opts.Rate, "invalid_share", p.opts.InvalidShare)
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			due := int(now.Sub(start).Seconds()*float64(p.opts.Rate)) - sent
			for range due {
				ev := p.gen.Next(now)
				p.opts.Client.Produce(ctx, &kgo.Record{Topic: p.opts.Topic, Key: ev.Key, Value: ev.Value}, func(_ *kgo.Record, err error) {
					if err != nil && ctx.Err() == nil {
						p.opts.Logger.Warn("demo produce failed", "err", err)
					}
				})
			}
			sent += due
		}
	}
}
