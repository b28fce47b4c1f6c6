// Package retry owns the gateway's one back-off and its one classifier of
// errors met on the hot path. Every loop that retries an operational failure
// (a broker, a store or the registry being unreachable) waits with Backoff,
// and asks Transient whether the failure is an outage that waiting fixes, so
// that an outage is never mistaken for bad data and a permanent failure is
// surfaced instead of looped on quietly.
package retry
