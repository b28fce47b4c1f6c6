package circuit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Pauser pauses and resumes consumption of topics; *kgo.Client is one.
type Pauser interface {
	PauseFetchTopics(topics ...string) []string
	ResumeFetchTopics(topics ...string)
}

// SetOptions configure a Set.
type SetOptions struct {
	// Breaker configures every topic's breaker.
	Breaker Options
	// Topics are the input topics, one breaker each. Required.
	Topics []string
	// Pauser pauses a tripped topic and resumes it. Required.
	Pauser Pauser
	// Registerer receives circuit_state{topic} and circuit_trips_total{topic}.
	// Default: a private registry.
	Registerer prometheus.Registerer
	// WebhookURL, when set, receives a JSON POST on every state change.
	WebhookURL string
	// Logger: default slog.Default().
	Logger *slog.Logger
}

// ErrUnknownTopic means the topic is not an input topic.
var ErrUnknownTopic = errors.New("not an input topic")

// Set holds one breaker per input topic and acts on their state changes:
// pausing or resuming the topic, updating the metrics, logging, and calling
// the webhook. It is safe for concurrent use.
type Set struct {
	opts     SetOptions
	breakers map[string]*Breaker
	state    *prometheus.GaugeVec
	trips    *prometheus.CounterVec
	client   *http.Client
}

// NewSet returns a Set with every breaker closed.
func NewSet(opts SetOptions) (*Set, error) {
	if opts.Pauser == nil || len(opts.Topics) == 0 {
		return nil, errors.New("circuit: SetOptions.Pauser and Topics are required")
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Set{
		opts:     opts,
		breakers: make(map[string]*Breaker, len(opts.Topics)),
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "circuit_state",
			Help: "Circuit breaker state per input topic: 0 closed, 1 open (consumption paused), 2 half-open.",
		}, []string{"topic"}),
		trips: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "circuit_trips_total",
			Help: "Times the circuit breaker paused an input topic for too many invalid records.",
		}, []string{"topic"}),
		client: &http.Client{Timeout: 5 * time.Second},
	}
	if err := opts.Registerer.Register(s.state); err != nil {
		return nil, fmt.Errorf("registering circuit metrics: %w", err)
	}
	if err := opts.Registerer.Register(s.trips); err != nil {
		return nil, fmt.Errorf("registering circuit metrics: %w", err)
	}
	for _, t := range opts.Topics {
		s.breakers[t] = New(opts.Breaker)
		s.state.WithLabelValues(t).Set(float64(Closed))
		s.trips.WithLabelValues(t)
	}
	return s, nil
}

// Record feeds a committed batch's counts for topic into its breaker.
func (s *Set) Record(topic string, valid, invalid int64) {
	b, ok := s.breakers[topic]
	if !ok {
		return
	}
	before := b.Snapshot().State
	if after, changed := b.Record(valid, invalid); changed {
		s.changed(topic, before, after, "invalid share over the window")
	}
}

// Resume closes topic's breaker at an operator's request.
func (s *Set) Resume(topic string) (State, error) {
	b, ok := s.breakers[topic]
	if !ok {
		return 0, fmt.Errorf("%q: %w", topic, ErrUnknownTopic)
	}
	before := b.Snapshot().State
	if b.Resume() {
		s.changed(topic, before, Closed, "resumed by an operator")
	}
	return Closed, nil
}

// Run half-opens breakers whose cooldown passed, checking every second,
// until ctx ends.
func (s *Set) Run(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			for topic, b := range s.breakers {
				if after, changed := b.Tick(); changed {
					s.changed(topic, Open, after, "cooldown over")
				}
			}
		}
	}
}

// Snapshots returns every topic's breaker state, by topic.
func (s *Set) Snapshots() map[string]Snapshot {
	out := make(map[string]Snapshot, len(s.breakers))
	for t, b := range s.breakers {
		out[t] = b.Snapshot()
	}
	return out
}

// Topics returns the input topics, sorted.
func (s *Set) Topics() []string {
	ts := make([]string, 0, len(s.breakers))
	for t := range s.breakers {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return ts
}

func (s *Set) changed(topic string, from, to State, why string) {
	switch to {
	case Open:
		s.opts.Pauser.PauseFetchTopics(topic)
		s.trips.WithLabelValues(topic).Inc()
		s.opts.Logger.Error("circuit open: consumption paused", "topic", topic, "why", why,
			"threshold", s.opts.Breaker.Threshold, "resume", "POST /api/v1/circuit/"+topic+"/resume")
	default:
		s.opts.Pauser.ResumeFetchTopics(topic)
		s.opts.Logger.Warn("circuit "+to.String()+": consumption resumed", "topic", topic, "why", why)
	}
	s.state.WithLabelValues(topic).Set(float64(to))
	if s.opts.WebhookURL != "" {
		go s.notify(topic, from, to, why)
	}
}

// notify POSTs the change to the webhook; a failure is logged, never
// retried: the metric and the log carry the state anyway.
func (s *Set) notify(topic string, from, to State, why string) {
	body, _ := json.Marshal(map[string]any{
		"topic": topic, "from": from.String(), "to": to.String(), "reason": why,
		"at": time.Now().UTC().Format(time.RFC3339Nano),
	})
	req, err := http.NewRequest(http.MethodPost, s.opts.WebhookURL, bytes.NewReader(body))
	if err != nil {
		s.opts.Logger.Warn("circuit webhook", "err", err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		s.opts.Logger.Warn("circuit webhook failed", "err", err)
		return
	}
	_ = resp.Body.Close()
	if resp.StatusCode >= 300 {
		s.opts.Logger.Warn("circuit webhook refused", "status", resp.StatusCode)
	}
}
