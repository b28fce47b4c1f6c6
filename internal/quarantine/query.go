package quarantine

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// QueryOptions say how ParseQuery reads the parameters its callers'
// readers write differently.
type QueryOptions struct {
	// TimeLayouts are the layouts since and until may take, tried in
	// order; a time without an offset is UTC. Default: RFC 3339
	// (time.RFC3339Nano) only.
	TimeLayouts []string
	// MaxLimit is the largest page the limit parameter may ask for.
	// Default: 0, the limit parameter is not read and Limit is
	// DefaultLimit.
	MaxLimit int
}

// QueryReason is why ParseQuery could not read a parameter.
type QueryReason int

// The reasons of a QueryError.
const (
	// QueryUnknown: error_type or status names none there is.
	QueryUnknown QueryReason = iota + 1
	// QueryNotATime: since or until is in none of the time layouts.
	QueryNotATime
	// QuerySinceAfterUntil: since is after until (the error names since).
	QuerySinceAfterUntil
	// QueryLimitRange: limit is not an integer from 1 to MaxLimit.
	QueryLimitRange
)

// QueryError is a query parameter ParseQuery could not read. It carries
// what each caller needs to word the problem for its own readers.
type QueryError struct {
	// Param is the parameter: error_type, status, since, until or limit.
	Param string
	// Value is the value given.
	Value  string
	Reason QueryReason
	// MaxLimit is the options' MaxLimit, for QueryLimitRange.
	MaxLimit int
}

func (e *QueryError) Error() string {
	switch e.Reason {
	case QueryUnknown:
		return fmt.Sprintf("unknown %s %q", e.Param, e.Value)
	case QueryNotATime:
		return fmt.Sprintf("%s %q is not a time", e.Param, e.Value)
	case QuerySinceAfterUntil:
		return "since is after until"
	default:
		return fmt.Sprintf("limit %q is not an integer from 1 to %d", e.Value, e.MaxLimit)
	}
}

// ParseQuery reads a Filter from URL query parameters: error_type, status,
// field, topic, subject, since, until, limit and cursor, each read once
// (the first value); an empty value is the same as an absent one. It is
// the one reader of a Filter from a query, for the API and the browser.
//
// The filter comes back with the error too, every text parameter set, so
// a caller can still show what was asked. The error is a *QueryError for
// the first parameter that does not read, in the order error_type,
// status, since, until, the two times' order, limit.
func ParseQuery(q url.Values, opts QueryOptions) (Filter, error) {
	f := Filter{
		ErrorType: record.ErrorType(q.Get("error_type")),
		Status:    Status(q.Get("status")),
		Field:     q.Get("field"),
		Topic:     q.Get("topic"),
		Subject:   q.Get("subject"),
		Cursor:    q.Get("cursor"),
	}
	if opts.MaxLimit == 0 {
		f.Limit = DefaultLimit
	}
	if f.ErrorType != "" && !f.ErrorType.Known() {
		return f, &QueryError{Param: "error_type", Value: string(f.ErrorType), Reason: QueryUnknown}
	}
	if f.Status != "" && !f.Status.Known() {
		return f, &QueryError{Param: "status", Value: string(f.Status), Reason: QueryUnknown}
	}
	if err := parseQueryTimes(q, opts.TimeLayouts, &f); err != nil {
		return f, err
	}
	if v := q.Get("limit"); v != "" && opts.MaxLimit > 0 {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > opts.MaxLimit {
			return f, &QueryError{Param: "limit", Value: v, Reason: QueryLimitRange, MaxLimit: opts.MaxLimit}
		}
		f.Limit = n
	}
	return f, nil
}

// parseQueryTimes reads since and until into f, in that order, and checks
// that since is not after until.
func parseQueryTimes(q url.Values, layouts []string, f *Filter) error {
	if len(layouts) == 0 {
		layouts = []string{time.RFC3339Nano}
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		t, ok := parseQueryTime(v, layouts)
		if !ok {
			return &QueryError{Param: p.name, Value: v, Reason: QueryNotATime}
		}
		*p.dst = t
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Since.After(f.Until) {
		return &QueryError{Param: "since", Value: q.Get("since"), Reason: QuerySinceAfterUntil}
	}
	return nil
}

func parseQueryTime(s string, layouts []string) (time.Time, bool) {
	for _, layout := range layouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
