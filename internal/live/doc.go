// Package live owns the gateway's live statistics: snapshots computed from
// the Prometheus registry the gateway exports (totals, rates over the last
// interval, success rate, error-type mix, latency quantiles, consumer lag,
// spool depth, circuit states), plus the most recent quarantined records,
// and the server-sent-events handler that streams them as JSON.
//
// It also owns their history, per input topic over the last 15 minutes to
// 24 hours (valid and invalid rates, invalid share, rate by error type,
// consumer lag): the Recorder keeps this process's own in fixed memory, and
// Prometheus asks a Prometheus server for every gateway's.
//
// It reads the metrics by name, so it needs no access to the pipeline: what
// /metrics shows is exactly what the dashboard shows, and what the API's
// stats show (ReadTotals, the one way the gateway reads its counters back).
package live
