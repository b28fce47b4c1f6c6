package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

const maxProblems = 20

// verify reads both output topics from the start and checks that every
// record of the workload is in exactly the topic it belongs in, once, with
// its expected primary error type, and that the metadata store holds one
// row per invalid record with the expected types.
func verify(ctx context.Context, brokers []string, clean, dlq string, w *workload, meta quarantine.MetadataStore) []string {
	var problems []string
	add := func(format string, args ...any) {
		if len(problems) < maxProblems {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	wantClean, wantDLQ := 0, 0
	wantByType := map[record.ErrorType]int64{}
	for i := range w.count() {
		if t := w.wantType(i); t == "" {
			wantClean++
		} else {
			wantDLQ++
			wantByType[w.wantType(i)]++
		}
	}
	seen := make([]uint8, w.count())
	check := func(topic string, want int, isDLQ bool) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(16<<20))
		if err != nil {
			add("reading %s: %v", topic, err)
			return
		}
		defer cl.Close()
		got := 0
		for got < want {
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			f := cl.PollFetches(pctx)
			timedOut := pctx.Err() != nil
			cancel()
			if timedOut {
				add("%s: only %d of %d records arrived", topic, got, want)
				return
			}
			f.EachError(func(t string, p int32, err error) { add("%s[%d]: %v", t, p, err) })
			f.EachRecord(func(r *kgo.Record) {
				got++
				i := index(r.Key)
				if i < 0 || i >= w.count() {
					add("%s: record with unknown key %q", topic, r.Key)
					return
				}
				seen[i]++
				wantType := w.wantType(i)
				switch {
				case isDLQ && wantType == "":
					add("record %d is valid but was quarantined as %s", i, header(r, pipeline.HeaderErrorType))
				case !isDLQ && wantType != "":
					add("record %d should be %s but reached the clean topic", i, wantType)
				case isDLQ && header(r, pipeline.HeaderErrorType) != string(wantType):
					add("record %d quarantined as %s, want %s", i, header(r, pipeline.HeaderErrorType), wantType)
				}
			})
		}
		// Nothing beyond the expected count.
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		if extra := len(cl.PollFetches(pctx).Records()); extra > 0 {
			add("%s: %d records more than the %d expected", topic, extra, want)
		}
	}
	check(clean, wantClean, false)
	check(dlq, wantDLQ, true)
	for i, n := range seen {
		if n != 1 {
			add("record %d routed %d times", i, n)
		}
	}
	counts, err := meta.CountByErrorType(ctx)
	if err != nil {
		add("counting metadata rows: %v", err)
		return problems
	}
	for t, want := range wantByType {
		if counts[t] < want {
			add("metadata store has %d %s rows, want %d", counts[t], t, want)
		}
	}
	return problems
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
