package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/dataquarantine/dataquarantine/internal/schema"
)

// GUID returns the globally unique id of a schema, in UUID form (8-4-4-4-12
// lower-case hex digits), as Confluent's wire format 0x01, its
// /schemas/guids API and the guid of its answers name schemas. It is
// derived from what makes a schema id: its type, stored text, rule set and
// metadata ("" for none), as a version 8 UUID over their SHA-256, so the
// same schema has the same GUID in every registry. It is stored with the
// schema and indexed, for lookups by GUID.
func GUID(format schema.Format, text, ruleSet, metadata string) string {
	in := string(format) + "\x00" + text
	if ruleSet != "" || metadata != "" {
		in += "\x00" + ruleSet
	}
	if metadata != "" {
		in += "\x00" + metadata
	}
	sum := sha256.Sum256([]byte(in))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x80 // version 8: custom
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Fingerprint names a schema apart from its rules and metadata: the
// SHA-256 (hex) of its type and normal form (see Normal). Two texts with
// one fingerprint are one schema for lookups and registration.
func Fingerprint(format schema.Format, normal string) string {
	sum := sha256.Sum256([]byte(string(format) + "\x00" + normal))
	return hex.EncodeToString(sum[:])
}

// SchemaByGUID returns the schema whose GUID is guid (any case);
// ErrSchemaNotFound when none has it. It is one indexed read.
func (r *Registry) SchemaByGUID(ctx context.Context, guid string) (Schema, error) {
	s, err := r.store.SchemaByGUID(ctx, strings.ToLower(guid))
	switch {
	case errors.Is(err, ErrNotFound):
		return Schema{}, ErrSchemaNotFound
	case err != nil:
		return Schema{}, fmt.Errorf("looking up schema GUID %s: %w", guid, err)
	}
	return s, nil
}
