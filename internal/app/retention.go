package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/retention"
)

// newRetention builds the retention job over the stores themselves (not
// the outage spools in front of them: a purge while the backend is down
// simply fails and is retried at the next run). On PostgreSQL each run also
// creates the day partitions ahead.
func (a *App) newRetention(st stores, reg prometheus.Registerer) (*retention.Job, error) {
	opts := retention.Options{
		MaxAge:     a.cfg.Retention.MaxAge,
		Interval:   a.cfg.Retention.Interval,
		Registerer: reg,
		Logger:     a.log,
	}
	if p, ok := st.meta.(quarantine.MetadataPurger); ok {
		opts.Metadata = p
	}
	if p, ok := st.payloads.(quarantine.SegmentPurger); ok {
		opts.Payloads = p
	}
	if st.pg != nil {
		opts.Partitions = st.pg.EnsurePartitions
	}
	return retention.New(opts)
}
