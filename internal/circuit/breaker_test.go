package circuit

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)} }

func breaker(c *clock, cooldown time.Duration) *Breaker {
	return New(Options{Threshold: 0.5, Window: time.Minute, MinRecords: 100, Cooldown: cooldown, Now: c.now})
}

func TestBreakerTrips(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name           string
		batches        [][2]int64 // valid, invalid
		want           State
		wantLastChange bool
	}{
		{"all valid", [][2]int64{{500, 0}}, Closed, false},
		{"half invalid is not over the threshold", [][2]int64{{50, 50}}, Closed, false},
		{"over the threshold", [][2]int64{{40, 60}}, Open, true},
		{"too few records to judge", [][2]int64{{10, 89}}, Closed, false},
		{"enough once the window fills", [][2]int64{{10, 80}, {0, 20}}, Open, true},
		{"diluted by valid traffic", [][2]int64{{0, 60}, {200, 0}}, Closed, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := breaker(newClock(), 0)
			var st State
			var changed bool
			for _, batch := range c.batches {
				st, changed = b.Record(batch[0], batch[1])
			}
			require.Equal(t, c.want, st)
			require.Equal(t, c.wantLastChange, changed)
			require.Equal(t, c.want, b.Snapshot().State)
		})
	}
}

// Old records slide out of the window.
func TestBreakerWindowSlides(t *testing.T) {
	t.Parallel()
	c := newClock()
	b := breaker(c, 0)
	b.Record(0, 90) // not enough to judge yet
	c.advance(2 * time.Minute)
	st, _ := b.Record(100, 10) // the 90 bad ones are gone: 10 of 110 is fine
	require.Equal(t, Closed, st)
	s := b.Snapshot()
	require.Equal(t, int64(100), s.Valid)
	require.Equal(t, int64(10), s.Invalid)
}

func TestBreakerResumeAndCooldown(t *testing.T) {
	t.Parallel()
	c := newClock()
	manual := breaker(c, 0)
	manual.Record(0, 100)
	c.advance(time.Hour)
	st, changed := manual.Tick()
	require.Equal(t, Open, st, "without a cooldown only an operator resumes")
	require.False(t, changed)
	require.True(t, manual.Resume())
	require.Equal(t, Closed, manual.Snapshot().State)
	require.False(t, manual.Resume(), "resuming a closed breaker changes nothing")
	st, _ = manual.Record(0, 500)
	require.Equal(t, Closed, st, "the flood's backlog flows for a window after a resume")
	c.advance(time.Minute)
	st, _ = manual.Record(0, 100)
	require.Equal(t, Open, st, "a new flood after the grace trips it again")

	auto := breaker(c, 10*time.Minute)
	auto.Record(0, 100)
	c.advance(9 * time.Minute)
	st, changed = auto.Tick()
	require.Equal(t, Open, st)
	require.False(t, changed)
	st, _ = auto.Record(1000, 0) // records fetched before the pause do not count
	require.Equal(t, Open, st)
	c.advance(time.Minute)
	st, changed = auto.Tick()
	require.Equal(t, HalfOpen, st)
	require.True(t, changed)

	// Half-open: still flooded -> open again; clean -> closed.
	st, _ = auto.Record(10, 90)
	require.Equal(t, Open, st)
	c.advance(10 * time.Minute)
	auto.Tick()
	st, _ = auto.Record(50, 0)
	require.Equal(t, HalfOpen, st, "undecided until MinRecords")
	st, changed = auto.Record(60, 10)
	require.Equal(t, Closed, st)
	require.True(t, changed)
}

type pauser struct {
	mu      sync.Mutex
	paused  map[string]bool
	history []string
}

func (p *pauser) PauseFetchTopics(ts ...string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range ts {
		p.paused[t] = true
		p.history = append(p.history, "pause "+t)
	}
	return nil
}

func (p *pauser) ResumeFetchTopics(ts ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range ts {
		delete(p.paused, t)
		p.history = append(p.history, "resume "+t)
	}
}

func TestSetPausesResumesAndNotifies(t *testing.T) {
	t.Parallel()
	hooks := make(chan map[string]string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		_ = json.NewDecoder(r.Body).Decode(&m)
		hooks <- m
	}))
	defer srv.Close()
	p := &pauser{paused: map[string]bool{}}
	reg := prometheus.NewRegistry()
	c := newClock()
	s, err := NewSet(SetOptions{
		Breaker: Options{Threshold: 0.5, Window: time.Minute, MinRecords: 10, Now: c.now},
		Topics:  []string{"a", "b"}, Pauser: p, Registerer: reg, WebhookURL: srv.URL,
	})
	require.NoError(t, err)

	s.Record("a", 1, 20)
	s.Record("b", 20, 1)
	s.Record("unknown", 0, 100) // ignored
	require.Equal(t, []string{"pause a"}, p.history)
	require.Equal(t, Open, s.Snapshots()["a"].State)
	require.Equal(t, Closed, s.Snapshots()["b"].State)
	hook := <-hooks
	require.Equal(t, "a", hook["topic"])
	require.Equal(t, "closed", hook["from"])
	require.Equal(t, "open", hook["to"])

	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP circuit_state Circuit breaker state per input topic: 0 closed, 1 open (consumption paused), 2 half-open.
# TYPE circuit_state gauge
circuit_state{topic="a"} 1
circuit_state{topic="b"} 0
# HELP circuit_trips_total Times the circuit breaker paused an input topic for too many invalid records.
# TYPE circuit_trips_total counter
circuit_trips_total{topic="a"} 1
circuit_trips_total{topic="b"} 0
`)))

	st, err := s.Resume("a")
	require.NoError(t, err)
	require.Equal(t, Closed, st)
	require.Equal(t, []string{"pause a", "resume a"}, p.history)
	require.Equal(t, "closed", (<-hooks)["to"])
	require.Equal(t, float64(0), testutil.ToFloat64(s.state.WithLabelValues("a")))

	_, err = s.Resume("nope")
	require.ErrorIs(t, err, ErrUnknownTopic)
	require.Equal(t, []string{"a", "b"}, s.Topics())
}
