// Package protocompat owns compatibility checking between two Protobuf
// schemas: can a reader compiled from one read the bytes a writer compiled
// from the other wrote?
//
// It is a basic check after Confluent's Protobuf rules, on the wire: a
// message the writer declares must still be declared by the reader (records
// name their message by index), the package must stay, a field number
// reused with a type of another wire encoding, another message or enum
// type, or another cardinality breaks the reader, and so does a proto2
// required field the writer did not write. Removing or renaming a field is
// compatible (the bytes are skipped, or read under the new name), so is
// adding an optional one. Changes the wire does not see (options,
// protovalidate constraints, reserved ranges) are not compared.
package protocompat

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Finding is one difference between a writer's and a reader's schema.
type Finding struct {
	// Kind names it after Confluent's Protobuf differences:
	// PACKAGE_CHANGED, MESSAGE_REMOVED, FIELD_KIND_CHANGED,
	// FIELD_NAMED_TYPE_CHANGED, FIELD_CARDINALITY_CHANGED,
	// REQUIRED_FIELD_ADDED, and the compatible FIELD_REMOVED,
	// FIELD_NAME_CHANGED, FIELD_ADDED.
	Kind string
	// Path locates it: "/" + the message's full name + "/" + the field's
	// name in the writer ("/shop.v1.Order/quantity").
	Path string
	// Old and New describe the writer's and the reader's side.
	Old, New string
	// Compatible reports whether the reader still reads what the writer
	// wrote.
	Compatible bool
}

var explanations = map[string]string{
	"PACKAGE_CHANGED":           "the package changed from {old} ({w}) to {new} ({r}): message names no longer match",
	"MESSAGE_REMOVED":           "message {old}, declared by {w}, is missing from {r}",
	"FIELD_KIND_CHANGED":        "field number {old} in {w} is read as {new} by {r}, another wire encoding",
	"FIELD_NAMED_TYPE_CHANGED":  "field type {old} in {w} is {new} in {r}",
	"FIELD_CARDINALITY_CHANGED": "field {old} in {w} is {new} in {r}",
	"REQUIRED_FIELD_ADDED":      "{r} requires field {new}, which {w} does not write",
	"FIELD_REMOVED":             "field {old} of {w} is not in {r}, which skips it",
	"FIELD_NAME_CHANGED":        "field {old} of {w} is named {new} in {r}; the number is what the wire carries",
	"FIELD_ADDED":               "{r} adds field {new}, unset in what {w} wrote",
}

// Explain says what f means, naming the writer's and reader's schemas.
func (f Finding) Explain(writer, reader string) string {
	tmpl, ok := explanations[f.Kind]
	if !ok {
		tmpl = strings.ToLower(strings.ReplaceAll(f.Kind, "_", " "))
	}
	return strings.NewReplacer("{w}", writer, "{r}", reader, "{old}", f.Old, "{new}", f.New).Replace(tmpl)
}

// Check lists what lies between data written with writer and its reading
// with reader. The reader reads it when every finding is compatible.
func Check(writer, reader protoreflect.FileDescriptor) []Finding {
	var out []Finding
	if writer.Package() != reader.Package() {
		out = append(out, Finding{Kind: "PACKAGE_CHANGED", Path: "/", Old: string(writer.Package()), New: string(reader.Package())})
		return out
	}
	var walk func(ms protoreflect.MessageDescriptors)
	walk = func(ms protoreflect.MessageDescriptors) {
		for i := range ms.Len() {
			w := ms.Get(i)
			if w.IsMapEntry() {
				continue
			}
			path := "/" + string(w.FullName())
			r := findMessage(reader.Messages(), w.FullName())
			if r == nil {
				out = append(out, Finding{Kind: "MESSAGE_REMOVED", Path: path, Old: string(w.FullName())})
				continue
			}
			out = append(out, fields(w, r, path)...)
			walk(w.Messages())
		}
	}
	walk(writer.Messages())
	return out
}

// findMessage finds a message type by full name among ms and their nested
// types.
func findMessage(ms protoreflect.MessageDescriptors, name protoreflect.FullName) protoreflect.MessageDescriptor {
	for i := range ms.Len() {
		m := ms.Get(i)
		if m.FullName() == name {
			return m
		}
		if strings.HasPrefix(string(name), string(m.FullName())+".") {
			if found := findMessage(m.Messages(), name); found != nil {
				return found
			}
		}
	}
	return nil
}

// fields compares the fields of one message, by number.
func fields(w, r protoreflect.MessageDescriptor, path string) []Finding {
	var out []Finding
	wf, rf := w.Fields(), r.Fields()
	for i := range wf.Len() {
		f := wf.Get(i)
		at := path + "/" + string(f.Name())
		g := rf.ByNumber(f.Number())
		if g == nil {
			out = append(out, Finding{Kind: "FIELD_REMOVED", Path: at, Old: describe(f), Compatible: true})
			continue
		}
		if f.Name() != g.Name() {
			out = append(out, Finding{Kind: "FIELD_NAME_CHANGED", Path: at, Old: describe(f), New: string(g.Name()), Compatible: true})
		}
		switch {
		case f.IsMap() != g.IsMap() || f.IsList() != g.IsList() && !(isPackable(f) && isPackable(g)):
			out = append(out, Finding{Kind: "FIELD_CARDINALITY_CHANGED", Path: at, Old: shape(f), New: shape(g)})
		case encoding(f) != encoding(g):
			out = append(out, Finding{
				Kind: "FIELD_KIND_CHANGED", Path: at,
				Old: fmt.Sprintf("%d (%s)", f.Number(), typeName(f)), New: typeName(g),
			})
		case typeName(f) != typeName(g) && (f.Message() != nil && g.Message() != nil || f.Enum() != nil && g.Enum() != nil):
			out = append(out, Finding{Kind: "FIELD_NAMED_TYPE_CHANGED", Path: at, Old: typeName(f), New: typeName(g)})
		}
	}
	for i := range rf.Len() {
		g := rf.Get(i)
		if wf.ByNumber(g.Number()) != nil {
			continue
		}
		at := path + "/" + string(g.Name())
		if g.Cardinality() == protoreflect.Required {
			out = append(out, Finding{Kind: "REQUIRED_FIELD_ADDED", Path: at, New: describe(g)})
			continue
		}
		out = append(out, Finding{Kind: "FIELD_ADDED", Path: at, New: describe(g), Compatible: true})
	}
	return out
}

func describe(f protoreflect.FieldDescriptor) string {
	return fmt.Sprintf("%s = %d", f.Name(), f.Number())
}

func shape(f protoreflect.FieldDescriptor) string {
	switch {
	case f.IsMap():
		return describe(f) + " (a map)"
	case f.IsList():
		return describe(f) + " (repeated)"
	}
	return describe(f) + " (singular)"
}

func typeName(f protoreflect.FieldDescriptor) string {
	switch {
	case f.IsMap():
		return "map<" + typeName(f.MapKey()) + ", " + typeName(f.MapValue()) + ">"
	case f.Message() != nil:
		return string(f.Message().FullName())
	case f.Enum() != nil:
		return string(f.Enum().FullName())
	}
	return f.Kind().String()
}

// isPackable reports whether a scalar's singular and repeated forms read
// each other (a parser accepts both packed and unpacked encodings, and a
// singular field takes the last of a repeated one's values).
func isPackable(f protoreflect.FieldDescriptor) bool {
	switch f.Kind() {
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind, protoreflect.GroupKind:
		return false
	}
	return !f.IsMap()
}

// encoding groups kinds whose values read as each other on the wire, as
// Confluent's rules allow (int32, uint32, int64, uint64 and bool are one
// varint; string and bytes one length-delimited value; enums are varints).
func encoding(f protoreflect.FieldDescriptor) string {
	switch f.Kind() {
	case protoreflect.Int32Kind, protoreflect.Uint32Kind, protoreflect.Int64Kind, protoreflect.Uint64Kind,
		protoreflect.BoolKind, protoreflect.EnumKind:
		return "varint"
	case protoreflect.Sint32Kind, protoreflect.Sint64Kind:
		return "zigzag"
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind:
		return "fixed32"
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind:
		return "fixed64"
	case protoreflect.FloatKind:
		return "float"
	case protoreflect.DoubleKind:
		return "double"
	case protoreflect.StringKind, protoreflect.BytesKind:
		return "bytes"
	case protoreflect.MessageKind:
		return "message"
	case protoreflect.GroupKind:
		return "group"
	}
	return f.Kind().String()
}
