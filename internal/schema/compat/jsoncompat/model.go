package jsoncompat

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// kind is the shape a schema was loaded into. The diff's rules are written
// per kind, the way Confluent's are written per everit Schema class, so two
// schemas of different kinds are a TYPE_CHANGED unless a rule says otherwise.
type kind uint8

const (
	kindEmpty       kind = iota // {} or true: accepts anything
	kindFalse                   // false: accepts nothing
	kindBoolean                 // "type": "boolean"
	kindNull                    // "type": "null"
	kindString                  // "type": "string" or string keywords
	kindNumber                  // "type": "number" / "integer" or number keywords
	kindObject                  // "type": "object" or object keywords
	kindArray                   // "type": "array" or array keywords
	kindEnum                    // "enum"
	kindConst                   // "const"
	kindCombined                // allOf / anyOf / oneOf, type arrays, several kinds at once
	kindNot                     // "not"
	kindConditional             // if / then / else: loaded, never compared (as Confluent)
	kindRef                     // "$ref", followed before comparing
)

var kindNames = [...]string{"any", "nothing", "boolean", "null", "string", "number", "object", "array", "enum", "const", "combined", "not", "conditional", "reference"}

func (k kind) String() string { return kindNames[k] }

// criterion is how a combined schema combines its subschemas.
type criterion uint8

const (
	allOf criterion = iota
	anyOf
	oneOf
)

func (c criterion) String() string { return [...]string{"allOf", "anyOf", "oneOf"}[c] }

// node is one loaded schema. It holds the union of every kind's fields, as a
// flat struct is simpler to load, merge and fingerprint than one type per
// kind; only the fields of its kind are set.
type node struct {
	kind kind

	// Annotations, compared for the informational *_CHANGED differences.
	id, title, description *string
	def                    *string // canonical JSON of "default"
	connectType            string  // "connect.type", Kafka Connect's hint

	// requires* say whether the type was stated ("type": "string") rather
	// than implied by a keyword ("maxLength": 3). The diff ignores them, but
	// they tell two subschemas of a combined schema apart, as they do for
	// Confluent's set of subschemas.
	requires bool

	// string
	minLength, maxLength *big.Rat
	pattern              *string

	// number
	maximum, minimum, exclusiveMaximum, exclusiveMinimum, multipleOf *big.Rat
	integer                                                          bool

	// object
	properties       map[string]*node
	required         map[string]bool
	closed           bool // "additionalProperties": false
	additional       *node
	patternProps     []patternProp
	propertyDeps     map[string][]string
	schemaDeps       map[string]*node
	minProps         *big.Rat
	maxProps         *big.Rat
	unevaluatedProps *node
	propertyNames    *node

	// array
	allItems         *node
	items            []*node // tuple form: "items": [...] or "prefixItems"
	closedItems      bool    // "additionalItems": false (2020-12: "items": false)
	additionalItems  *node
	minItems         *big.Rat
	maxItems         *big.Rat
	uniqueItems      bool
	contains         *node
	minContains      *big.Rat
	maxContains      *big.Rat
	unevaluatedItems *node

	// enum (a set of canonical JSON values) and const
	enum       []string
	constValue string

	// combined
	criterion criterion
	subs      []*node
	synthetic bool // made by the loader, not written as allOf
	// typeArray: the loader made this anyOf of a type array ("type":
	// ["string", "null"]). Unlike synthetic it is not fingerprinted: it
	// only names the schema in the user's terms (Difference.SchemaPath).
	typeArray bool

	// not, conditional
	not, ifS, thenS, elseS *node

	// reference
	ref    string
	target *node
}

type patternProp struct {
	pattern string
	re      *regexp.Regexp // nil when Go's RE2 cannot compile it: then it matches nothing
	schema  *node
}

// deref follows references to the schema they name. A loop of references
// that never reaches a schema accepts anything, as it constrains nothing.
func deref(n *node) *node {
	for range 64 {
		if n == nil || n.kind != kindRef {
			return n
		}
		n = n.target
	}
	return &node{kind: kindEmpty}
}

// canonicalJSON renders a decoded JSON value with sorted keys and numbers in
// lowest terms, so that equal values (1 and 1.0 included) compare equal.
func canonicalJSON(v any) string {
	var b strings.Builder
	writeCanonical(&b, v)
	return b.String()
}

func writeCanonical(b *strings.Builder, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case json.Number:
		if r, ok := new(big.Rat).SetString(string(v)); ok {
			b.WriteString(r.RatString())
		} else {
			b.WriteString(string(v))
		}
	case string:
		b.WriteString(strconv.Quote(v))
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonical(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Quote(k))
			b.WriteByte(':')
			writeCanonical(b, v[k])
		}
		b.WriteByte('}')
	}
}

// fingerprint identifies a schema's structure: equal fingerprints mean the
// diff would find nothing between the two schemas. It serves Confluent's
// set of subschemas (duplicates in a oneOf collapse) and lets the diff skip
// identical subtrees, which keeps comparing a schema with itself linear even
// when references make it a graph.
type fingerprint [sha256.Size]byte

// fingerprinter hashes nodes. A reference hashes the schema it names, so
// two documents whose definitions differ do not collide; a reference back to
// a schema being hashed hashes its pointer instead, and the result is then
// not cached, since it depends on the path that reached it.
type fingerprinter struct {
	memo    map[*node]fingerprint
	onStack map[*node]bool
	unique  map[*node]uint64
	work    int
}

// maxFingerprintWork bounds hashing of graphs whose expansion is huge; past
// it, fingerprints are unique per node, which only costs the shortcut.
const maxFingerprintWork = 200_000

func newFingerprinter() *fingerprinter {
	return &fingerprinter{memo: map[*node]fingerprint{}, onStack: map[*node]bool{}, unique: map[*node]uint64{}}
}

func (f *fingerprinter) of(n *node) fingerprint {
	fp, _ := f.hash(n)
	return fp
}

// hash returns n's fingerprint and whether it depended on the stack.
func (f *fingerprinter) hash(n *node) (fingerprint, bool) {
	if n == nil {
		return fingerprint{}, false
	}
	if fp, ok := f.memo[n]; ok {
		return fp, false
	}
	f.work++
	if f.work > maxFingerprintWork {
		return f.uniqueFingerprint(n), true
	}
	h := sha256.New()
	tainted := false
	str := func(s string) {
		var l [8]byte
		binary.LittleEndian.PutUint64(l[:], uint64(len(s)))
		h.Write(l[:])
		h.Write([]byte(s))
	}
	opt := func(s *string) {
		if s == nil {
			str("\x00")
			return
		}
		str("\x01" + *s)
	}
	rat := func(r *big.Rat) {
		if r == nil {
			str("\x00")
			return
		}
		str("\x01" + r.RatString())
	}
	child := func(c *node) {
		fp, t := f.hash(c)
		tainted = tainted || t
		h.Write(fp[:])
	}
	flag := func(b bool) {
		if b {
			str("t")
		} else {
			str("f")
		}
	}

	str(strconv.Itoa(int(n.kind)))
	if n.kind == kindRef {
		t := deref(n)
		if f.onStack[t] {
			str("cycle:" + n.ref)
			return sumOf(h), true
		}
		f.onStack[t] = true
		child(t)
		delete(f.onStack, t)
		opt(n.id)
		opt(n.title)
		opt(n.description)
		opt(n.def)
		fp := sumOf(h)
		return fp, tainted
	}
	f.onStack[n] = true
	defer delete(f.onStack, n)

	opt(n.id)
	opt(n.title)
	opt(n.description)
	opt(n.def)
	str(n.connectType)
	flag(n.requires)
	rat(n.minLength)
	rat(n.maxLength)
	opt(n.pattern)
	rat(n.maximum)
	rat(n.minimum)
	rat(n.exclusiveMaximum)
	rat(n.exclusiveMinimum)
	rat(n.multipleOf)
	flag(n.integer)

	for _, k := range sortedKeys(n.properties) {
		str("p:" + k)
		child(n.properties[k])
	}
	for _, k := range sortedKeys(n.required) {
		str("r:" + k)
	}
	flag(n.closed)
	child(n.additional)
	for _, pp := range n.patternProps {
		str("pp:" + pp.pattern)
		child(pp.schema)
	}
	for _, k := range sortedKeys(n.propertyDeps) {
		deps := slices.Clone(n.propertyDeps[k])
		slices.Sort(deps)
		str("pd:" + k + "\x00" + strings.Join(deps, "\x00"))
	}
	for _, k := range sortedKeys(n.schemaDeps) {
		str("sd:" + k)
		child(n.schemaDeps[k])
	}
	rat(n.minProps)
	rat(n.maxProps)
	child(n.unevaluatedProps)
	child(n.propertyNames)

	child(n.allItems)
	str("items:" + strconv.Itoa(len(n.items)))
	for _, it := range n.items {
		child(it)
	}
	flag(n.closedItems)
	child(n.additionalItems)
	rat(n.minItems)
	rat(n.maxItems)
	flag(n.uniqueItems)
	child(n.contains)
	rat(n.minContains)
	rat(n.maxContains)
	child(n.unevaluatedItems)

	enum := slices.Clone(n.enum)
	slices.Sort(enum)
	str("enum:" + strconv.Itoa(len(enum)))
	for _, e := range enum {
		str(e)
	}
	str(n.constValue)

	str(n.criterion.String())
	flag(n.synthetic)
	str("subs:" + strconv.Itoa(len(n.subs)))
	for _, s := range n.subs {
		child(s)
	}
	child(n.not)
	child(n.ifS)
	child(n.thenS)
	child(n.elseS)

	fp := sumOf(h)
	if !tainted {
		f.memo[n] = fp
	}
	return fp, tainted
}

type hasher interface{ Sum([]byte) []byte }

func sumOf(h hasher) (fp fingerprint) {
	copy(fp[:], h.Sum(nil))
	return fp
}

// uniqueFingerprint is a fingerprint no other node shares (no SHA-256 sum
// starts with 0xff followed by a small counter and zeros, in practice).
func (f *fingerprinter) uniqueFingerprint(n *node) (fp fingerprint) {
	id, ok := f.unique[n]
	if !ok {
		id = uint64(len(f.unique)) + 1
		f.unique[n] = id
	}
	fp[0] = 0xff
	binary.LittleEndian.PutUint64(fp[1:], id)
	return fp
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
