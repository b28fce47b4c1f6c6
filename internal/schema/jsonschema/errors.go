package jsonschema

import (
	"errors"
	"fmt"
)

// ErrRemoteRef is wrapped by the error of Compile when the schema refers to
// a document outside itself ($ref or $schema to an http(s) or file URL that
// is not a known meta-schema). The gateway never fetches schemas: a schema
// must be self-contained, so that validation needs no network and cannot be
// changed by a third party.
var ErrRemoteRef = errors.New("reference to an external document refused")

// ErrInvalidSchema is wrapped by the error of Compile when the document is
// not a valid schema: not JSON, not valid against its draft's meta-schema, an
// unresolvable $ref, an unsupported $schema, or a pattern that does not
// compile.
var ErrInvalidSchema = errors.New("invalid JSON schema")

// ErrRefCycle is wrapped by the error of Compile when the schema applies
// itself to the value it validates without moving into it, through $ref
// and in-place applicators ({"$ref": "#"}): its evaluation could never end
// (cycle.go). It wraps ErrInvalidSchema.
var ErrRefCycle = fmt.Errorf("%w: reference cycle", ErrInvalidSchema)

// ErrTooExpensive is wrapped by the error of Compile when the schema
// applies so many schemas to one value, through in-place applicators
// reaching the same schemas again and again, that validating a record
// could take minutes (cycle.go). It wraps ErrInvalidSchema.
var ErrTooExpensive = fmt.Errorf("%w: too many schemas applied to one value", ErrInvalidSchema)
