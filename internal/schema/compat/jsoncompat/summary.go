package jsoncompat

import (
	"encoding/json"
	"math/big"
	"strings"
)

// Summary says d in its user's terms: what changed from the old version of
// the schema to the new one, where in the documents, and what that does to
// the reader, e.g. "enum value 'scroll' added at /event_type: readers on
// the old version reject it". Confluent's name for the change (d.Type) is
// not in it: show it beside.
//
// newWrites says which version is the writer: false when checking BACKWARD
// (the new version reads what the old one wrote), true for FORWARD (the old
// version reads what the new one writes). oldName and newName name the
// versions ("the old version", "v2").
func (d Difference) Summary(newWrites bool, oldName, newName string) string {
	if len(d.Because) > 0 {
		return becauseSummary(d.Because, newWrites, oldName, newName)
	}
	s := summarizer{d: d, readerIsNew: !newWrites, oldName: oldName, newName: newName}
	s.oldVal, s.newVal = d.Old, d.New
	if newWrites {
		s.oldVal, s.newVal = d.New, d.Old
	}
	return s.change() + ": " + s.effect()
}

// becauseSummary says the changes inside the subschemas that no longer
// match: the breaking ones, else all.
func becauseSummary(because []Difference, newWrites bool, oldName, newName string) string {
	var parts []string
	seen := map[string]bool{}
	for _, breaking := range []bool{true, false} {
		for _, b := range because {
			if b.Compatible == breaking {
				continue
			}
			if s := b.Summary(newWrites, oldName, newName); !seen[s] {
				seen[s] = true
				parts = append(parts, s)
			}
		}
		if len(parts) > 0 {
			break
		}
	}
	return strings.Join(parts, "; ")
}

type summarizer struct {
	d Difference
	// readerIsNew: the new version reads (BACKWARD); else the old one does.
	readerIsNew      bool
	oldName, newName string
	// oldVal and newVal are the keyword's values in the old and the new
	// version ("" when it has none).
	oldVal, newVal string
}

func (s *summarizer) reader() string {
	if s.readerIsNew {
		return s.newName
	}
	return s.oldName
}

func (s *summarizer) writer() string {
	if s.readerIsNew {
		return s.oldName
	}
	return s.newName
}

// readerSide picks, for a change Confluent names from the reader's side
// (an _ADDED is something the reader's schema has and the writer's lacks),
// the word for it from the old version to the new one: gained when the
// reader is the new version, lost when it is the old one.
func (s *summarizer) readerSide(gained, lost string) string {
	if s.readerIsNew {
		return gained
	}
	return lost
}

// at is the place in the documents, for a change of a keyword there.
func (s *summarizer) at() string {
	if s.d.Field == "" {
		return " at the top level"
	}
	return " at " + s.d.Field
}

// subject names the property, tuple position or document a change is of.
func (s *summarizer) subject(noun string) string {
	if s.d.Field == "" {
		return "the top-level " + noun
	}
	return noun + " " + s.d.Field
}

// keyword is the keyword the change is of: the last step of its path.
func (s *summarizer) keyword() string {
	p := s.d.SchemaPath
	return p[strings.LastIndexByte(p, '/')+1:]
}

func (s *summarizer) change() string {
	t := s.d.Type
	switch t {
	case idChanged, titleChanged:
		return valueChange(map[string]string{idChanged: "$id", titleChanged: "title"}[t], quotedOrNone(s.oldVal), quotedOrNone(s.newVal), false) + s.at()
	case defaultChanged:
		return valueChange("default", s.oldVal, s.newVal, false) + s.at()
	case descriptionChanged:
		return "description changed" + s.at()
	case schemaAdded:
		return s.readerSide("a schema added", "a schema removed") + s.at()
	case schemaRemoved:
		return s.readerSide("a schema removed", "a schema added") + s.at()
	case typeChanged, typeExtended, typeNarrowed:
		return "type changed from " + s.oldVal + " to " + s.newVal + s.at()
	case patternAdded, patternRemoved, patternChanged:
		return valueChange("pattern", s.oldVal, s.newVal, false) + s.at()
	case requiredAttributeAdded, requiredAttributeWithDefaultAdded:
		return s.subject("property") + s.readerSide(" made required", " no longer required")
	case requiredAttributeRemoved:
		return s.subject("property") + s.readerSide(" no longer required", " made required")
	case propertyWithEmptySchemaAddedToOpen, requiredPropertyAddedToOpen, requiredPropertyWithDefaultAddedToOpen,
		optionalPropertyAddedToOpen, requiredPropertyAddedToUnopen, requiredPropertyWithDefaultAddedToUnopen,
		optionalPropertyAddedToUnopen, propertyAddedIsCovered, propertyAddedNotCovered:
		required := ""
		if strings.HasPrefix(t, "REQUIRED_") {
			required = " (required)"
		}
		return s.subject("property") + s.readerSide(" added"+required, " removed")
	case propertyRemovedFromOpen, propertyWithFalseRemovedFromClosed, propertyRemovedFromClosed,
		propertyRemovedIsCovered, propertyRemovedNotCovered:
		return s.subject("property") + s.readerSide(" removed", " added")
	case itemAddedToOpen, itemWithEmptySchemaAddedToOpen, itemAddedToClosed, itemAddedIsCovered, itemAddedNotCovered:
		return s.subject("tuple position") + s.readerSide(" added", " removed")
	case itemRemovedFromOpen, itemWithFalseRemovedFromClosed, itemRemovedFromClosed, itemRemovedIsCovered, itemRemovedNotCovered:
		return s.subject("tuple position") + s.readerSide(" removed", " added")
	case additionalPropertiesAdded, unevaluatedPropertiesAdded:
		return "other properties" + s.readerSide(" allowed", " forbidden") + s.parentAt()
	case additionalPropertiesRemoved, unevaluatedPropertiesRemoved:
		return "other properties" + s.readerSide(" forbidden", " allowed") + s.parentAt()
	case additionalPropertiesExtended, unevaluatedPropertiesExtended:
		return "the schema of other properties" + s.readerSide(" removed", " added") + s.parentAt()
	case additionalPropertiesNarrowed, unevaluatedPropertiesNarrowed:
		return "the schema of other properties" + s.readerSide(" added", " removed") + s.parentAt()
	case additionalItemsAdded, unevaluatedItemsAdded:
		return "items past the tuple" + s.readerSide(" allowed", " forbidden") + s.parentAt()
	case additionalItemsRemoved, unevaluatedItemsRemoved:
		return "items past the tuple" + s.readerSide(" forbidden", " allowed") + s.parentAt()
	case additionalItemsExtended, unevaluatedItemsExtended:
		return "the schema of items past the tuple" + s.readerSide(" removed", " added") + s.parentAt()
	case additionalItemsNarrowed, unevaluatedItemsNarrowed:
		return "the schema of items past the tuple" + s.readerSide(" added", " removed") + s.parentAt()
	case uniqueItemsAdded:
		return "uniqueItems" + s.readerSide(" added", " removed") + s.at()
	case uniqueItemsRemoved:
		return "uniqueItems" + s.readerSide(" removed", " added") + s.at()
	case dependencyArrayAdded, dependencySchemaAdded:
		return "dependency on " + quoted(s.keyword()) + s.readerSide(" added", " removed") + s.at()
	case dependencyArrayRemoved, dependencySchemaRemoved:
		return "dependency on " + quoted(s.keyword()) + s.readerSide(" removed", " added") + s.at()
	case dependencyArrayExtended, dependencyArrayNarrowed, dependencyArrayChanged:
		return "properties required with " + quoted(s.keyword()) + " changed from [" + s.oldVal + "] to [" + s.newVal + "]" + s.at()
	case enumArrayExtended, enumArrayNarrowed, enumArrayChanged:
		if s.keyword() == "const" {
			return "const changed from " + value(s.oldVal) + " to " + value(s.newVal) + s.at()
		}
		return s.enumChange() + s.at()
	case combinedTypeChanged:
		return s.oldVal + " changed to " + s.newVal + s.at()
	case productTypeExtended:
		return "allOf subschemas" + s.readerSide(" added", " removed") + s.at()
	case productTypeNarrowed:
		return "allOf subschemas" + s.readerSide(" removed", " added") + s.at()
	case sumTypeExtended:
		return "alternatives" + s.readerSide(" added", " removed") + s.at()
	case sumTypeNarrowed:
		return "alternatives" + s.readerSide(" removed", " added") + s.at()
	case combinedTypeSubschemasChanged:
		return "a subschema changed" + s.at()
	case notTypeExtended, notTypeNarrowed:
		return "the not schema changed" + s.at()
	case SchemaTooComplex:
		return "the schemas are too large or too recursive to compare"
	}
	if kw := s.keyword(); isBound(t) {
		return valueChange(kw, s.oldVal, s.newVal, true) + s.at()
	}
	return strings.ToLower(strings.ReplaceAll(t, "_", " ")) + s.at()
}

// parentAt is at for a keyword whose Field already names its members
// ("/tags/*"): the place is the object or array holding them.
func (s *summarizer) parentAt() string {
	f := strings.TrimSuffix(s.d.Field, "/*")
	if f == "" {
		return " at the top level"
	}
	return " at " + f
}

// enumChange says which values the new version adds and removes.
func (s *summarizer) enumChange() string {
	added, removed := s.enumDelta()
	var parts []string
	if len(added) > 0 {
		parts = append(parts, values(added)+" added")
	}
	if len(removed) > 0 {
		parts = append(parts, values(removed)+" removed")
	}
	return plural(len(added)+len(removed), "enum value ", "enum values ") + strings.Join(parts, " and ")
}

// enumDelta returns the values the new version allows and the old one
// does not, and the reverse.
func (s *summarizer) enumDelta() (added, removed []string) {
	if s.readerIsNew {
		return s.d.ReaderOnly, s.d.WriterOnly
	}
	return s.d.WriterOnly, s.d.ReaderOnly
}

func (s *summarizer) effect() string {
	r, w := s.reader(), s.writer()
	if s.d.Compatible {
		switch s.d.Type {
		case idChanged, titleChanged, descriptionChanged, defaultChanged:
			return "documents are unaffected"
		}
		return "readers on " + r + " still accept every document " + w + " allows"
	}
	switch s.d.Type {
	case enumArrayNarrowed, enumArrayChanged:
		// The writer's values the reader lacks are what it rejects.
		rejected := s.d.WriterOnly
		if s.keyword() == "const" {
			return "readers on " + r + " reject the value " + values(rejected)
		}
		if added, removed := s.enumDelta(); len(rejected) == 1 && len(added)+len(removed) == 1 {
			return "readers on " + r + " reject it"
		}
		return "readers on " + r + " reject " + values(rejected)
	case requiredAttributeAdded, requiredPropertyAddedToUnopen, requiredPropertyAddedToOpen:
		return "readers on " + r + " reject documents without it"
	case propertyRemovedFromClosed, propertyRemovedNotCovered:
		return "readers on " + r + " reject documents that have it"
	case additionalPropertiesRemoved, unevaluatedPropertiesRemoved:
		return "readers on " + r + " reject documents with other properties"
	case optionalPropertyAddedToOpen, requiredPropertyWithDefaultAddedToOpen, propertyAddedNotCovered:
		return "documents " + w + " accepts may hold it with a value readers on " + r + " reject"
	case typeChanged, typeNarrowed:
		return "readers on " + r + " reject " + s.d.Old + " values"
	case patternAdded, patternChanged:
		return "readers on " + r + " reject strings that do not match " + s.d.New
	case SchemaTooComplex:
		return "compatibility cannot be established"
	}
	if what := s.boundRejects(); what != "" {
		return "readers on " + r + " reject " + what
	}
	return "readers on " + r + " reject some documents " + w + " accepts"
}

// boundRejects says what a reader's bound rejects, by the bound's name:
// maxima when added or decreased, minima when added or increased.
var boundRejects = map[string]string{
	"MAX_LENGTH":        "strings longer than {n}",
	"MIN_LENGTH":        "strings shorter than {n}",
	"MAXIMUM":           "numbers above {n}",
	"MINIMUM":           "numbers below {n}",
	"EXCLUSIVE_MAXIMUM": "numbers of {n} or more",
	"EXCLUSIVE_MINIMUM": "numbers of {n} or less",
	"MAX_ITEMS":         "arrays of more than {n} items",
	"MIN_ITEMS":         "arrays of fewer than {n} items",
	"MAX_PROPERTIES":    "objects with more than {n} properties",
	"MIN_PROPERTIES":    "objects with fewer than {n} properties",
}

// boundRejects says what the reader's bound (d.New) rejects when the
// writer set none, or a wider one; "" for another change.
func (s *summarizer) boundRejects() string {
	for _, suffix := range []string{"_ADDED", "_DECREASED", "_INCREASED"} {
		base, ok := strings.CutSuffix(s.d.Type, suffix)
		what, known := boundRejects[base]
		if !ok || !known || s.d.New == "" {
			continue
		}
		minimum := strings.Contains(base, "MIN")
		if suffix == "_ADDED" || (suffix == "_INCREASED") == minimum {
			return strings.ReplaceAll(what, "{n}", s.d.New)
		}
	}
	return ""
}

// isBound reports a change of a numeric keyword: maxLength, minimum,
// multipleOf and the like.
func isBound(t string) bool {
	for _, suffix := range []string{"_ADDED", "_REMOVED", "_INCREASED", "_DECREASED", "_EXPANDED", "_REDUCED", "_CHANGED"} {
		if base, ok := strings.CutSuffix(t, suffix); ok {
			switch base {
			case "MAX_LENGTH", "MIN_LENGTH", "MAXIMUM", "MINIMUM", "EXCLUSIVE_MAXIMUM", "EXCLUSIVE_MINIMUM", "MULTIPLE_OF",
				"MAX_PROPERTIES", "MIN_PROPERTIES", "MAX_ITEMS", "MIN_ITEMS", "MAX_CONTAINS", "MIN_CONTAINS":
				return true
			}
		}
	}
	return false
}

// valueChange says how keyword went from old to nw ("" for none):
// added, removed, raised, lowered or changed.
func valueChange(keyword, old, nw string, numeric bool) string {
	switch {
	case old == "" && nw == "":
		return keyword + " changed"
	case old == "":
		return keyword + " " + nw + " added"
	case nw == "":
		return keyword + " " + old + " removed"
	}
	if numeric {
		o, ok1 := new(big.Rat).SetString(old)
		n, ok2 := new(big.Rat).SetString(nw)
		if ok1 && ok2 {
			switch o.Cmp(n) {
			case -1:
				return keyword + " raised from " + old + " to " + nw
			case 1:
				return keyword + " lowered from " + old + " to " + nw
			}
		}
	}
	return keyword + " changed from " + old + " to " + nw
}

// values lists enum values, strings in single quotes.
func values(vs []string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = value(v)
	}
	return strings.Join(out, ", ")
}

// value shows one value given as canonical JSON: a string in single
// quotes, anything else as JSON.
func value(v string) string {
	var s string
	if json.Unmarshal([]byte(v), &s) == nil {
		return quoted(s)
	}
	return v
}

func quoted(s string) string { return "'" + s + "'" }

// quotedOrNone quotes s, leaving "" (no value) as it is.
func quotedOrNone(s string) string {
	if s == "" {
		return ""
	}
	return quoted(s)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// schemaPointer renders the tokens of a place in the user's schema as a
// JSON pointer in Confluent's form ("#/properties/a~1b"); "#/" is the root.
func schemaPointer(tokens []string) string {
	if len(tokens) == 0 {
		return "#/"
	}
	var b strings.Builder
	b.WriteByte('#')
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapeToken(t))
	}
	return b.String()
}

// fieldOf is the place in the documents that the schema tokens constrain.
func fieldOf(tokens []string) string {
	var b strings.Builder
	for i := 0; i < len(tokens); i++ {
		switch tokens[i] {
		case "properties", "required":
			if i+1 < len(tokens) {
				i++
				b.WriteString("/" + escapeToken(tokens[i]))
			}
		case "items":
			if i+1 < len(tokens) && isIndex(tokens[i+1]) {
				i++
				b.WriteString("/" + tokens[i])
			} else {
				b.WriteString("/*")
			}
		case "additionalItems", "unevaluatedItems", "additionalProperties", "unevaluatedProperties":
			b.WriteString("/*")
		case "allOf", "anyOf", "oneOf", "dependencies":
			i++ // an index or a property name: the same place in the documents
		}
		// Any other token is a keyword of the schema at this place.
	}
	return b.String()
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// escapeToken escapes a JSON pointer token (RFC 6901).
func escapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
