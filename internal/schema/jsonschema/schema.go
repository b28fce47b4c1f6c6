package jsonschema

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	jsv "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// Schema is a compiled JSON Schema document. It is immutable and safe for
// concurrent use.
type Schema struct {
	name string
	sch  *jsv.Schema
	fast *fastNode // nil: the schema has no fast path (fastpath.go)
}

// Name returns the name the schema was compiled under.
func (s *Schema) Name() string { return s.name }

// assertedFormats are the values of "format" that Compile asserts: the
// formats built into the validator library, some replaced by stricter
// checks (formats.go), and "regex", which accepts Go's RE2 syntax, the
// dialect "pattern" runs in. Any other format, such as
// idn-email and idn-hostname, is an annotation and accepts every value, as
// the specification requires of formats an implementation does not know.
var assertedFormats = []string{
	"date", "date-time", "duration", "email", "hostname", "ipv4", "ipv6", "iri", "iri-reference",
	"json-pointer", "period", "regex", "relative-json-pointer", "semver", "time", "uri",
	"uri-reference", "uri-template", "uuid",
}

// AssertedFormats returns the values of "format" that Compile asserts, sorted.
func AssertedFormats() []string { return slices.Clone(assertedFormats) }

// schemaLimits decode schema documents: as strict as payloads (a duplicate
// key in a schema is almost always a mistake that silently drops a
// constraint), but deeper, since schemas nest more than events.
var schemaLimits = Limits{MaxDepth: 512}

// Compile compiles one JSON Schema document. The draft comes from "$schema"
// (draft 4, 6, 7, 2019-09, 2020-12); without it the document is read as
// 2020-12. Format assertion is on for every draft, so "format": "date-time"
// rejects a string that is not an RFC 3339 date-time. References resolve
// only within the document (and to the drafts' meta-schemas): a $ref to any
// other http(s) or file URL fails with ErrRemoteRef. Any other problem, such
// as a keyword with an invalid value or a pattern that does not compile,
// fails with ErrInvalidSchema and names the keyword's location.
func Compile(name string, src []byte) (*Schema, error) {
	return compile(name, src, jsv.Draft2020, refuseLoader{})
}

// compile is Compile with the draft assumed when "$schema" is absent and the
// loader for documents outside src. Tests use it to run the official test
// suite, whose documents are grouped by draft and refer to remote documents
// served from disk.
func compile(name string, src []byte, defaultDraft *jsv.Draft, loader jsv.URLLoader) (*Schema, error) {
	s, err := compileUnchecked(name, src, defaultDraft, loader)
	if err != nil {
		return nil, err
	}
	if err := checkBounded(name, s.sch); err != nil {
		return nil, err
	}
	return s, nil
}

// compileUnchecked is compile without the checks that validation ends in
// bounded time (cycle.go): the library's compilation alone.
func compileUnchecked(name string, src []byte, defaultDraft *jsv.Draft, loader jsv.URLLoader) (*Schema, error) {
	doc, bad, ok := Decode(src, schemaLimits)
	if !ok {
		return nil, fmt.Errorf("compiling schema %q: %w: not valid JSON: %s", name, ErrInvalidSchema, bad.Message)
	}
	loc := resourceURL(name)
	c := jsv.NewCompiler()
	c.DefaultDraft(defaultDraft)
	c.AssertFormat()
	for _, f := range formatOverrides {
		c.RegisterFormat(f)
	}
	c.UseLoader(loader)
	if err := c.AddResource(loc, doc); err != nil {
		return nil, fmt.Errorf("compiling schema %q: %w", name, err)
	}
	sch, err := c.Compile(loc)
	if err != nil {
		return nil, compileError(name, err)
	}
	return &Schema{name: name, sch: sch, fast: newFastPath(sch)}, nil
}

// resourceURL is the base URL of a document compiled under name, used to
// resolve its relative references when it has no absolute "$id". It must be
// absolute, or the library would resolve it against the working directory.
func resourceURL(name string) string {
	if name == "" {
		name = "schema"
	}
	return resourcePrefix + url.PathEscape(name)
}

// resourcePrefix starts the base URL of every document Compile compiles.
const resourcePrefix = "urn:dataquarantine:schema:"

func compileError(name string, err error) error {
	var (
		load *jsv.LoadURLError
		meta *jsv.SchemaValidationError
	)
	switch {
	case errors.As(err, &load) && errors.Is(load.Err, ErrRemoteRef):
		return fmt.Errorf("compiling schema %q: %w: %s", name, ErrRemoteRef, load.URL)
	case errors.As(err, &meta):
		var verr *jsv.ValidationError
		if errors.As(meta.Err, &verr) {
			return fmt.Errorf("compiling schema %q: %w: %s", name, ErrInvalidSchema, describeMetaErrors(verr))
		}
	}
	return fmt.Errorf("compiling schema %q: %w: %s", name, ErrInvalidSchema, err.Error())
}

// describeMetaErrors lists where a document breaks its meta-schema, as
// "at /properties/id/type: value ... is not one of ...". The instance of
// that validation is the schema document, so each Field is the location of
// the offending keyword in it.
func describeMetaErrors(verr *jsv.ValidationError) string {
	vs := newMapper(nil).violations(verr, nil)
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteString("; ")
		}
		if v.Field == "" {
			b.WriteString("at the root: ")
		} else {
			b.WriteString("at " + v.Field + ": ")
		}
		b.WriteString(v.Message)
	}
	return b.String()
}

// refuseLoader is production's loader: every document outside the schema
// being compiled is refused. The meta-schemas of the supported drafts are
// built into the library and never reach a loader.
type refuseLoader struct{}

func (refuseLoader) Load(u string) (any, error) {
	return nil, fmt.Errorf("%w: %s (schemas must be self-contained: no network or file access)", ErrRemoteRef, u)
}

// Validate appends one Violation per problem found in v, which must be a
// value in the form Decode returns, and returns the extended slice. Every
// problem is reported, not only the first; the order is deterministic (by
// field, then keyword, then message) and identical violations are reported
// once. See violations.go for how schema errors map to error types.
func (s *Schema) Validate(v any, dst []record.Violation) []record.Violation {
	if s.fast != nil {
		if valid, sure := fastValid(s.fast, v); valid && sure {
			return dst
		}
	}
	err := s.sch.Validate(v)
	if err == nil {
		return dst
	}
	var verr *jsv.ValidationError
	if !errors.As(err, &verr) {
		return append(dst, record.Violation{Type: record.SchemaViolation, Message: err.Error()})
	}
	return newMapper(v).violations(verr, dst)
}

// Check decodes payload and validates it: Decode then Validate. It returns
// the decoded value for the rules layer, or nil with one PARSE_ERROR when
// the payload does not decode.
func (s *Schema) Check(payload []byte, lim Limits, dst []record.Violation) (any, []record.Violation) {
	v, bad, ok := Decode(payload, lim)
	if !ok {
		return nil, append(dst, bad)
	}
	return v, s.Validate(v, dst)
}
