package reprocess

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	records *prometheus.CounterVec // result: passed, failed, skipped
	jobs    *prometheus.CounterVec // state: started, done, failed
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reprocess_records_total",
			Help: "Quarantined records reprocessed, by result: passed (published), failed (failed_again), skipped (claimed by another job or changed meanwhile).",
		}, []string{"result"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reprocess_jobs_total",
			Help: "Reprocess jobs by state reached: started, done, failed.",
		}, []string{"state"}),
	}
	for _, r := range []string{"passed", "failed", "skipped"} {
		m.records.WithLabelValues(r)
	}
	for _, st := range []string{"started", "done", "failed"} {
		m.jobs.WithLabelValues(st)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.records, m.jobs} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering reprocess metrics: %w", err)
		}
	}
	return m, nil
}
