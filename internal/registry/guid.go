package registry

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/dataquarantine/dataquarantine/internal/schema"
)

// GUID returns the globally unique id of a schema, in UUID form (8-4-4-4-12
// lower-case hex digits), as Confluent's wire format 0x01 and its
// /schemas/guids API name schemas. It is derived from what makes a schema
// id: its type, canonical text and stored rule set ("" for none), as a
// version 8 UUID over their SHA-256, so the same schema has the same GUID in
// every registry and nothing extra is stored.
func GUID(format schema.Format, text, ruleSet string) string {
	in := string(format) + "\x00" + text
	if ruleSet != "" {
		in += "\x00" + ruleSet
	}
	sum := sha256.Sum256([]byte(in))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x80 // version 8: custom
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// SchemaByGUID returns the schema whose GUID is guid (any case);
// ErrSchemaNotFound when none has it.
func (r *Registry) SchemaByGUID(ctx context.Context, guid string) (Schema, error) {
	guid = strings.ToLower(guid)
	all, err := r.All(ctx, true, false)
	if err != nil {
		return Schema{}, err
	}
	for _, s := range all {
		if GUID(s.Format, s.Text, s.RuleSet) == guid {
			return Schema{ID: s.SchemaID, Format: s.Format, Text: s.Text, RuleSet: s.RuleSet}, nil
		}
	}
	return Schema{}, ErrSchemaNotFound
}
