package protobuf

import (
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// messageValue is msg as the rules layer sees it (see the package doc).
func messageValue(msg protoreflect.Message) any {
	if v, ok := wellKnown(msg); ok {
		return v
	}
	fields := msg.Descriptor().Fields()
	out := make(map[string]any, fields.Len())
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.HasPresence() && !msg.Has(fd) {
			continue
		}
		out[string(fd.Name())] = fieldValue(fd, msg.Get(fd))
	}
	return out
}

func fieldValue(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch {
	case fd.IsList():
		l := v.List()
		out := make([]any, l.Len())
		for i := range out {
			out[i] = singular(fd, l.Get(i))
		}
		return out
	case fd.IsMap():
		m := v.Map()
		out := make(map[string]any, m.Len())
		vd := fd.MapValue()
		m.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
			out[k.String()] = singular(vd, v)
			return true
		})
		return out
	}
	return singular(fd, v)
}

// singular converts one value of fd's kind.
func singular(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return v.Bool()
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return v.Int()
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return v.Uint()
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return v.Float()
	case protoreflect.StringKind:
		return v.String()
	case protoreflect.BytesKind:
		return v.Bytes()
	case protoreflect.EnumKind:
		n := v.Enum()
		if ev := fd.Enum().Values().ByNumber(n); ev != nil {
			if fd.Enum().FullName() == "google.protobuf.NullValue" {
				return nil
			}
			return string(ev.Name())
		}
		return int64(n)
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return messageValue(v.Message())
	}
	return nil
}

// wellKnown converts the well-known types that have a natural value.
func wellKnown(msg protoreflect.Message) (any, bool) {
	md := msg.Descriptor()
	if md.ParentFile().Package() != "google.protobuf" {
		return nil, false
	}
	fields := md.Fields()
	get := func(name protoreflect.Name) protoreflect.Value { return msg.Get(fields.ByName(name)) }
	switch md.Name() {
	case "Timestamp":
		return time.Unix(get("seconds").Int(), get("nanos").Int()).UTC(), true
	case "Duration":
		return time.Duration(get("seconds").Int())*time.Second + time.Duration(get("nanos").Int()), true
	case "DoubleValue", "FloatValue", "Int64Value", "UInt64Value", "Int32Value", "UInt32Value",
		"BoolValue", "StringValue", "BytesValue":
		fd := fields.ByName("value")
		return singular(fd, msg.Get(fd)), true
	case "Struct":
		fd := fields.ByName("fields")
		return fieldValue(fd, msg.Get(fd)), true
	case "ListValue":
		fd := fields.ByName("values")
		return fieldValue(fd, msg.Get(fd)), true
	case "Value":
		od := md.Oneofs().ByName("kind")
		fd := msg.WhichOneof(od)
		if fd == nil {
			return nil, true
		}
		return singular(fd, msg.Get(fd)), true
	}
	return nil, false
}
