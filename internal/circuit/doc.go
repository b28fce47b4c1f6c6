// Package circuit owns the circuit breaker for floods of bad data: per input
// topic, when the share of invalid records over a sliding window exceeds a
// threshold, consumption of that topic pauses until an operator resumes it
// or, after a cooldown, it half-opens to probe. It trips on the invalid-data
// rate, which generic breakers (counting call failures) do not model, hence
// a small state machine of our own. Outages never feed it: only verdicts do.
package circuit
