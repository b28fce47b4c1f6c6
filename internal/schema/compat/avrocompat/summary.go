package avrocompat

import "strings"

// Field is where f bites in the data, as a JSON pointer of field names:
// "/address/zip" for the path "/fields/address/fields/zip", "*" standing
// for any array item or map value; "" is the top-level type.
func (f Finding) Field() string {
	var b strings.Builder
	tokens := strings.Split(strings.Trim(f.Path, "/"), "/")
	for i := 0; i < len(tokens); i++ {
		switch tokens[i] {
		case "fields":
			if i+1 < len(tokens) {
				i++
				b.WriteString("/" + tokens[i])
			}
		case "items", "values":
			b.WriteString("/*")
		}
	}
	return b.String()
}

// Summary says f in its user's terms: what changed from the old version of
// the schema to the new one, where, and what that does to the reader, e.g.
// "enum symbol SCROLL added at /event_type: readers on the old version
// cannot read it (their enum has no default)". Kind, the rule's name, is
// not in it: show it beside.
//
// newWrites says which version is the writer: false when checking BACKWARD
// (the new version reads what the old one wrote), true for FORWARD. oldName
// and newName name the versions.
func (f Finding) Summary(newWrites bool, oldName, newName string) string {
	reader, writer := newName, oldName
	oldVal, newVal := f.Old, f.New // the writer's side, the reader's
	if newWrites {
		reader, writer = oldName, newName
		oldVal, newVal = f.New, f.Old
	}
	side := func(readerIsNew, readerIsOld string) string {
		if newWrites {
			return readerIsOld
		}
		return readerIsNew
	}
	at := " at " + f.Field()
	if f.Field() == "" {
		at = " at the top level"
	}
	field := "field " + f.Field()
	var change, effect string
	switch f.Kind {
	case typeMismatch:
		change = "type changed from " + oldVal + " to " + newVal + at
		effect = "readers on " + reader + " cannot read the " + f.Old + " that " + writer + " writes"
	case nameMismatch:
		change = "type renamed from " + oldVal + " to " + newVal + at
		effect = "readers on " + reader + " do not recognise " + f.Old + " (add an alias)"
	case fixedSizeMismatch:
		change = "fixed size changed from " + oldVal + " to " + newVal + " bytes" + at
		effect = "readers on " + reader + " would read the wrong bytes"
	case missingEnumSymbols:
		change = "enum symbols " + f.Old + side(" removed", " added") + at
		effect = "readers on " + reader + " cannot read them: their enum has no default"
	case enumSymbolDefaulted:
		change = "enum symbols " + f.Old + side(" removed", " added") + at
		effect = "readers on " + reader + " read them as the default " + f.New
	case readerFieldMissingValue:
		change = field + side(" added without a default", " removed, and the old version gives it no default")
		effect = "readers on " + reader + " cannot read data " + writer + " wrote without it"
	case fieldAddedWithDefault:
		change = field + side(" added with a default", " removed")
		effect = "readers on " + reader + " use its default for data " + writer + " wrote"
	case fieldRemoved:
		change = field + side(" removed", " added")
		effect = "readers on " + reader + " skip it"
	case missingUnionBranch:
		change = "the union at " + strings.TrimPrefix(at, " at ") + " no longer covers " + f.Old
		if newWrites {
			change = "the new version can write " + f.Old + at
		}
		effect = "readers on " + reader + " have no branch (" + f.New + ") to read it"
	case decimalMismatch:
		change = "decimal changed from " + oldVal + " to " + newVal + at
		effect = "readers on " + reader + " would read a different number from the same bytes"
	case ambiguousFieldAlias:
		change = "fields " + f.Old + " both resolve to " + f.New + at
		effect = "readers on " + reader + " cannot tell which value to take"
	case fieldRenamed:
		change = "field renamed from " + oldVal + " to " + newVal + at
		effect = "readers on " + reader + " find it through an alias"
	case typeRenamed:
		change = "type renamed from " + oldVal + " to " + newVal + at
		effect = "readers on " + reader + " match it by alias or short name"
	case typePromoted:
		change = "type changed from " + oldVal + " to " + newVal + at
		effect = "readers on " + reader + " promote the " + f.Old + " that " + writer + " writes"
	default:
		change = strings.ToLower(strings.ReplaceAll(f.Kind, "_", " ")) + at
		effect = f.Explain(writer, reader)
	}
	return change + ": " + effect
}
