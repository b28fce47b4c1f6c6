package protobuf

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/linker"
	"github.com/jhump/protoreflect/v2/protoprint"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// A schema reaches the registry in one of two forms, as in Confluent Schema
// Registry: .proto text, or a FileDescriptorProto in binary, base64 encoded
// (what Confluent's serializers register and look up). The registry stores
// text: Source turns either into it. Normal is the form two schemas are
// compared in, and Serialized the descriptor form clients ask for with
// format=serialized.

// Source returns the .proto text of src: src itself (trimmed) when it is
// .proto text that compiles, or the .proto printed from src's
// FileDescriptorProto when src is one in base64. Anything else is the
// compiler's error on src as text.
func Source(src string) (string, error) {
	text := strings.TrimSpace(src)
	if text == "" {
		return "", errors.New("empty schema")
	}
	_, textErr := compileFile([]byte(text))
	if textErr == nil {
		return text, nil
	}
	fd, ok := decodeDescriptor(text)
	if !ok {
		return "", textErr
	}
	file, err := compileDescriptor(fd)
	if err != nil {
		return "", fmt.Errorf("the base64 FileDescriptorProto does not compile: %w", err)
	}
	printed, err := printFile(file)
	if err != nil {
		return "", err
	}
	// What the linker accepts from a descriptor, the parser may not
	// (a syntax field of "proto4"): the text must compile on its own.
	if _, err := compileFile([]byte(printed)); err != nil {
		return "", fmt.Errorf("the base64 FileDescriptorProto prints as a .proto that does not compile: %w", err)
	}
	return printed, nil
}

// Normal returns the normal form of a .proto text: compiled and printed back
// without comments, in declaration order (messages keep their order, which
// message indexes depend on). Schemas whose text differs only in layout,
// comments, qualification of names or default json_name options, or that
// were given as .proto text and as a descriptor, have one normal form.
func Normal(text string) (string, error) {
	file, err := compileFile([]byte(text))
	if err != nil {
		return "", err
	}
	return printFile(file)
}

// Serialized returns a .proto text compiled into a FileDescriptorProto,
// binary encoded (deterministically), without source information: what
// Confluent's format=serialized answers, base64 encoded.
func Serialized(text string) ([]byte, error) {
	file, err := compileFile([]byte(text))
	if err != nil {
		return nil, err
	}
	fd := protodesc.ToFileDescriptorProto(file)
	fd.SourceCodeInfo = nil
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(fd)
	if err != nil {
		return nil, fmt.Errorf("encoding the file descriptor: %w", err)
	}
	return b, nil
}

// decodeDescriptor reads src as a base64 (standard or URL alphabet, padded
// or not) binary FileDescriptorProto.
func decodeDescriptor(src string) (*descriptorpb.FileDescriptorProto, bool) {
	var raw []byte
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(src); err == nil {
			raw = b
			break
		}
	}
	if len(raw) == 0 {
		return nil, false
	}
	var fd descriptorpb.FileDescriptorProto
	if err := (proto.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(raw, &fd); err != nil {
		return nil, false
	}
	return &fd, true
}

// compileDescriptor links fd as FileName, resolving its imports as
// compileFile does.
func compileDescriptor(fd *descriptorpb.FileDescriptorProto) (linker.File, error) {
	fd = proto.CloneOf(fd)
	fd.Name = proto.String(FileName)
	fd.SourceCodeInfo = nil
	compiler := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(protocompile.ResolverFunc(func(path string) (protocompile.SearchResult, error) {
			switch path {
			case FileName:
				return protocompile.SearchResult{Proto: fd}, nil
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

// printer prints schemas as the registry stores them: no comments (a
// descriptor has none, and the normal form must not depend on them).
var printer = protoprint.Printer{OmitComments: protoprint.CommentsAll}

// printFile prints file as .proto text.
func printFile(file linker.File) (string, error) {
	out, err := printer.PrintProtoToString(file)
	if err != nil {
		return "", fmt.Errorf("printing the schema as .proto: %w", err)
	}
	return strings.TrimSpace(out), nil
}
