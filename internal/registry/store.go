package registry

import (
	"context"

	"github.com/dataquarantine/dataquarantine/internal/schema"
)

// Store persists the registry's rows. It holds no rules: the Registry
// serialises every write through itself, so a Store needs no transactions
// across calls. Missing rows are ErrNotFound, taken keys ErrConflict.
type Store interface {
	// SchemasByFingerprint returns the schemas with this fingerprint
	// (whatever their rules and metadata), by id; none is no error.
	SchemasByFingerprint(ctx context.Context, fingerprint string) ([]Schema, error)
	// InsertSchema stores s. s.ID 0 assigns the next id (greater than
	// every id so far); a non-zero s.ID is kept (IMPORT mode) and
	// ErrConflict when taken. The same format, text, rule set and
	// metadata, or GUID, twice is ErrConflict. It returns s with its id.
	InsertSchema(ctx context.Context, s Schema) (Schema, error)
	// Schema returns the schema with id.
	Schema(ctx context.Context, id int) (Schema, error)
	// SchemaByGUID returns the schema whose GUID is guid (lower case),
	// through an index: no scan.
	SchemaByGUID(ctx context.Context, guid string) (Schema, error)
	// SchemasWithoutKeys returns up to limit schemas, by id, stored
	// before fingerprints and GUIDs were (their Fingerprint or GUID is
	// ""); Registry.Migrate computes them.
	SchemasWithoutKeys(ctx context.Context, limit int) ([]Schema, error)
	// SetSchemaKeys stores the fingerprint and GUID of schema id.
	SetSchemaKeys(ctx context.Context, id int, fingerprint, guid string) error
	// Versions returns the version rows matching f, soft-deleted ones
	// included, by subject then version.
	Versions(ctx context.Context, f VersionFilter) ([]Version, error)
	// InsertVersion stores v; ErrConflict when (subject, version) exists.
	InsertVersion(ctx context.Context, v Version) error
	// UpdateVersion overwrites the Deleted, State and Label of the
	// existing row (v.Subject, v.Version).
	UpdateVersion(ctx context.Context, v Version) error
	// DeleteVersion removes the row for good.
	DeleteVersion(ctx context.Context, subject string, version int) error
	// Config returns the configuration of subject ("" is global);
	// ErrNotFound when none was set.
	Config(ctx context.Context, subject string) (Config, error)
	// SetConfig stores c for c.Subject, replacing any.
	SetConfig(ctx context.Context, c Config) error
	// DeleteConfig removes subject's configuration; no error when none.
	DeleteConfig(ctx context.Context, subject string) error
	// Close releases the store.
	Close() error
}

// Schema is one schema text with its rules and metadata under a global
// id. The same schema, rule set and metadata registered under several
// subjects share one Schema; the same schema with other rules or metadata
// is another Schema, as in Confluent, where the id names the data
// contract.
type Schema struct {
	ID     int
	Format schema.Format
	Text   string
	// RuleSet is the data-contract rules, a RuleSet as canonical JSON (see
	// ParseRuleSet); "" when none. A string, so that Schema stays
	// comparable with ==.
	RuleSet string
	// Metadata is Confluent's schema metadata (tags, properties,
	// sensitive fields), a Metadata as canonical JSON (see
	// ParseMetadata); "" when none.
	Metadata string
	// Fingerprint names the schema apart from its rules and metadata:
	// texts with one fingerprint are one schema (see Fingerprint).
	Fingerprint string
	// GUID is the schema's globally unique id (see GUID).
	GUID string
}

// VersionFilter selects version rows; zero fields match everything.
type VersionFilter struct {
	Subject  string
	SchemaID int
}

// State is a version's rollout state.
type State string

// Rollout states.
const (
	// StateRegistered: stored, not enforced. Where new versions start.
	StateRegistered State = "registered"
	// StateEnforced: records are validated against it.
	StateEnforced State = "enforced"
	// StateDeprecated: superseded, kept for fallback and history.
	StateDeprecated State = "deprecated"
	// StateShadow: a candidate evaluated on live records beside the
	// enforced version, without deciding anything: what it would change is
	// reported (internal/shadow), routing and headers are not touched.
	StateShadow State = "shadow"
)

// States lists the rollout states in rollout order, for controls that
// offer them.
var States = []State{StateRegistered, StateShadow, StateEnforced, StateDeprecated}

// ParseState reads a state name.
func ParseState(s string) (State, error) {
	switch st := State(s); st {
	case StateRegistered, StateShadow, StateEnforced, StateDeprecated:
		return st, nil
	}
	return "", ErrInvalidState
}

// Version is one numbered version of a subject.
type Version struct {
	Subject  string
	Version  int
	SchemaID int
	// Label is the semantic-version label ("1.1.0"), "" when none.
	Label   string
	State   State
	Deleted bool // soft-deleted
}

// Mode is a registry mode, as Confluent names them.
type Mode string

// Modes.
const (
	ModeReadWrite Mode = "READWRITE"
	ModeReadOnly  Mode = "READONLY"
	ModeImport    Mode = "IMPORT"
)

// Config is the configuration of one subject, or the global one (Subject
// ""). Zero fields are unset and inherit from the global configuration,
// then the defaults (BACKWARD, READWRITE, not enforcing).
type Config struct {
	Subject       string
	Compatibility string // a compat.Mode, or ""
	Mode          Mode   // or ""
	// EnforceNew makes versions registered under the subject start
	// enforced instead of registered.
	EnforceNew bool
}
