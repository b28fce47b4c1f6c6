// Package reprocess owns the replay of quarantined records (PRODUCT.md §7):
// selecting them by id or filter, a dry run that says how many would pass
// now, and jobs that re-validate each selected record against the current
// schema and rules, publish those that pass to the clean topic (or back to
// their raw source topic, or to their original topic as first produced:
// TargetSource, the redrive of records imported from another tool's
// dead-letter topic) and mark each reprocessed or failed_again.
//
// # Jobs
//
// Start persists a job (quarantine.JobStore) and returns its id at once;
// the job runs in the background under Run. A job claims each record
// before it publishes it (quarantine.Lifecycle.Claim, a compare-and-set
// on the record's status), so two jobs over the same records publish each
// record once: the second one finds it claimed and skips it.
//
// # Resuming, and the at-least-once window
//
// A job whose process stops (crash, restart, Run's context ending) stays
// "running" in the store. Run resumes every running job: it first finishes
// the records the job had claimed but not finished, then carries on through
// its selection. Records are processed in batches: claimed, re-validated,
// published with one ProduceSync, then finished one by one. A stop after
// the publish and before the finish republishes those records when the job
// resumes, so delivery is at least once, and the duplicates are at most one
// batch (Options.BatchSize records) per stop. Consumers of the clean topic
// can recognise a replay by its dq.replay.count header and its key.
//
// A batch that fails for an operational reason (the broker, the store) is
// retried with back-off; after Options.MaxAttempts the job fails, and the
// records it held go back to the status they were claimed from.
//
// # Loop guard
//
// Every published record carries dq.replay.count, one more than the
// record's previous count (the larger of its stored ReplayCount and a
// dq.replay.count header it arrived with, which a record republished to its
// raw topic and quarantined again carries). A record already replayed
// Options.MaxReplays times is not published again: it is marked
// failed_again with the reason, so it cannot cycle forever.
package reprocess
