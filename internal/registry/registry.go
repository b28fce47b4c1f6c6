package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/avro"
	"github.com/dataquarantine/dataquarantine/internal/schema/compat"
	"github.com/dataquarantine/dataquarantine/internal/schema/jsonschema"
	"github.com/dataquarantine/dataquarantine/internal/schema/protobuf"
)

// Latest names a subject's latest live version where a version number is
// expected, as "latest" does in Confluent's API.
const Latest = -1

// DefaultCompatibility is the compatibility level when none is configured.
const DefaultCompatibility = compat.Backward

// Options configure a Registry.
type Options struct {
	// Store persists the registry. Required; the Registry does not close
	// it.
	Store Store
	// OnChange is called after every write that may change a subject's
	// versions (register, delete, state change), once the write is done and
	// the registry unlocked; the pipeline's resolver reloads the subject
	// there. Default: none.
	OnChange func(ctx context.Context, subject string)
}

// Registry is the schema registry service. It is safe for concurrent use;
// writes are serialised, so a Store needs no cross-call transactions (one
// Registry per Store).
type Registry struct {
	store    Store
	onChange func(ctx context.Context, subject string)
	mu       sync.Mutex // every write
}

// New returns a Registry over opts.Store.
func New(opts Options) (*Registry, error) {
	if opts.Store == nil {
		return nil, errors.New("registry: Options.Store is required")
	}
	return &Registry{store: opts.Store, onChange: opts.OnChange}, nil
}

// SubjectSchema is one version of a subject with its schema.
type SubjectSchema struct {
	Version
	Schema
}

// RegisterRequest is a schema to register under a subject.
type RegisterRequest struct {
	Subject string
	// Format is "JSON", "AVRO" or "PROTOBUF"; "" is AVRO, as in
	// Confluent's API.
	Format schema.Format
	// Schema is the schema's text; for PROTOBUF, .proto text or a base64
	// binary FileDescriptorProto.
	Schema string
	// Normalize stores the schema's normal form (see Normal) instead of
	// its text, as Confluent's normalize=true does. Schemas are compared
	// by their normal form either way.
	Normalize bool
	// Label is an optional semantic-version label ("1.1.0").
	Label string
	// ID and Version, when non-zero, are kept as given; only in IMPORT
	// mode.
	ID      int
	Version int
	// RuleSet is the data-contract rules: any well-formed rule set
	// (ErrInvalidRuleSet otherwise). Nil inherits the rules of the
	// subject's latest version, as in Confluent; an empty RuleSet is none.
	RuleSet *RuleSet
	// Metadata is Confluent's schema metadata. Nil inherits the latest
	// version's, as in Confluent; an empty Metadata is none.
	Metadata *Metadata
	// State is the rollout state a new version starts in. Default
	// registered, or enforced when the subject enforces new versions.
	// An existing version keeps its state.
	State State
}

var semver = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// ParseFormat reads a schema type as Confluent spells it; "" is AVRO.
func ParseFormat(s string) (schema.Format, error) {
	switch strings.ToUpper(s) {
	case "", string(schema.FormatAvro):
		return schema.FormatAvro, nil
	case string(schema.FormatJSON):
		return schema.FormatJSON, nil
	case string(schema.FormatProtobuf):
		return schema.FormatProtobuf, nil
	}
	return "", fmt.Errorf("%w: unknown schema type %q (want JSON, AVRO or PROTOBUF)", ErrInvalidSchema, s)
}

// parsed is a schema as the registry stores and compares it.
type parsed struct {
	format      schema.Format
	text        string // as stored
	fingerprint string
}

// parse reads and validates src: the text it is stored as (its normal
// form with normalize) and its fingerprint.
func parse(format schema.Format, src string, normalize bool) (parsed, error) {
	f, err := ParseFormat(string(format))
	if err != nil {
		return parsed{}, err
	}
	text, err := CanonicalText(f, src)
	if err != nil {
		return parsed{}, fmt.Errorf("%w: %w", ErrInvalidSchema, err)
	}
	if err := compat.Validate(f, []byte(text)); err != nil {
		return parsed{}, fmt.Errorf("%w: %w", ErrInvalidSchema, err)
	}
	if f == schema.FormatJSON {
		// A schema whose evaluation never ends (a reference cycle) or
		// takes minutes (exponentially many subschemas) is refused here
		// rather than failing or stalling on each record.
		_, err := jsonschema.Compile("schema", []byte(text))
		if errors.Is(err, jsonschema.ErrRefCycle) || errors.Is(err, jsonschema.ErrTooExpensive) {
			return parsed{}, fmt.Errorf("%w: %w", ErrInvalidSchema, err)
		}
	}
	normal, err := Normal(f, text)
	if err != nil {
		return parsed{}, fmt.Errorf("%w: %w", ErrInvalidSchema, err)
	}
	if normalize {
		text = normal
	}
	return parsed{format: f, text: text, fingerprint: Fingerprint(f, normal)}, nil
}

// CanonicalText returns src as the registry stores it: a JSON document
// (JSON Schema, Avro) compacted, so that whitespace alone never makes
// another text; a .proto trimmed, and a base64 FileDescriptorProto (what
// Confluent's Protobuf serializers send) printed as .proto. Anything else
// is an error.
func CanonicalText(format schema.Format, src string) (string, error) {
	if format == schema.FormatProtobuf {
		return protobuf.Source(src)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(src)); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// Normal returns the normal form of a stored text, which schemas are
// compared in: for JSON Schema the document with sorted keys, for Avro the
// parsed schema written back with full names in a fixed key order, for
// Protobuf the compiled file printed back without comments. It is the
// form Confluent's normalize=true stores.
func Normal(format schema.Format, text string) (string, error) {
	switch format {
	case schema.FormatAvro:
		return avro.Normal([]byte(text))
	case schema.FormatProtobuf:
		return protobuf.Normal(text)
	}
	return jsonschema.Normal([]byte(text))
}

// contract is a rule set and metadata as stored.
type contract struct {
	ruleSet, metadata string
}

// contractOf encodes req's rule set and metadata, each nil one taken from
// inherit (the subject's latest version), as Confluent does.
func contractOf(rs *RuleSet, md *Metadata, inherit Schema) (contract, error) {
	var c contract
	var err error
	if rs == nil {
		c.ruleSet = inherit.RuleSet
	} else if c.ruleSet, err = encodeRuleSet(rs); err != nil {
		return contract{}, err
	}
	if md == nil {
		c.metadata = inherit.Metadata
	} else if c.metadata, err = encodeMetadata(md); err != nil {
		return contract{}, err
	}
	return c, nil
}

// Register stores req.Schema as the next version of req.Subject, after
// checking it against the subject's live versions under the effective
// compatibility level (skipped in IMPORT mode). A schema already live
// under the subject with the same rule set and metadata is returned as it
// is, so registering is idempotent; with other rules or metadata it is a
// new schema id and version, as in Confluent: an id's contract never
// changes. Schemas are compared by fingerprint, so another layout or key
// order of a live schema is that schema. An incompatible schema is an
// *IncompatibleError.
func (r *Registry) Register(ctx context.Context, req RegisterRequest) (SubjectSchema, error) {
	if err := req.check(); err != nil {
		return SubjectSchema{}, err
	}
	p, err := parse(req.Format, req.Schema, req.Normalize)
	if err != nil {
		return SubjectSchema{}, err
	}
	ruleSet, err := req.RuleSet.normalize()
	if err != nil {
		return SubjectSchema{}, err
	}
	defer r.changed(ctx, req.Subject) // after the deferred Unlock below
	r.mu.Lock()
	defer r.mu.Unlock()
	mode, err := r.registerMode(ctx, req)
	if err != nil {
		return SubjectSchema{}, err
	}
	rows, err := r.store.Versions(ctx, VersionFilter{Subject: req.Subject})
	if err != nil {
		return SubjectSchema{}, fmt.Errorf("listing versions of %s: %w", req.Subject, err)
	}
	live := liveOnly(rows)
	c, err := r.contractFor(ctx, req, ruleSet, live)
	if err != nil {
		return SubjectSchema{}, err
	}
	existing, found, err := r.find(ctx, p, c)
	if err != nil {
		return SubjectSchema{}, err
	}
	if found {
		if req.ID != 0 && req.ID != existing.ID {
			return SubjectSchema{}, fmt.Errorf("%w: schema already registered with id %d, not %d", ErrOperationNotPermitted, existing.ID, req.ID)
		}
		if v, ok := versionOf(live, existing.ID); ok {
			return SubjectSchema{Version: v, Schema: existing}, nil
		}
	}
	if mode != ModeImport {
		if err := r.checkCompatible(ctx, req.Subject, p, live); err != nil {
			return SubjectSchema{}, err
		}
	}
	if !found {
		if existing, err = r.storeSchema(ctx, req.ID, p, c); err != nil {
			return SubjectSchema{}, err
		}
	}
	return r.storeVersion(ctx, req, rows, existing)
}

// check refuses a request whose subject, state or label is not one.
func (req *RegisterRequest) check() error {
	if req.Subject == "" {
		return fmt.Errorf("%w: empty subject", ErrInvalidSchema)
	}
	if req.State != "" {
		if _, err := ParseState(string(req.State)); err != nil {
			return fmt.Errorf("%w %q", err, req.State)
		}
	}
	if req.Label != "" && !semver.MatchString(req.Label) {
		return fmt.Errorf("%w: %q", ErrInvalidLabel, req.Label)
	}
	return nil
}

// registerMode returns the subject's effective mode, refusing a register
// it does not permit: any in READONLY, an explicit id or version outside
// IMPORT.
func (r *Registry) registerMode(ctx context.Context, req RegisterRequest) (Mode, error) {
	mode, err := r.effectiveMode(ctx, req.Subject)
	if err != nil {
		return mode, err
	}
	if mode == ModeReadOnly {
		return mode, fmt.Errorf("%w: subject %q is in read-only mode", ErrOperationNotPermitted, req.Subject)
	}
	if (req.ID != 0 || req.Version != 0) && mode != ModeImport {
		return mode, fmt.Errorf("%w: an id or version can be given only in IMPORT mode", ErrOperationNotPermitted)
	}
	return mode, nil
}

// contractFor is req's contract: its rule set (normalized: ruleSet) and
// metadata, each one req leaves out inherited from the subject's latest
// live version.
func (r *Registry) contractFor(ctx context.Context, req RegisterRequest, ruleSet *RuleSet, live []Version) (contract, error) {
	var latest Schema
	if len(live) > 0 && (req.RuleSet == nil || req.Metadata == nil) {
		var err error
		if latest, err = r.schema(ctx, live[len(live)-1].SchemaID); err != nil {
			return contract{}, err
		}
	}
	return contractOf(ruleSet, req.Metadata, latest)
}

// versionOf returns the live version of schema id, if there is one.
func versionOf(live []Version, id int) (Version, bool) {
	for _, v := range live {
		if v.SchemaID == id {
			return v, true
		}
	}
	return Version{}, false
}

// checkCompatible checks p against the subject's live versions under its
// effective level; an incompatible schema is an *IncompatibleError.
func (r *Registry) checkCompatible(ctx context.Context, subject string, p parsed, live []Version) error {
	level, err := r.effectiveLevel(ctx, subject)
	if err != nil {
		return err
	}
	res, err := r.check(ctx, level, p.format, p.text, live)
	if err != nil {
		return err
	}
	if !res.Compatible {
		return &IncompatibleError{Subject: subject, Level: level, Changes: res.Breaking()}
	}
	return nil
}

// storeSchema stores p with contract c as a new schema, under id (0: the
// store's next) and returns it.
func (r *Registry) storeSchema(ctx context.Context, id int, p parsed, c contract) (Schema, error) {
	s := Schema{
		ID: id, Format: p.format, Text: p.text, RuleSet: c.ruleSet, Metadata: c.metadata,
		Fingerprint: p.fingerprint, GUID: GUID(p.format, p.text, c.ruleSet, c.metadata),
	}
	stored, err := r.store.InsertSchema(ctx, s)
	if errors.Is(err, ErrConflict) && id == 0 {
		// Another process sharing the store registered the same
		// schema (under another subject) since find: use its id.
		var found bool
		stored, found, err = r.find(ctx, p, c)
		if err == nil && !found {
			err = fmt.Errorf("schema %s conflicts with a stored schema of another fingerprint", s.GUID)
		}
	}
	if err != nil {
		return Schema{}, fmt.Errorf("storing schema: %w", err)
	}
	return stored, nil
}

// storeVersion stores s as the subject's next version after rows (or
// req.Version, in IMPORT mode), in req's state, else the state the
// subject gives new versions.
func (r *Registry) storeVersion(ctx context.Context, req RegisterRequest, rows []Version, s Schema) (SubjectSchema, error) {
	next := req.Version
	if next == 0 {
		next = 1
		if len(rows) > 0 {
			next = rows[len(rows)-1].Version + 1
		}
	}
	cfg, err := r.config(ctx, req.Subject)
	if err != nil {
		return SubjectSchema{}, err
	}
	state := req.State
	switch {
	case state != "":
	case cfg.EnforceNew:
		state = StateEnforced
	default:
		state = StateRegistered
	}
	v := Version{Subject: req.Subject, Version: next, SchemaID: s.ID, Label: req.Label, State: state}
	if err := r.store.InsertVersion(ctx, v); err != nil {
		return SubjectSchema{}, fmt.Errorf("storing version %d of %s: %w", next, req.Subject, err)
	}
	return SubjectSchema{Version: v, Schema: s}, nil
}

// find returns the stored schema with p's fingerprint and c's contract:
// the one with the lowest id when an older gateway stored several.
func (r *Registry) find(ctx context.Context, p parsed, c contract) (Schema, bool, error) {
	all, err := r.store.SchemasByFingerprint(ctx, p.fingerprint)
	if err != nil {
		return Schema{}, false, fmt.Errorf("looking up schema: %w", err)
	}
	for _, s := range all {
		if s.Format == p.format && s.RuleSet == c.ruleSet && s.Metadata == c.metadata {
			return s, true, nil
		}
	}
	return Schema{}, false, nil
}

// schema reads schema id.
func (r *Registry) schema(ctx context.Context, id int) (Schema, error) {
	s, err := r.store.Schema(ctx, id)
	if err != nil {
		return Schema{}, fmt.Errorf("reading schema %d: %w", id, err)
	}
	return s, nil
}

func (r *Registry) check(ctx context.Context, level compat.Mode, format schema.Format, text string, against []Version) (compat.Result, error) {
	if level == compat.None || len(against) == 0 {
		return compat.Result{Compatible: true}, nil
	}
	if !strings.HasSuffix(string(level), "_TRANSITIVE") {
		against = against[len(against)-1:]
	}
	var (
		texts   [][]byte
		changes []compat.Change
	)
	for _, v := range against {
		s, err := r.store.Schema(ctx, v.SchemaID)
		if err != nil {
			return compat.Result{}, fmt.Errorf("reading schema %d: %w", v.SchemaID, err)
		}
		if s.Format != format {
			changes = append(changes, compat.Change{
				Kind: "SCHEMA_TYPE_CHANGED", Path: "#/", Breaking: true, Direction: compat.DirBackward,
				Message: fmt.Sprintf("version %d is %s, the new schema is %s: readers of one cannot read the other", v.Version, s.Format, format),
			})
			continue
		}
		texts = append(texts, []byte(s.Text))
	}
	res, err := compat.Check(format, level, []byte(text), texts)
	if err != nil {
		return compat.Result{}, fmt.Errorf("%w: %w", ErrInvalidSchema, err)
	}
	if len(changes) > 0 {
		res.Compatible = false
		res.Changes = append(changes, res.Changes...)
	}
	return res, nil
}

// Check reports whether the schema could be registered under subject:
// against version (Latest, or a number) or, when version is 0, against the
// versions the subject's compatibility level names.
func (r *Registry) Check(ctx context.Context, subject string, version int, format schema.Format, src string) (compat.Result, error) {
	p, err := parse(format, src, false)
	if err != nil {
		return compat.Result{}, err
	}
	rows, err := r.store.Versions(ctx, VersionFilter{Subject: subject})
	if err != nil {
		return compat.Result{}, fmt.Errorf("listing versions of %s: %w", subject, err)
	}
	live := liveOnly(rows)
	level, err := r.effectiveLevel(ctx, subject)
	if err != nil {
		return compat.Result{}, err
	}
	against := live
	if version != 0 {
		v, err := pick(live, version)
		if err != nil {
			return compat.Result{}, err
		}
		against = []Version{v}
	}
	return r.check(ctx, level, p.format, p.text, against)
}

// LookupRequest is a schema to find under a subject.
type LookupRequest struct {
	Subject string
	Format  schema.Format
	Schema  string
	// Deleted includes soft-deleted versions.
	Deleted bool
	// RuleSet and Metadata, when not nil, must be the version's too (an
	// empty one: none); nil matches any.
	RuleSet  *RuleSet
	Metadata *Metadata
}

// Lookup finds the newest version of req.Subject whose schema is
// req.Schema (by fingerprint: another layout or key order is the same
// schema) and whose rules and metadata are those of the request when it
// gives them. ErrSubjectNotFound when the subject has no version,
// ErrSchemaNotFound when none matches.
func (r *Registry) Lookup(ctx context.Context, req LookupRequest) (SubjectSchema, error) {
	p, err := parse(req.Format, req.Schema, false)
	if err != nil {
		return SubjectSchema{}, err
	}
	var want contract
	if req.RuleSet != nil || req.Metadata != nil {
		rs, err := req.RuleSet.normalize()
		if err != nil {
			return SubjectSchema{}, err
		}
		if want, err = contractOf(rs, req.Metadata, Schema{}); err != nil {
			return SubjectSchema{}, err
		}
	}
	rows, err := r.subjectRows(ctx, req.Subject, req.Deleted)
	if err != nil {
		return SubjectSchema{}, err
	}
	all, err := r.store.SchemasByFingerprint(ctx, p.fingerprint)
	if err != nil {
		return SubjectSchema{}, fmt.Errorf("looking up schema: %w", err)
	}
	match := make(map[int]Schema, len(all))
	for _, s := range all {
		if s.Format == p.format && (req.RuleSet == nil || s.RuleSet == want.ruleSet) && (req.Metadata == nil || s.Metadata == want.metadata) {
			match[s.ID] = s
		}
	}
	for i := len(rows) - 1; i >= 0; i-- {
		if s, ok := match[rows[i].SchemaID]; ok {
			return SubjectSchema{Version: rows[i], Schema: s}, nil
		}
	}
	return SubjectSchema{}, ErrSchemaNotFound
}

// LatestWithMetadata returns the newest version of subject whose metadata
// properties include every key and value of properties (Confluent's
// GET /subjects/{subject}/metadata).
func (r *Registry) LatestWithMetadata(ctx context.Context, subject string, properties map[string]string, deleted bool) (SubjectSchema, error) {
	rows, err := r.subjectRows(ctx, subject, deleted)
	if err != nil {
		return SubjectSchema{}, err
	}
	for i := len(rows) - 1; i >= 0; i-- {
		s, err := r.schema(ctx, rows[i].SchemaID)
		if err != nil {
			return SubjectSchema{}, err
		}
		md, err := ParseMetadata(s.Metadata)
		if err != nil {
			return SubjectSchema{}, err
		}
		if md.HasProperties(properties) {
			return SubjectSchema{Version: rows[i], Schema: s}, nil
		}
	}
	return SubjectSchema{}, fmt.Errorf("%w: no version of %s has the metadata %v", ErrVersionNotFound, subject, properties)
}

// SchemaByID returns the schema with the global id.
func (r *Registry) SchemaByID(ctx context.Context, id int) (Schema, error) {
	s, err := r.store.Schema(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Schema{}, ErrSchemaNotFound
	}
	if err != nil {
		return Schema{}, fmt.Errorf("reading schema %d: %w", id, err)
	}
	return s, nil
}

// VersionsByID returns the subject versions using schema id.
func (r *Registry) VersionsByID(ctx context.Context, id int, deleted bool) ([]Version, error) {
	if _, err := r.SchemaByID(ctx, id); err != nil {
		return nil, err
	}
	rows, err := r.store.Versions(ctx, VersionFilter{SchemaID: id})
	if err != nil {
		return nil, fmt.Errorf("listing versions of schema %d: %w", id, err)
	}
	if !deleted {
		rows = liveOnly(rows)
	}
	return rows, nil
}

// Subjects lists the subjects with a live version (or any version, with
// deleted), sorted.
func (r *Registry) Subjects(ctx context.Context, deleted bool) ([]string, error) {
	rows, err := r.store.Versions(ctx, VersionFilter{})
	if err != nil {
		return nil, fmt.Errorf("listing versions: %w", err)
	}
	out := []string{}
	for _, v := range rows {
		if (deleted || !v.Deleted) && (len(out) == 0 || out[len(out)-1] != v.Subject) {
			out = append(out, v.Subject)
		}
	}
	sort.Strings(out)
	return out, nil
}

// All returns every version of every subject with its schema, by subject
// then version: live ones, or every one with deleted; with latestOnly,
// each subject's latest only.
func (r *Registry) All(ctx context.Context, deleted, latestOnly bool) ([]SubjectSchema, error) {
	rows, err := r.store.Versions(ctx, VersionFilter{})
	if err != nil {
		return nil, fmt.Errorf("listing versions: %w", err)
	}
	if !deleted {
		rows = liveOnly(rows)
	}
	out := []SubjectSchema{}
	texts := map[int]Schema{}
	for i, v := range rows {
		if latestOnly && i+1 < len(rows) && rows[i+1].Subject == v.Subject {
			continue
		}
		s, ok := texts[v.SchemaID]
		if !ok {
			if s, err = r.store.Schema(ctx, v.SchemaID); err != nil {
				return nil, fmt.Errorf("reading schema %d: %w", v.SchemaID, err)
			}
			texts[v.SchemaID] = s
		}
		out = append(out, SubjectSchema{Version: v, Schema: s})
	}
	return out, nil
}

// Versions lists subject's versions.
func (r *Registry) Versions(ctx context.Context, subject string, deleted bool) ([]Version, error) {
	return r.subjectRows(ctx, subject, deleted)
}

// Get returns version (or Latest) of subject; soft-deleted versions only
// with deleted.
func (r *Registry) Get(ctx context.Context, subject string, version int, deleted bool) (SubjectSchema, error) {
	rows, err := r.subjectRows(ctx, subject, deleted)
	if err != nil {
		return SubjectSchema{}, err
	}
	v, err := pick(rows, version)
	if err != nil {
		return SubjectSchema{}, err
	}
	s, err := r.schema(ctx, v.SchemaID)
	if err != nil {
		return SubjectSchema{}, err
	}
	return SubjectSchema{Version: v, Schema: s}, nil
}

// DeleteVersion soft-deletes version (or Latest) of subject or, with
// permanent, removes an already soft-deleted one. It returns the version
// number deleted.
func (r *Registry) DeleteVersion(ctx context.Context, subject string, version int, permanent bool) (int, error) {
	defer r.changed(ctx, subject) // after the deferred Unlock below
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.writable(ctx, subject); err != nil {
		return 0, err
	}
	rows, err := r.subjectRows(ctx, subject, true)
	if err != nil {
		return 0, err
	}
	if version == Latest && !permanent {
		rows = liveOnly(rows)
		if len(rows) == 0 {
			return 0, ErrSubjectNotFound
		}
	}
	v, err := pick(rows, version)
	if err != nil {
		return 0, err
	}
	switch {
	case permanent && !v.Deleted:
		return 0, ErrVersionNotSoftDeleted
	case permanent:
		err = r.store.DeleteVersion(ctx, subject, v.Version)
	case v.Deleted:
		return 0, ErrVersionSoftDeleted
	default:
		v.Deleted = true
		err = r.store.UpdateVersion(ctx, v)
	}
	if err != nil {
		return 0, fmt.Errorf("deleting version %d of %s: %w", v.Version, subject, err)
	}
	return v.Version, nil
}

// DeleteSubject soft-deletes every live version of subject or, with
// permanent, removes a subject whose versions are all soft-deleted, and
// its configuration. It returns the version numbers deleted.
func (r *Registry) DeleteSubject(ctx context.Context, subject string, permanent bool) ([]int, error) {
	defer r.changed(ctx, subject) // after the deferred Unlock below
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.writable(ctx, subject); err != nil {
		return nil, err
	}
	rows, err := r.subjectRows(ctx, subject, true)
	if err != nil {
		return nil, err
	}
	live := liveOnly(rows)
	switch {
	case permanent && len(live) > 0:
		return nil, ErrSubjectNotSoftDeleted
	case !permanent && len(live) == 0:
		return nil, ErrSubjectSoftDeleted
	}
	out := []int{}
	for _, v := range rows {
		if permanent {
			err = r.store.DeleteVersion(ctx, subject, v.Version)
		} else {
			v.Deleted = true
			err = r.store.UpdateVersion(ctx, v)
		}
		if err != nil {
			return nil, fmt.Errorf("deleting version %d of %s: %w", v.Version, subject, err)
		}
		out = append(out, v.Version)
	}
	if permanent {
		if err := r.store.DeleteConfig(ctx, subject); err != nil {
			return nil, fmt.Errorf("deleting configuration of %s: %w", subject, err)
		}
	}
	return out, nil
}

// SetState moves version of subject to a rollout state.
func (r *Registry) SetState(ctx context.Context, subject string, version int, state State) (Version, error) {
	v, _, err := r.ChangeState(ctx, subject, version, "", state)
	return v, err
}

// ChangeState moves version of subject from the rollout state from (any
// when "") to the state to, returning the version in its new state and the
// state it left. A version not in from is a *WrongStateError, and stays as
// it is. The check and the change are made under one lock, so of two
// changes that start from the same state only one is made.
func (r *Registry) ChangeState(ctx context.Context, subject string, version int, from, to State) (Version, State, error) {
	if _, err := ParseState(string(to)); err != nil {
		return Version{}, "", fmt.Errorf("%w %q (want registered, shadow, enforced or deprecated)", err, to)
	}
	defer r.changed(ctx, subject) // after the deferred Unlock below
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.writable(ctx, subject); err != nil {
		return Version{}, "", err
	}
	rows, err := r.subjectRows(ctx, subject, false)
	if err != nil {
		return Version{}, "", err
	}
	v, err := pick(rows, version)
	if err != nil {
		return Version{}, "", err
	}
	left := v.State
	if from != "" && left != from {
		return Version{}, "", &WrongStateError{Subject: subject, Version: v.Version, State: left, From: from}
	}
	v.State = to
	if err := r.store.UpdateVersion(ctx, v); err != nil {
		return Version{}, "", fmt.Errorf("setting state of version %d of %s: %w", v.Version, subject, err)
	}
	return v, left, nil
}

// Config returns the configuration set for subject ("" is global);
// ErrNotFound when none.
func (r *Registry) Config(ctx context.Context, subject string) (Config, error) {
	c, err := r.store.Config(ctx, subject)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Config{}, fmt.Errorf("reading configuration of %q: %w", subject, err)
	}
	return c, err
}

// Compatibility returns the level in effect for subject ("" is global).
func (r *Registry) Compatibility(ctx context.Context, subject string) (compat.Mode, error) {
	return r.effectiveLevel(ctx, subject)
}

// SetCompatibility sets subject's level ("" sets the global one).
func (r *Registry) SetCompatibility(ctx context.Context, subject, level string) (compat.Mode, error) {
	m, err := compat.ParseMode(level)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidCompatibility, err)
	}
	return m, r.updateConfig(ctx, subject, func(c *Config) { c.Compatibility = string(m) })
}

// DeleteCompatibility unsets subject's level, returning the level it had.
func (r *Registry) DeleteCompatibility(ctx context.Context, subject string) (compat.Mode, error) {
	prev, err := r.effectiveLevel(ctx, subject)
	if err != nil {
		return "", err
	}
	return prev, r.updateConfig(ctx, subject, func(c *Config) { c.Compatibility = "" })
}

// Mode returns the mode in effect for subject ("" is global).
func (r *Registry) Mode(ctx context.Context, subject string) (Mode, error) {
	return r.effectiveMode(ctx, subject)
}

// ParseMode reads a mode name.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToUpper(s)); m {
	case ModeReadWrite, ModeReadOnly, ModeImport:
		return m, nil
	}
	return "", fmt.Errorf("%w %q (want READWRITE, READONLY or IMPORT)", ErrInvalidMode, s)
}

// SetMode sets subject's mode ("" sets the global one).
func (r *Registry) SetMode(ctx context.Context, subject, mode string) (Mode, error) {
	m, err := ParseMode(mode)
	if err != nil {
		return "", err
	}
	return m, r.updateConfig(ctx, subject, func(c *Config) { c.Mode = m })
}

// DeleteMode unsets subject's mode, returning the mode it had.
func (r *Registry) DeleteMode(ctx context.Context, subject string) (Mode, error) {
	prev, err := r.effectiveMode(ctx, subject)
	if err != nil {
		return "", err
	}
	return prev, r.updateConfig(ctx, subject, func(c *Config) { c.Mode = "" })
}

// SetEnforceNew sets whether versions registered under subject start
// enforced.
func (r *Registry) SetEnforceNew(ctx context.Context, subject string, enforce bool) error {
	return r.updateConfig(ctx, subject, func(c *Config) { c.EnforceNew = enforce })
}

func (r *Registry) updateConfig(ctx context.Context, subject string, f func(*Config)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.Config(ctx, subject)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	c.Subject = subject
	f(&c)
	if c == (Config{Subject: subject}) {
		err = r.store.DeleteConfig(ctx, subject)
	} else {
		err = r.store.SetConfig(ctx, c)
	}
	if err != nil {
		return fmt.Errorf("storing configuration of %q: %w", subject, err)
	}
	return nil
}

// config merges subject's configuration over the global one.
func (r *Registry) config(ctx context.Context, subject string) (Config, error) {
	g, err := r.Config(ctx, "")
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Config{}, err
	}
	if subject == "" {
		return g, nil
	}
	s, err := r.Config(ctx, subject)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Config{}, err
	}
	if s.Compatibility == "" {
		s.Compatibility = g.Compatibility
	}
	if s.Mode == "" {
		s.Mode = g.Mode
	}
	s.EnforceNew = s.EnforceNew || g.EnforceNew
	return s, nil
}

func (r *Registry) effectiveLevel(ctx context.Context, subject string) (compat.Mode, error) {
	c, err := r.config(ctx, subject)
	if err != nil {
		return "", err
	}
	if c.Compatibility == "" {
		return DefaultCompatibility, nil
	}
	return compat.Mode(c.Compatibility), nil
}

func (r *Registry) effectiveMode(ctx context.Context, subject string) (Mode, error) {
	c, err := r.config(ctx, subject)
	if err != nil {
		return "", err
	}
	if c.Mode == "" {
		return ModeReadWrite, nil
	}
	return c.Mode, nil
}

func (r *Registry) writable(ctx context.Context, subject string) error {
	m, err := r.effectiveMode(ctx, subject)
	if err != nil {
		return err
	}
	if m == ModeReadOnly {
		return fmt.Errorf("%w: subject %q is in read-only mode", ErrOperationNotPermitted, subject)
	}
	return nil
}

// subjectRows returns subject's versions, ErrSubjectNotFound when it has
// none (none live, without deleted).
func (r *Registry) subjectRows(ctx context.Context, subject string, deleted bool) ([]Version, error) {
	rows, err := r.store.Versions(ctx, VersionFilter{Subject: subject})
	if err != nil {
		return nil, fmt.Errorf("listing versions of %s: %w", subject, err)
	}
	if !deleted {
		rows = liveOnly(rows)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w: %q", ErrSubjectNotFound, subject)
	}
	return rows, nil
}

// pick finds version (or Latest) in rows, sorted by version.
func pick(rows []Version, version int) (Version, error) {
	if version == Latest {
		if len(rows) == 0 {
			return Version{}, ErrVersionNotFound
		}
		return rows[len(rows)-1], nil
	}
	if version <= 0 {
		return Version{}, fmt.Errorf("%w %d: must be a positive integer or latest", ErrInvalidVersion, version)
	}
	for _, v := range rows {
		if v.Version == version {
			return v, nil
		}
	}
	return Version{}, fmt.Errorf("%w: %d", ErrVersionNotFound, version)
}

func liveOnly(rows []Version) []Version {
	out := make([]Version, 0, len(rows))
	for _, v := range rows {
		if !v.Deleted {
			out = append(out, v)
		}
	}
	return out
}

// changed tells OnChange that subject may have changed. A failed write
// notifies too: a reload that finds nothing new is harmless.
func (r *Registry) changed(ctx context.Context, subject string) {
	if r.onChange != nil {
		r.onChange(ctx, subject)
	}
}
