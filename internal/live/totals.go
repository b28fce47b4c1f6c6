package live

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// Totals are the pipeline's record counters since it started, summed over
// their labels: records_processed_total, records_valid_total and
// records_invalid_total (by error type).
type Totals struct {
	Processed, Valid, Invalid int64
	InvalidByErrorType        map[record.ErrorType]int64
}

// ReadTotals reads the Totals from g by name, the way snapshots read them,
// so that the API's stats, the dashboard and /metrics can never disagree.
// On an error of g it returns what g still gathered.
func ReadTotals(g prometheus.Gatherer) (Totals, error) {
	mfs, err := g.Gather()
	if err != nil {
		err = fmt.Errorf("gathering metrics: %w", err)
	}
	r := read(mfs, time.Time{})
	t := Totals{
		Processed: int64(r.processed), Valid: int64(r.valid), Invalid: int64(r.invalid),
		InvalidByErrorType: make(map[record.ErrorType]int64, len(r.byType)),
	}
	for typ, n := range r.byType {
		t.InvalidByErrorType[typ] = int64(n)
	}
	return t, err
}
