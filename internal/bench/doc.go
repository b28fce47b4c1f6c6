// Package bench is the built-in benchmark behind 'dataquarantine bench': it
// produces a deterministic synthetic workload, runs the real pipeline over
// it with the configured stores, and reports throughput, CPU time per
// record, end-to-end latency quantiles, peak RSS, and whether every record
// was routed exactly where it belongs.
package bench
