// Package audit owns the audit trail: who changed what, when and why. Every
// mutating API call (reprocess, discard, payload edit, circuit resume,
// schema registration and rollout-state changes) appends one Event. The log
// lives with the quarantine metadata (the SQLite and PostgreSQL metadata
// drivers implement Log), so a record's history and its status change in
// the same database.
package audit
