package bench

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// cpuTime is this process's CPU time, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTick is the unit of /proc/<pid>/stat's CPU times (USER_HZ): 100 Hz
// on every Linux port Go supports.
const clockTick = 10 * time.Millisecond

// processCPU returns pid's CPU time, user and system, from /proc; 0 where
// /proc is unavailable.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; fields after its closing
	// parenthesis are space-separated: utime and stime are the 12th and 13th.
	rest := b[strings.LastIndexByte(string(b), ')')+2:]
	f := strings.Fields(string(rest))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * clockTick
}

// resetPeakRSS resets the kernel's high-water mark of this process's RSS
// (Linux 4.0+), so the peak covers the measured phase only.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS returns VmHWM in bytes, 0 where /proc is unavailable.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		var kb int64
		if n, err := fmt.Sscanf(line, "VmHWM: %d kB", &kb); n == 1 && err == nil {
			return kb << 10
		}
	}
	return 0
}

// latencies collects each record's produce-to-committed latency, in
// microseconds, from the commit hook of the gateway (or of the copy), and
// signals when every record of the phase is committed.
type latencies struct {
	mu     sync.Mutex
	us     []uint32
	last   time.Time
	want   int
	signal chan struct{}
}

func newLatencies(n int) *latencies {
	return &latencies{us: make([]uint32, 0, n), want: n, signal: make(chan struct{}, 1)}
}

func (l *latencies) observe(recs []*kgo.Record) {
	now := time.Now()
	l.mu.Lock()
	for _, r := range recs {
		l.us = append(l.us, uint32(min(max(now.Sub(r.Timestamp).Microseconds(), 0), 1<<32-1)))
	}
	l.last = now
	full := len(l.us) >= l.want
	l.mu.Unlock()
	if full {
		select {
		case l.signal <- struct{}{}:
		default:
		}
	}
}

// wait returns once every record is committed, or with the error that
// stopped the phase first.
func (l *latencies) wait(ctx context.Context, done <-chan error) error {
	select {
	case <-l.signal:
		return nil
	case err := <-done:
		return fmt.Errorf("stopped before every record was committed: %w", err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *latencies) lastCommit() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

func (l *latencies) quantiles() (p50, p95, p99, maxMS float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.us) == 0 {
		return 0, 0, 0, 0
	}
	slices.Sort(l.us)
	at := func(q float64) float64 {
		i := min(len(l.us)-1, int(q*float64(len(l.us))))
		return float64(l.us[i]) / 1000
	}
	return at(0.50), at(0.95), at(0.99), float64(l.us[len(l.us)-1]) / 1000
}

// Stat is one figure over the rounds of a run.
type Stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

func statOf(vs []float64) Stat {
	if len(vs) == 0 {
		return Stat{}
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Stat{Median: m, Min: s[0], Max: s[len(s)-1]}
}

func (s Stat) String() string {
	return fmt.Sprintf("%s (%s - %s)", fmtFigure(s.Median), fmtFigure(s.Min), fmtFigure(s.Max))
}

func fmtFigure(v float64) string {
	switch {
	case v >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}
