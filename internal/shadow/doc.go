// Package shadow owns what shadow evaluation reports. A schema version in
// the registry's shadow state is evaluated on live records beside the
// enforced one (validate.Engine.ValidateShadow), deciding nothing; this
// package compares the two verdicts on each committed record
// (agree_pass, agree_fail, newly_rejected, newly_accepted) and keeps, per
// subject and candidate version: counts over the last hour in one-minute
// buckets and since counting began, what the candidate would newly reject
// by error type and field, and the last few records of each outcome. It
// exports schema_shadow_verdicts_total, picks the records evaluated when
// only a share is (Sampled: deterministic per record), and judges a
// promotion against a report (Guard). Control is what the API and the UI
// ask of the gateway's shadow evaluation, declared here once for both.
//
// Everything is in this process's memory, bounded, and lost on restart:
// when several gateways share the input topics, each reports its own
// partitions' share; the metric aggregates across them.
package shadow
