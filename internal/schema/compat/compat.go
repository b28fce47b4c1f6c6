package compat

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/compat/avrocompat"
	"github.com/dataquarantine/dataquarantine/internal/schema/compat/jsoncompat"
	"github.com/dataquarantine/dataquarantine/internal/schema/compat/protocompat"
	"github.com/dataquarantine/dataquarantine/internal/schema/protobuf"
)

// Mode is a compatibility mode, as Confluent Schema Registry names them.
type Mode string

// Compatibility modes.
const (
	// Backward: the new schema reads data written with the latest one.
	// Consumers upgrade first. The registry's default.
	Backward Mode = "BACKWARD"
	// BackwardTransitive: the new schema reads data written with every
	// earlier one.
	BackwardTransitive Mode = "BACKWARD_TRANSITIVE"
	// Forward: the latest schema reads data written with the new one.
	// Producers upgrade first.
	Forward Mode = "FORWARD"
	// ForwardTransitive: every earlier schema reads data written with the
	// new one.
	ForwardTransitive Mode = "FORWARD_TRANSITIVE"
	// Full: Backward and Forward.
	Full Mode = "FULL"
	// FullTransitive: BackwardTransitive and ForwardTransitive.
	FullTransitive Mode = "FULL_TRANSITIVE"
	// None: no check.
	None Mode = "NONE"
)

// Modes lists every mode.
var Modes = []Mode{Backward, BackwardTransitive, Forward, ForwardTransitive, Full, FullTransitive, None}

// ErrUnknownMode is returned for a mode that is none of Modes.
var ErrUnknownMode = errors.New("unknown compatibility mode")

// ErrUnknownFormat is returned for a schema format this package cannot check.
var ErrUnknownFormat = errors.New("unknown schema format")

// ParseMode reads a mode name, in any case ("backward" is BACKWARD).
func ParseMode(s string) (Mode, error) {
	m := Mode(strings.ToUpper(strings.TrimSpace(s)))
	for _, known := range Modes {
		if m == known {
			return m, nil
		}
	}
	return "", fmt.Errorf("%w %q (want one of %s)", ErrUnknownMode, s, modeList())
}

func modeList() string {
	names := make([]string, len(Modes))
	for i, m := range Modes {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}

// directions says which readings a mode checks, and against how many of
// the existing versions.
func (m Mode) directions() (backward, forward, transitive bool, err error) {
	switch m {
	case Backward:
		return true, false, false, nil
	case BackwardTransitive:
		return true, false, true, nil
	case Forward:
		return false, true, false, nil
	case ForwardTransitive:
		return false, true, true, nil
	case Full:
		return true, true, false, nil
	case FullTransitive:
		return true, true, true, nil
	case None:
		return false, false, false, nil
	}
	return false, false, false, fmt.Errorf("%w %q (want one of %s)", ErrUnknownMode, string(m), modeList())
}

// Checks reports whether mode m checks readings in direction d: BACKWARD
// (and _TRANSITIVE) the backward one, FORWARD the forward one, FULL both,
// NONE and an unknown mode neither.
func (m Mode) Checks(d Direction) bool {
	backward, forward, _, err := m.directions()
	return err == nil && ((d == DirBackward && backward) || (d == DirForward && forward))
}

// Direction is which way a change was found.
type Direction string

const (
	// DirBackward is the new schema reading data written with an existing one.
	DirBackward Direction = "BACKWARD"
	// DirForward is an existing schema reading data written with the new one.
	DirForward Direction = "FORWARD"
)

// Change is one difference between the new schema and an existing one.
type Change struct {
	// Kind names the change. For JSON Schema it is Confluent's difference
	// name ("MIN_LENGTH_INCREASED"); for Avro a name after Java's
	// SchemaCompatibility ("READER_FIELD_MISSING_DEFAULT_VALUE").
	Kind string
	// Path locates it: a JSON pointer in Confluent's form
	// ("#/properties/age") for JSON Schema, a field path
	// ("/fields/address/fields/zip") for Avro.
	Path string
	// Message says what changed and why it breaks, or does not break, the
	// reader, in the terms of the writer's and the reader's schemas.
	Message string
	// Summary says the change in its user's terms, to show first: what
	// changed from the old version to the new one, where in the data, and
	// what that does to the reader ("enum value 'scroll' added at
	// /event_type: readers on the old version reject it"). Kind is the
	// name to show second.
	Summary string
	// Field is where the change bites in the data: a JSON pointer of
	// property (or Avro field) names, "*" standing for any array item or
	// other member ("/tags/*"); "" is the whole document.
	Field string
	// SchemaPath locates the change in the schema as its author wrote it:
	// for JSON Schema, Path without the allOf or anyOf that the checker's
	// normal form adds ("#/properties/event_type/enum" where Path is
	// "#/properties/event_type/allOf/0/enum"); Path itself stays as
	// Confluent reports it. For Avro and Protobuf it is Path.
	SchemaPath string
	// Breaking reports whether the change makes the reading in Direction
	// fail.
	Breaking bool
	// Direction is the reading the change was found in.
	Direction Direction
	// Version is the index in existing of the version compared with.
	Version int
}

// Result is the outcome of Check.
type Result struct {
	// Compatible is true when no change is breaking.
	Compatible bool
	// Changes lists every change found, breaking or not, newest existing
	// version first.
	Changes []Change
}

// Breaking returns the breaking changes.
func (r Result) Breaking() []Change {
	var out []Change
	for _, c := range r.Changes {
		if c.Breaking {
			out = append(out, c)
		}
	}
	return out
}

// Check checks candidate, a new schema, against existing, the versions
// already registered (oldest first), under mode. A non-transitive mode
// compares with the latest version only; NONE with none. JSON Schema
// readings follow Confluent's rules, where "reads" means every document
// valid under the writer's schema is valid under the reader's; Avro
// readings follow the specification's schema resolution; Protobuf readings
// are protocompat's basic wire-level check.
//
// format is schema.FormatJSON, "AVRO" or "PROTOBUF" ("" is AVRO, as in Confluent's
// API). An error means a schema could not be parsed, or an unknown mode or
// format; an incompatibility is a Result, not an error.
func Check(format schema.Format, mode Mode, candidate []byte, existing [][]byte) (Result, error) {
	backward, forward, transitive, err := mode.directions()
	if err != nil {
		return Result{}, err
	}
	f, err := formatFor(format)
	if err != nil {
		return Result{}, err
	}
	cand, err := f.parse(candidate)
	if err != nil {
		return Result{}, fmt.Errorf("new schema: %w", err)
	}
	res := Result{Compatible: true}
	if !backward && !forward {
		return res, nil
	}
	first := len(existing) - 1
	if transitive {
		first = 0
	}
	for i := len(existing) - 1; i >= first && i >= 0; i-- {
		old, err := f.parse(existing[i])
		if err != nil {
			return Result{}, fmt.Errorf("%s: %w", existingName(i, len(existing)), err)
		}
		name := existingName(i, len(existing))
		v := versions{old: existingVersionName(i, len(existing)), new: "the new version"}
		if backward {
			res.add(f.changes(old, cand, name, "the new schema", v), DirBackward, i)
		}
		if forward {
			v.newWrites = true
			res.add(f.changes(cand, old, "the new schema", name, v), DirForward, i)
		}
	}
	return res, nil
}

// Validate parses src as a schema of format, as Check would, and returns
// why it cannot be checked, if it cannot.
func Validate(format schema.Format, src []byte) error {
	f, err := formatFor(format)
	if err != nil {
		return err
	}
	_, err = f.parse(src)
	return err
}

func (r *Result) add(changes []Change, dir Direction, version int) {
	for _, c := range changes {
		c.Direction, c.Version = dir, version
		if c.Breaking {
			r.Compatible = false
		}
		r.Changes = append(r.Changes, c)
	}
}

// existingName names existing version i in messages.
func existingName(i, n int) string {
	if n == 1 {
		return "the old schema"
	}
	return "old schema " + strconv.Itoa(i+1) + " of " + strconv.Itoa(n)
}

// existingVersionName names existing version i in summaries.
func existingVersionName(i, n int) string {
	if n == 1 {
		return "the old version"
	}
	return "old version " + strconv.Itoa(i+1) + " of " + strconv.Itoa(n)
}

// versions names the two versions a reading is between, for summaries,
// and says which one writes.
type versions struct {
	old, new  string
	newWrites bool
}

// checker is one schema format.
type checker interface {
	parse(src []byte) (any, error)
	// changes lists what lies between data written with writer and its
	// reading with reader, explained with the two names given and
	// summarised between the versions v.
	changes(writer, reader any, writerName, readerName string, v versions) []Change
}

func formatFor(f schema.Format) (checker, error) {
	switch strings.ToUpper(string(f)) {
	case string(schema.FormatJSON):
		return jsonChecker{}, nil
	case string(schema.FormatAvro), "":
		return avroChecker{}, nil
	case string(schema.FormatProtobuf):
		return protoChecker{}, nil
	}
	return nil, fmt.Errorf("%w %q (want JSON, AVRO or PROTOBUF)", ErrUnknownFormat, string(f))
}

type jsonChecker struct{}

func (jsonChecker) parse(src []byte) (any, error) { return jsoncompat.Parse(src) }

func (jsonChecker) changes(writer, reader any, wn, rn string, v versions) []Change {
	diffs := jsoncompat.Compare(writer.(*jsoncompat.Schema), reader.(*jsoncompat.Schema), jsoncompat.Strict)
	out := make([]Change, len(diffs))
	for i, d := range diffs {
		out[i] = Change{
			Kind: d.Type, Path: d.Path, Message: d.Explain(wn, rn), Breaking: !d.Compatible,
			Summary: d.Summary(v.newWrites, v.old, v.new), Field: d.Field, SchemaPath: d.SchemaPath,
		}
		// A mismatch of subschemas is explained by the changes inside
		// them: the place of the first that breaks is the one to show.
		if len(d.Because) > 0 {
			at := d.Because[0]
			for _, b := range d.Because {
				if !b.Compatible {
					at = b
					break
				}
			}
			out[i].Field, out[i].SchemaPath = at.Field, at.SchemaPath
		}
	}
	return out
}

type avroChecker struct{}

func (avroChecker) parse(src []byte) (any, error) { return avrocompat.Parse(src) }

func (avroChecker) changes(writer, reader any, wn, rn string, v versions) []Change {
	findings := avrocompat.Check(writer.(*avrocompat.Schema), reader.(*avrocompat.Schema))
	out := make([]Change, len(findings))
	for i, f := range findings {
		out[i] = Change{
			Kind: f.Kind, Path: f.Path, Message: f.Explain(wn, rn), Breaking: !f.Compatible,
			Summary: f.Summary(v.newWrites, v.old, v.new), Field: f.Field(), SchemaPath: f.Path,
		}
	}
	return out
}

type protoChecker struct{}

// parse compiles the .proto as the registry and the gateway do, so a
// schema whose protovalidate constraints do not compile is refused here.
func (protoChecker) parse(src []byte) (any, error) {
	v, err := protobuf.Parse(src, protobuf.Options{})
	if err != nil {
		return nil, err
	}
	return v.File(), nil
}

func (protoChecker) changes(writer, reader any, wn, rn string, v versions) []Change {
	findings := protocompat.Check(writer.(protoreflect.FileDescriptor), reader.(protoreflect.FileDescriptor))
	out := make([]Change, len(findings))
	// protocompat's explanations name the versions themselves.
	w, r := v.old, v.new
	if v.newWrites {
		w, r = v.new, v.old
	}
	for i, f := range findings {
		out[i] = Change{
			Kind: f.Kind, Path: f.Path, Message: f.Explain(wn, rn), Breaking: !f.Compatible,
			Summary: strings.ToLower(strings.ReplaceAll(f.Kind, "_", " ")) + " at " + f.Path + ": " + f.Explain(w, r),
			Field:   f.Path, SchemaPath: f.Path,
		}
	}
	return out
}
