// Package faulttest holds the process-level fault tests of PRODUCT.md §3 and
// §6: the real dataquarantine binary, built once per test, runs as child
// processes against a Kafka-protocol cluster (kfake) started in the test
// process, and the tests kill, restart and scale those processes, or stop
// the database under them, then assert exact outcomes: every input record in
// the clean or DLQ topic at least once, every quarantine row exactly once
// with its payload readable, nothing else anywhere.
//
// The package has no non-test code; this file documents it. The tests need
// the Go toolchain (to build the binary) and, for the PostgreSQL cases, the
// backends of internal/testbackend (with CI=true a missing one fails).
// Children get SIGKILL if the test binary dies, so none outlive a run.
//
// To kill a gateway at an exact point, the test's broker does it: a kfake
// control function SIGKILLs the child when it sends a given request (its
// offset commit, its transaction's EndTxn), before the broker handles it.
package faulttest
