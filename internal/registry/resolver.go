package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/dataquarantine/dataquarantine/internal/rules"
	"github.com/dataquarantine/dataquarantine/internal/schema"
)

// Compiler compiles one registered schema version for validation, with the
// gateway's decode limits and the version's business rules.
type Compiler func(CompileRequest) (*schema.Version, error)

// CompileRequest is one registered version to compile.
type CompileRequest struct {
	Subject string
	Version int
	Format  schema.Format
	Text    string
	// Rules are the business rules stored with the version (its rule
	// set's enabled CEL conditions), in order; nil when none. Register
	// compiled them already, so they compile.
	Rules []rules.Spec
}

// DefaultRefresh is how often a Resolver re-reads its subjects when
// ResolverOptions.Refresh is zero.
const DefaultRefresh = 10 * time.Second

// ResolverOptions configure a Resolver.
type ResolverOptions struct {
	// Registry is read for each bound subject's versions. Required.
	Registry *Registry
	// Bindings maps each input topic to its subject. Required.
	Bindings map[string]string
	// NoFallback lists the topics whose records only the newest enforced
	// version may accept. Default: none (older enforced versions are tried
	// after it).
	NoFallback map[string]bool
	// Wire lists the topics whose records are read for a Confluent wire
	// header (magic byte and schema id, or a __value_schema_id header).
	// Default: none.
	Wire map[string]bool
	// RejectDeprecatedIDs lists the topics where a record naming a
	// deprecated version's schema id is SCHEMA_NOT_FOUND. Default: none
	// (a record that names its schema is checked against it whatever its
	// rollout state, unless the version is deleted).
	RejectDeprecatedIDs map[string]bool
	// Compile compiles a version. Required.
	Compile Compiler
	// Refresh is how often every bound subject is re-read, so changes made
	// through another gateway sharing the registry's database are picked
	// up; changes through this process's own Registry are applied at once
	// (call Reload from Options.OnChange). Default DefaultRefresh.
	Refresh time.Duration
	// NegativeTTL is how long an id or GUID the registry does not have is
	// answered "not registered" without asking it again; a change to a
	// bound subject (through this process, or seen by Refresh) forgets
	// them at once. Default DefaultNegativeTTL.
	NegativeTTL time.Duration
	// LookupTimeout bounds one registry lookup of an id or GUID, within
	// the caller's context. Default DefaultLookupTimeout.
	LookupTimeout time.Duration
	// UnknownLookups caps the registry reads per second for ids and GUIDs
	// that are not versions of the bound subject as last loaded (nor
	// remembered as unknown), with bursts of as many: a producer naming
	// random ones cannot turn each record into a registry read. Past the
	// cap such a record is SCHEMA_NOT_FOUND without a read; the only
	// valid record that can meet this is one of a version registered
	// through another gateway since the last Refresh, during such a flood.
	// Default DefaultUnknownLookups.
	UnknownLookups int
	// OnShadow, when set, is called after each load of a subject that
	// changed it, with the versions the subject now has in shadow, newest
	// first (none: empty), so their reports can be started or dropped.
	// It runs under the resolver's reload lock and must not call back into
	// it. Default none.
	OnShadow func(subject string, versions []int)
	// Registerer receives the schema_enforced_version gauge. Default none.
	Registerer prometheus.Registerer
	// Logger receives reloads and their failures. Default slog.Default().
	Logger *slog.Logger
}

// Resolver resolves input topics to their subjects' enforced versions, as
// the registry's rollout states say (PRODUCT.md §5; design notes Q5): the
// newest enforced version decides, and the older enforced versions are its
// fallbacks, newest first. Versions in shadow are evaluated beside it
// (Shadows), deciding nothing. Registered versions are not used yet;
// deprecated and deleted ones no longer are.
//
// Resolve reads an immutable in-memory snapshot, so there is no registry
// round trip per record; Reload and Run replace the snapshot.
type Resolver struct {
	opts  ResolverOptions
	log   *slog.Logger
	plans atomic.Pointer[map[string]plan] // by topic

	mu       sync.Mutex                      // reloads
	compiled map[compiledKey]*schema.Version // every version compiled so far
	subjects map[string]subjectState         // by subject: the last load
	enforced *prometheus.GaugeVec
	hits     prometheus.Counter // ResolveID answered from memory
	misses   prometheus.Counter // ResolveID asked the registry
	unknowns prometheus.Counter // answered "not registered" from the negative cache

	idMu  sync.RWMutex
	ids   map[idKey]idAnswer // ResolveID's answers for registered ids, dropped when the subject changes
	idGen uint64             // bumped on every drop, so a lookup racing one is not cached
	guids map[string]int     // ResolveGUID's GUID -> schema id, for registered GUIDs

	// Ids and GUIDs the registry did not have, remembered for NegativeTTL
	// (and forgotten when a bound subject changes), so a producer naming
	// random ones costs one indexed registry read per new one and never
	// evicts the answers the valid records use.
	unknownIDs   *negativeCache[int]
	unknownGUIDs *negativeCache[string]
	lookups      *rate.Limiter // registry reads for ids and GUIDs not known
	throttled    prometheus.Counter
}

type idKey struct {
	topic string
	id    int
}

type idAnswer struct {
	version *schema.Version
	err     *schema.NotFoundError
	unknown bool // the registry has no such id
}

// maxCachedIDs bounds ResolveID's cache: records naming random ids must not
// grow it without end. Past it, answers are looked up each time.
const maxCachedIDs = 10_000

// plan is what Resolve (and Shadows) answers for one topic.
type plan struct {
	version *schema.Version // nil: notFound
	err     *schema.NotFoundError
	shadows []*schema.Version // compiled, newest first; nil when none
	known   *known            // the subject's schema ids and GUIDs, all versions
}

// known is what a subject's versions name, as last loaded: the ids and
// GUIDs a record of its topics may name. A record naming another costs a
// registry read only within ResolverOptions.UnknownLookups.
type known struct {
	ids   map[int]bool
	guids map[string]int
}

// compiledKey names a compiled version. A schema id names its text and its
// rules, neither of which ever change.
type compiledKey struct {
	subject  string
	version  int
	schemaID int
}

// subjectState is a subject's versions as last loaded.
type subjectState struct {
	rows     []Version         // every version, soft-deleted ones included
	enforced []*schema.Version // compiled, newest first
}

var (
	_ schema.Resolver       = (*Resolver)(nil)
	_ schema.IDResolver     = (*Resolver)(nil)
	_ schema.ShadowResolver = (*Resolver)(nil)
)

// NewResolver loads every bound subject and returns the Resolver. A
// subject that cannot be loaded fails it: the pipeline must not start
// without its schemas.
func NewResolver(ctx context.Context, opts ResolverOptions) (*Resolver, error) {
	switch {
	case opts.Registry == nil:
		return nil, errors.New("registry: ResolverOptions.Registry is required")
	case opts.Compile == nil:
		return nil, errors.New("registry: ResolverOptions.Compile is required")
	case len(opts.Bindings) == 0:
		return nil, errors.New("registry: ResolverOptions.Bindings is required")
	}
	if opts.Refresh <= 0 {
		opts.Refresh = DefaultRefresh
	}
	if opts.NegativeTTL <= 0 {
		opts.NegativeTTL = DefaultNegativeTTL
	}
	if opts.LookupTimeout <= 0 {
		opts.LookupTimeout = DefaultLookupTimeout
	}
	if opts.UnknownLookups <= 0 {
		opts.UnknownLookups = DefaultUnknownLookups
	}
	r := &Resolver{
		opts:     opts,
		log:      opts.Logger,
		compiled: make(map[compiledKey]*schema.Version),
		subjects: make(map[string]subjectState),
		ids:      make(map[idKey]idAnswer),
		guids:    make(map[string]int),

		unknownIDs:   newNegativeCache[int](maxCachedIDs, opts.NegativeTTL),
		unknownGUIDs: newNegativeCache[string](maxCachedIDs, opts.NegativeTTL),
		lookups:      rate.NewLimiter(rate.Limit(opts.UnknownLookups), opts.UnknownLookups),
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if opts.Registerer != nil {
		r.enforced = prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "schema_enforced_version",
			Help: "The newest enforced version of each bound schema subject (0: none enforced, records are SCHEMA_NOT_FOUND).",
		}, []string{"subject"})
		lookups := prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "schema_id_lookups_total",
			Help: "Schema ids and GUIDs named by records (Confluent wire header) resolved: from the in-memory cache (cache_hit), as not registered from the cache of unknown ones (unknown_cached), by a registry lookup (registry), or as not a version of the subject without a lookup, past the cap on lookups of unknown ones (throttled).",
		}, []string{"result"})
		for _, c := range []prometheus.Collector{r.enforced, lookups} {
			if err := opts.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("registering the resolver's metrics: %w", err)
			}
		}
		r.hits, r.misses, r.unknowns = lookups.WithLabelValues("cache_hit"), lookups.WithLabelValues("registry"), lookups.WithLabelValues("unknown_cached")
		r.throttled = lookups.WithLabelValues("throttled")
	}
	empty := map[string]plan{}
	r.plans.Store(&empty)
	for _, subject := range r.boundSubjects() {
		if err := r.Reload(ctx, subject); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Resolve implements schema.Resolver.
func (r *Resolver) Resolve(topic string) (*schema.Version, error) {
	p, ok := (*r.plans.Load())[topic]
	switch {
	case !ok:
		return nil, &schema.NotFoundError{Topic: topic}
	case p.err != nil:
		return nil, p.err
	}
	return p.version, nil
}

// Shadows implements schema.ShadowResolver.
func (r *Resolver) Shadows(topic string) []*schema.Version {
	return (*r.plans.Load())[topic].shadows
}

// Reload re-reads subject's versions and, when its enforced versions
// changed, swaps in the new plan for every topic bound to it. A subject no
// topic is bound to is ignored. On error the previous plan stays.
func (r *Resolver) Reload(ctx context.Context, subject string) error {
	topics := r.topicsOf(subject)
	if len(topics) == 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rows, err := r.opts.Registry.Versions(ctx, subject, true)
	if err != nil && !errors.Is(err, ErrSubjectNotFound) {
		return fmt.Errorf("loading versions of subject %s: %w", subject, err)
	}
	if prev, ok := r.subjects[subject]; ok && slices.Equal(prev.rows, rows) {
		return nil
	}
	var enforced, shadows []*schema.Version
	for _, v := range slices.Backward(rows) {
		if (v.State != StateEnforced && v.State != StateShadow) || v.Deleted {
			continue
		}
		sv, err := r.compile(ctx, v)
		if err != nil {
			return err
		}
		if v.State == StateShadow {
			shadows = append(shadows, sv)
		} else {
			enforced = append(enforced, sv)
		}
	}
	kn := &known{ids: make(map[int]bool, len(rows)), guids: make(map[string]int, len(rows))}
	for _, v := range rows {
		if kn.ids[v.SchemaID] {
			continue
		}
		s, err := r.opts.Registry.SchemaByID(ctx, v.SchemaID)
		if err != nil {
			return fmt.Errorf("loading schema id %d (version %d of %s): %w", v.SchemaID, v.Version, v.Subject, err)
		}
		kn.ids[s.ID], kn.guids[s.GUID] = true, s.ID
	}
	r.forgetIDs(topics)
	r.subjects[subject] = subjectState{rows: rows, enforced: enforced}
	next := make(map[string]plan, len(*r.plans.Load()))
	for t, p := range *r.plans.Load() {
		next[t] = p
	}
	for _, topic := range topics {
		p := r.planFor(topic, subject, enforced)
		p.known = kn
		p.shadows = shadows
		next[topic] = p
	}
	r.plans.Store(&next)
	r.log.Info("schema plan loaded", "subject", subject, "enforced_versions", numbers(enforced),
		"shadow_versions", numbers(shadows), "topics", topics)
	if r.opts.OnShadow != nil {
		r.opts.OnShadow(subject, numbers(shadows))
	}
	if r.enforced != nil {
		newest := 0
		if len(enforced) > 0 {
			newest = enforced[0].Version
		}
		r.enforced.WithLabelValues(subject).Set(float64(newest))
	}
	return nil
}

// numbers returns the version numbers of vs.
func numbers(vs []*schema.Version) []int {
	out := make([]int, len(vs))
	for i, v := range vs {
		out[i] = v.Version
	}
	return out
}

// Wire implements schema.IDResolver.
func (r *Resolver) Wire(topic string) bool { return r.opts.Wire[topic] }

// ResolveID implements schema.IDResolver. Answers are cached until the
// subject changes, so only the first record naming an id costs a registry
// lookup; an id the registry does not have is remembered as such (see
// ResolverOptions.NegativeTTL).
func (r *Resolver) ResolveID(ctx context.Context, topic string, id int) (*schema.Version, error) {
	key := idKey{topic, id}
	r.idMu.RLock()
	a, ok := r.ids[key]
	gen := r.idGen
	r.idMu.RUnlock()
	if ok {
		count(r.hits)
	} else {
		if r.unknownIDs.has(id) {
			count(r.unknowns)
			return nil, r.notRegistered(topic, "schema id "+strconv.Itoa(id))
		}
		if !r.knows(topic, func(k *known) bool { return k.ids[id] }) && !r.lookups.Allow() {
			count(r.throttled)
			return nil, r.notAVersion(topic, "schema id "+strconv.Itoa(id))
		}
		count(r.misses)
		var err error
		if a, err = r.lookupID(ctx, topic, id); err != nil {
			return nil, err
		}
		if a.unknown {
			r.unknownIDs.add(id, gen)
			return nil, a.err
		}
		r.idMu.Lock()
		if len(r.ids) < maxCachedIDs && r.idGen == gen {
			r.ids[key] = a
		}
		r.idMu.Unlock()
	}
	if a.err != nil {
		return nil, a.err
	}
	return a.version, nil
}

// ResolveGUID implements schema.IDResolver: the GUID is looked up once
// (one indexed read), then the schema id it names resolves as in
// ResolveID. A GUID the registry does not have is remembered as such.
func (r *Resolver) ResolveGUID(ctx context.Context, topic, guid string) (*schema.Version, error) {
	guid = strings.ToLower(guid)
	r.idMu.RLock()
	id, ok := r.guids[guid]
	gen := r.idGen
	r.idMu.RUnlock()
	if !ok {
		var kid int
		if r.knows(topic, func(k *known) bool { kid, ok = k.guids[guid]; return ok }) {
			return r.ResolveID(ctx, topic, kid)
		}
		if r.unknownGUIDs.has(guid) {
			count(r.unknowns)
			return nil, r.notRegistered(topic, "schema GUID "+guid)
		}
		if !r.lookups.Allow() {
			count(r.throttled)
			return nil, r.notAVersion(topic, "schema GUID "+guid)
		}
		count(r.misses)
		lctx, cancel := context.WithTimeout(ctx, r.opts.LookupTimeout)
		s, err := r.opts.Registry.SchemaByGUID(lctx, guid)
		cancel()
		switch {
		case errors.Is(err, ErrSchemaNotFound):
			r.unknownGUIDs.add(guid, gen)
			return nil, r.notRegistered(topic, "schema GUID "+guid)
		case err != nil:
			return nil, fmt.Errorf("looking up schema GUID %s: %w", guid, err)
		}
		id = s.ID
		r.idMu.Lock()
		if len(r.guids) < maxCachedIDs {
			r.guids[guid] = id // a GUID names one schema for good
		}
		r.idMu.Unlock()
	}
	return r.ResolveID(ctx, topic, id)
}

func (r *Resolver) notRegistered(topic, what string) *schema.NotFoundError {
	return &schema.NotFoundError{Topic: topic, Subject: r.opts.Bindings[topic], Detail: what + " is not registered"}
}

func (r *Resolver) notAVersion(topic, what string) *schema.NotFoundError {
	subject := r.opts.Bindings[topic]
	return &schema.NotFoundError{Topic: topic, Subject: subject, Detail: fmt.Sprintf(
		"%s is not a version of subject %s as last loaded (registry lookups of unknown ids are over their cap of %d a second)",
		what, subject, r.opts.UnknownLookups)}
}

// knows reports whether topic's subject, as last loaded, has a version
// that in accepts.
func (r *Resolver) knows(topic string, in func(*known) bool) bool {
	p, ok := (*r.plans.Load())[topic]
	return ok && p.known != nil && in(p.known)
}

// DefaultUnknownLookups is the default ResolverOptions.UnknownLookups.
const DefaultUnknownLookups = 100

func count(c prometheus.Counter) {
	if c != nil {
		c.Inc()
	}
}

// DefaultLookupTimeout is the default ResolverOptions.LookupTimeout.
const DefaultLookupTimeout = 10 * time.Second

// DefaultNegativeTTL is the default ResolverOptions.NegativeTTL.
const DefaultNegativeTTL = time.Minute

func (r *Resolver) lookupID(ctx context.Context, topic string, id int) (idAnswer, error) {
	subject, bound := r.opts.Bindings[topic]
	if !bound {
		return idAnswer{err: &schema.NotFoundError{Topic: topic}}, nil
	}
	notFound := func(format string, args ...any) (idAnswer, error) {
		return idAnswer{err: &schema.NotFoundError{Topic: topic, Subject: subject, Detail: fmt.Sprintf(format, args...)}}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.LookupTimeout)
	defer cancel()
	rows, err := r.opts.Registry.VersionsByID(ctx, id, true)
	switch {
	case errors.Is(err, ErrSchemaNotFound):
		return idAnswer{unknown: true, err: r.notRegistered(topic, "schema id "+strconv.Itoa(id))}, nil
	case err != nil:
		return idAnswer{}, fmt.Errorf("looking up schema id %d: %w", id, err)
	}
	i := slices.IndexFunc(rows, func(v Version) bool { return v.Subject == subject && !v.Deleted })
	if i < 0 {
		if slices.ContainsFunc(rows, func(v Version) bool { return v.Subject == subject }) {
			return notFound("schema id %d is a deleted version of subject %s (bound to topic %s)", id, subject, topic)
		}
		return notFound("schema id %d is not a version of subject %s (bound to topic %s)", id, subject, topic)
	}
	v := rows[i]
	if v.State == StateDeprecated && r.opts.RejectDeprecatedIDs[topic] {
		return notFound("schema id %d is version %d of subject %s, which is deprecated", id, v.Version, subject)
	}
	r.mu.Lock()
	sv, err := r.compile(ctx, v)
	r.mu.Unlock()
	if err != nil {
		return idAnswer{}, err
	}
	return idAnswer{version: sv}, nil
}

// forgetIDs drops the cached ResolveID answers of topics, and every id and
// GUID remembered as unknown: the change may have registered them.
func (r *Resolver) forgetIDs(topics []string) {
	r.idMu.Lock()
	defer r.idMu.Unlock()
	r.idGen++
	for k := range r.ids {
		if slices.Contains(topics, k.topic) {
			delete(r.ids, k)
		}
	}
	r.unknownIDs.clear(r.idGen)
	r.unknownGUIDs.clear(r.idGen)
}

// planFor builds topic's plan from subject's enforced versions, newest
// first.
func (r *Resolver) planFor(topic, subject string, enforced []*schema.Version) plan {
	if len(enforced) == 0 {
		return plan{err: &schema.NotFoundError{
			Topic: topic, Subject: subject,
			Detail: "subject " + subject + " (bound to topic " + topic + ") has no enforced schema version",
		}}
	}
	primary := *enforced[0] // a copy: Fallback is this topic's
	primary.Fallback = nil
	if !r.opts.NoFallback[topic] && len(enforced) > 1 {
		primary.Fallback = slices.Clone(enforced[1:])
	}
	return plan{version: &primary}
}

// compile returns v compiled, from the cache when it was before.
func (r *Resolver) compile(ctx context.Context, v Version) (*schema.Version, error) {
	key := compiledKey{v.Subject, v.Version, v.SchemaID}
	if sv, ok := r.compiled[key]; ok {
		return sv, nil
	}
	s, err := r.opts.Registry.SchemaByID(ctx, v.SchemaID)
	if err != nil {
		return nil, fmt.Errorf("loading schema id %d (version %d of %s): %w", v.SchemaID, v.Version, v.Subject, err)
	}
	rs, err := ParseRuleSet(s.RuleSet)
	if err != nil {
		return nil, fmt.Errorf("loading the rules of schema id %d: %w", v.SchemaID, err)
	}
	sv, err := r.opts.Compile(CompileRequest{Subject: v.Subject, Version: v.Version, Format: s.Format, Text: s.Text, Rules: rs.Specs()})
	if err != nil {
		return nil, fmt.Errorf("compiling version %d of %s: %w", v.Version, v.Subject, err)
	}
	r.compiled[key] = sv
	return sv, nil
}

// Run re-reads every bound subject each Refresh until ctx ends. A failed
// reload is logged and retried at the next tick; the last plan stays in
// force meanwhile.
func (r *Resolver) Run(ctx context.Context) error {
	t := time.NewTicker(r.opts.Refresh)
	defer t.Stop()
	failing := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for _, subject := range r.boundSubjects() {
			err := r.Reload(ctx, subject)
			switch {
			case err != nil && ctx.Err() != nil:
				return nil
			case err != nil && !failing[subject]:
				r.log.Warn("reloading schema subject failed; the last loaded versions stay in force", "subject", subject, "err", err)
			case err == nil && failing[subject]:
				r.log.Info("reloading schema subject works again", "subject", subject)
			}
			failing[subject] = err != nil
		}
	}
}

// boundSubjects returns the distinct subjects of the bindings, sorted.
func (r *Resolver) boundSubjects() []string {
	var out []string
	for _, s := range r.opts.Bindings {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// topicsOf returns the topics bound to subject, sorted.
func (r *Resolver) topicsOf(subject string) []string {
	var out []string
	for t, s := range r.opts.Bindings {
		if s == subject {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}
