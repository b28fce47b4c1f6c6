package protobuf

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// locate explains why payload did not decode as md (err is the decoder's
// error, which says what but not where): it walks the bytes again with the
// descriptor and reports the field where they stop making sense. Only
// records that failed pay for the walk.
func locate(md protoreflect.MessageDescriptor, payload []byte, maxDepth int, err error) record.Violation {
	v := record.Violation{Type: record.DecodeError, Keyword: "protobuf"}
	if field, reason, bad := walk(md, payload, "", 1, maxDepth); bad {
		v.Field, v.Message = field, reason
		return v
	}
	v.Message = "invalid Protobuf: " + strings.TrimPrefix(err.Error(), "proto: ")
	return v
}

// walk checks b as the encoding of a message of md at path (a JSON
// pointer, "" for the record) and depth, returning the first problem.
func walk(md protoreflect.MessageDescriptor, b []byte, path string, depth, maxDepth int) (field, reason string, bad bool) {
	if depth > maxDepth {
		return path, fmt.Sprintf("messages are nested deeper than %d levels", maxDepth), true
	}
	var seen map[protowire.Number]int // occurrences of repeated message fields
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return path, "invalid field tag: " + protowire.ParseError(n).Error(), true
		}
		b = b[n:]
		fd := md.Fields().ByNumber(num)
		at := path
		if fd != nil {
			at = path + "/" + escape(string(fd.Name()))
		}
		// name says which field, in messages only: most walks find nothing.
		name := func() string {
			if fd == nil {
				return fmt.Sprintf("unknown field %d", num)
			}
			return fmt.Sprintf("field %s (%d)", fd.Name(), num)
		}
		if typ == protowire.EndGroupType {
			return at, name() + ": an end-group tag without a start", true
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return at, fmt.Sprintf("%s: %s value: %v", name(), wireTypeName(typ), protowire.ParseError(m)), true
		}
		val := b[:m]
		b = b[m:]
		if fd == nil || typ != protowire.BytesType {
			continue
		}
		switch {
		case fd.IsMap():
			if f, r, bad := walk(fd.Message(), skipBytesLen(val), at, depth+1, maxDepth); bad {
				return f, r, true
			}
		case fd.Kind() == protoreflect.MessageKind:
			if fd.IsList() {
				if seen == nil {
					seen = make(map[protowire.Number]int)
				}
				at += "/" + strconv.Itoa(seen[num])
				seen[num]++
			}
			if f, r, bad := walk(fd.Message(), skipBytesLen(val), at, depth+1, maxDepth); bad {
				return f, r, true
			}
		case fd.Kind() == protoreflect.StringKind:
			if enforceUTF8(fd) && !utf8.Valid(skipBytesLen(val)) {
				return at, name() + ": a string that is not valid UTF-8", true
			}
		case fd.IsList() && isPacked(fd.Kind()):
			if r, bad := checkPacked(fd.Kind(), skipBytesLen(val)); bad {
				return at, name() + ": packed values: " + r, true
			}
		}
	}
	return "", "", false
}

// skipBytesLen returns the contents of a length-delimited value that
// ConsumeFieldValue already accepted.
func skipBytesLen(b []byte) []byte {
	v, _ := protowire.ConsumeBytes(b)
	return v
}

// enforceUTF8 reports whether the decoder requires fd's strings to be
// valid UTF-8, as Go's protobuf runtime does: proto3 strings (and editions
// files that keep proto3's default).
func enforceUTF8(fd protoreflect.FieldDescriptor) bool {
	return fd.ParentFile().Syntax() != protoreflect.Proto2
}

func isPacked(k protoreflect.Kind) bool {
	switch k {
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind, protoreflect.GroupKind:
		return false
	}
	return true
}

// checkPacked checks a packed repeated field's contents.
func checkPacked(k protoreflect.Kind, b []byte) (string, bool) {
	for len(b) > 0 {
		var n int
		switch k {
		case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
			_, n = protowire.ConsumeFixed32(b)
		case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
			_, n = protowire.ConsumeFixed64(b)
		default:
			_, n = protowire.ConsumeVarint(b)
		}
		if n < 0 {
			return protowire.ParseError(n).Error(), true
		}
		b = b[n:]
	}
	return "", false
}

func wireTypeName(t protowire.Type) string {
	switch t {
	case protowire.VarintType:
		return "varint"
	case protowire.Fixed32Type:
		return "fixed32"
	case protowire.Fixed64Type:
		return "fixed64"
	case protowire.BytesType:
		return "length-delimited"
	case protowire.StartGroupType:
		return "group"
	}
	return fmt.Sprintf("wire type %d", t)
}

// hasRequired reports whether any message of file declares a required
// field (proto2, or editions' LEGACY_REQUIRED): only then can a decoded
// message miss one.
func hasRequired(file protoreflect.FileDescriptor) bool {
	var walk func(ms protoreflect.MessageDescriptors) bool
	walk = func(ms protoreflect.MessageDescriptors) bool {
		for i := range ms.Len() {
			md := ms.Get(i)
			if md.RequiredNumbers().Len() > 0 || walk(md.Messages()) {
				return true
			}
		}
		return false
	}
	return walk(file.Messages())
}

// missingRequired appends a MISSING_FIELD for each required field of msg
// (at path) and its sub-messages that is not set.
func missingRequired(msg protoreflect.Message, path string, dst []record.Violation) []record.Violation {
	if proto.CheckInitialized(msg.Interface()) == nil {
		return dst
	}
	fields := msg.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		at := path + "/" + escape(string(fd.Name()))
		if fd.Cardinality() == protoreflect.Required && !msg.Has(fd) {
			dst = append(dst, record.Violation{
				Type: record.MissingField, Field: at, Keyword: "required",
				Message: fmt.Sprintf("required field %s is missing", fd.Name()),
			})
			continue
		}
		if fd.Message() == nil || !msg.Has(fd) {
			continue
		}
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() == nil {
				continue
			}
			msg.Get(fd).Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
				dst = missingRequired(v.Message(), at+"/"+escape(k.String()), dst)
				return true
			})
		case fd.IsList():
			l := msg.Get(fd).List()
			for j := range l.Len() {
				dst = missingRequired(l.Get(j).Message(), at+"/"+strconv.Itoa(j), dst)
			}
		default:
			dst = missingRequired(msg.Get(fd).Message(), at, dst)
		}
	}
	return dst
}

// escape escapes a JSON pointer token (RFC 6901).
func escape(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
