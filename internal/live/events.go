package live

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// EventsPattern is where the JSON event stream is mounted.
const EventsPattern = "GET /api/v1/events"

// Event is one server-sent event.
type Event struct {
	// Name is the event's type ("snapshot"); "" is the default "message".
	Name string
	// Data is the payload; a multi-line one is sent as several data lines.
	Data string
}

// Render turns a snapshot into the events to send.
type Render func(Snapshot) ([]Event, error)

// StreamOptions configure Stream.
type StreamOptions struct {
	// Sampler provides the snapshots. Required.
	Sampler *Sampler
	// Interval between two pushes. Default 1s.
	Interval time.Duration
	// Render makes the events of a snapshot. Default JSON: one "snapshot"
	// event whose data is the Snapshot as JSON.
	Render Render
	// Logger receives errors reading the metrics. Default slog.Default().
	Logger *slog.Logger
}

// JSON renders a snapshot as one "snapshot" event carrying it as JSON.
func JSON(s Snapshot) ([]Event, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encoding snapshot: %w", err)
	}
	return []Event{{Name: "snapshot", Data: string(b)}}, nil
}

// Stream returns a server-sent-events handler that pushes a snapshot at
// once and then every Interval, until the client goes away or the Sampler
// is closed (the HTTP server shutting down: Shutdown does not wait for
// streams otherwise).
func Stream(opts StreamOptions) http.Handler {
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.Render == nil {
		opts.Render = JSON
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		// Tell proxies such as nginx not to buffer the stream.
		h.Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		ctx := r.Context()
		tick := time.NewTicker(opts.Interval)
		defer tick.Stop()
		for {
			if err := push(ctx, w, rc, opts); err != nil {
				return // the client went away, or the metrics failed (logged)
			}
			select {
			case <-ctx.Done():
				return
			case <-opts.Sampler.done:
				return
			case <-tick.C:
			}
		}
	})
}

func push(ctx context.Context, w http.ResponseWriter, rc *http.ResponseController, opts StreamOptions) error {
	snap, err := opts.Sampler.Snapshot(ctx)
	if err != nil {
		opts.Logger.ErrorContext(ctx, "live stats", "err", err)
		return err
	}
	evs, err := opts.Render(snap)
	if err != nil {
		opts.Logger.ErrorContext(ctx, "rendering live stats", "err", err)
		return err
	}
	var b strings.Builder
	for _, ev := range evs {
		writeEvent(&b, ev)
	}
	if _, err := w.Write([]byte(b.String())); err != nil {
		return err
	}
	return rc.Flush()
}

// writeEvent writes ev in the text/event-stream format. Line breaks in the
// data split it into data lines, so no data can forge a field of its own.
func writeEvent(b *strings.Builder, ev Event) {
	if ev.Name != "" {
		b.WriteString("event: ")
		b.WriteString(strings.NewReplacer("\r", "", "\n", "").Replace(ev.Name))
		b.WriteByte('\n')
	}
	data := strings.ReplaceAll(strings.ReplaceAll(ev.Data, "\r\n", "\n"), "\r", "\n")
	for line := range strings.SplitSeq(data, "\n") {
		b.WriteString("data: ")
		b.WriteString(line)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
}
