package protobuf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/linker"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema"
)

// FileName is the name a schema's .proto text is compiled under, as it
// appears in compiler messages.
const FileName = "schema.proto"

// validateImport is protovalidate's file, resolved from the descriptor
// compiled into buf.build/gen/go/bufbuild/protovalidate.
const validateImport = "buf/validate/validate.proto"

// DefaultMaxDepth is the default nesting limit of a decoded message.
const DefaultMaxDepth = 64

// Options configure Parse and Compile.
type Options struct {
	// Message is the fully qualified name (pkg.Msg) of the message type
	// payloads without message indexes hold. Default "": the first
	// top-level message of the schema.
	Message string
	// MaxDepth bounds message nesting in a payload; deeper is a
	// DECODE_ERROR. Default DefaultMaxDepth.
	MaxDepth int
}

// Validator checks payloads against one .proto schema. It is safe for
// concurrent use.
type Validator struct {
	file protoreflect.FileDescriptor
	def  protoreflect.MessageDescriptor
	// pv checks buf.validate constraints; nil when the schema does not
	// import them, so plain schemas pay nothing for it.
	pv       protovalidate.Validator
	maxDepth int
	// required is whether any message declares a required field; proto3
	// schemas skip the check.
	required bool
}

var (
	_ schema.Validator      = (*Validator)(nil)
	_ schema.MessageChecker = (*Validator)(nil)
)

// Parse compiles a .proto schema (its text). The schema must declare at
// least one message; its buf.validate constraints must compile.
func Parse(src []byte, opts Options) (*Validator, error) {
	file, err := compileFile(src)
	if err != nil {
		return nil, err
	}
	msgs := file.Messages()
	if msgs.Len() == 0 {
		return nil, errors.New("the schema declares no message")
	}
	v := &Validator{file: file, def: msgs.Get(0), maxDepth: opts.MaxDepth, required: hasRequired(file)}
	if v.maxDepth <= 0 {
		v.maxDepth = DefaultMaxDepth
	}
	if opts.Message != "" {
		d := findMessage(file, protoreflect.FullName(strings.TrimPrefix(opts.Message, ".")))
		if d == nil {
			return nil, fmt.Errorf("the schema declares no message %s", opts.Message)
		}
		v.def = d
	}
	if importsValidate(file) {
		if v.pv, err = newConstraints(file); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// Compile compiles a .proto schema into a Version of subject.
func Compile(subject string, version int, src []byte, opts Options) (*schema.Version, error) {
	v, err := Parse(src, opts)
	if err != nil {
		return nil, fmt.Errorf("compiling Protobuf schema for subject %s version %d: %w", subject, version, err)
	}
	return &schema.Version{Subject: subject, Version: version, Format: schema.FormatProtobuf, Validator: v}, nil
}

// File returns the compiled schema.
func (v *Validator) File() protoreflect.FileDescriptor { return v.file }

// Default returns the message type of payloads without message indexes.
func (v *Validator) Default() protoreflect.MessageDescriptor { return v.def }

// Message returns the message type that Confluent message indexes select:
// indexes[0] is a top-level message, each next index one nested in the
// previous. Nil or empty indexes select the default message.
func (v *Validator) Message(indexes []int) (protoreflect.MessageDescriptor, error) {
	if len(indexes) == 0 {
		return v.def, nil
	}
	var d protoreflect.MessageDescriptor
	msgs := v.file.Messages()
	for i, idx := range indexes {
		if idx < 0 || idx >= msgs.Len() {
			if i == 0 {
				return nil, fmt.Errorf("message index %v: the schema has %d top-level messages", indexes, msgs.Len())
			}
			return nil, fmt.Errorf("message index %v: %s has %d nested messages", indexes, d.FullName(), msgs.Len())
		}
		d = msgs.Get(idx)
		msgs = d.Messages()
	}
	return d, nil
}

// Check decodes payload as the default message type and validates it; see
// CheckMessage.
func (v *Validator) Check(payload []byte, dst []record.Violation) (any, []record.Violation) {
	return v.check(v.def, payload, dst)
}

// CheckMessage decodes payload as the message type indexes select (the
// message indexes of a Confluent wire header) and validates it, appending
// one violation per problem to dst. It returns the decoded message as
// map[string]any, or nil when it did not decode or is not valid. Indexes
// that select no message are a SCHEMA_NOT_FOUND.
func (v *Validator) CheckMessage(indexes []int, payload []byte, dst []record.Violation) (any, []record.Violation) {
	md, err := v.Message(indexes)
	if err != nil {
		return nil, append(dst, record.Violation{
			Type: record.SchemaNotFound, Keyword: "message_index", Message: err.Error(),
		})
	}
	return v.check(md, payload, dst)
}

func (v *Validator) check(md protoreflect.MessageDescriptor, payload []byte, dst []record.Violation) (any, []record.Violation) {
	msg := dynamicpb.NewMessage(md)
	err := proto.UnmarshalOptions{AllowPartial: true, RecursionLimit: v.maxDepth}.Unmarshal(payload, msg)
	if err != nil {
		return nil, append(dst, locate(md, payload, v.maxDepth, err))
	}
	n := len(dst)
	if v.required {
		dst = missingRequired(msg, "", dst)
	}
	if v.pv != nil {
		dst = v.constraints(msg, dst)
	}
	if len(dst) > n {
		return nil, dst
	}
	return messageValue(msg), dst
}

// findMessage finds a message type by full name, nested ones included.
func findMessage(file linker.File, name protoreflect.FullName) protoreflect.MessageDescriptor {
	d := file.FindDescriptorByName(name)
	md, _ := d.(protoreflect.MessageDescriptor)
	return md
}

// compileFile compiles src as FileName, resolving the well-known types and
// protovalidate's file from the descriptors linked into this binary.
func compileFile(src []byte) (linker.File, error) {
	compiler := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(protocompile.ResolverFunc(func(path string) (protocompile.SearchResult, error) {
			switch path {
			case FileName:
				return protocompile.SearchResult{Source: bytes.NewReader(src)}, nil
			case validateImport:
				return protocompile.SearchResult{Desc: validate.File_buf_validate_validate_proto}, nil
			}
			return protocompile.SearchResult{}, fmt.Errorf("only google/protobuf/*.proto and %s can be imported: %w", validateImport, protoregistry.NotFound)
		})),
	}
	files, err := compiler.Compile(context.Background(), FileName)
	if err != nil {
		return nil, compileError(err)
	}
	return files[0], nil
}

// compileError drops the file name protocompile puts before every message
// ("schema.proto:3:5: ..."): the schema has no name of its own.
func compileError(err error) error {
	msg := strings.TrimPrefix(err.Error(), FileName+":")
	return errors.New(msg)
}

// importsValidate reports whether file imports protovalidate's
// constraints, directly or through a public import.
func importsValidate(file protoreflect.FileDescriptor) bool {
	imports := file.Imports()
	for i := range imports.Len() {
		if imports.Get(i).Path() == validateImport {
			return true
		}
	}
	return false
}
