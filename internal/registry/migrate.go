package registry

import (
	"context"
	"fmt"
)

// migrateBatch is how many schemas Migrate reads at a time.
const migrateBatch = 500

// Migrate computes the fingerprint and GUID of the schemas stored by a
// gateway older than them, so that lookups by schema and by GUID find
// them through the store's indexes. Call it once after New, before
// serving; it returns how many schemas it updated (none, once done). A
// stored text that no longer parses is fingerprinted as it is.
func (r *Registry) Migrate(ctx context.Context) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for {
		batch, err := r.store.SchemasWithoutKeys(ctx, migrateBatch)
		if err != nil {
			return n, fmt.Errorf("listing schemas to migrate: %w", err)
		}
		if len(batch) == 0 {
			return n, nil
		}
		for _, s := range batch {
			normal, err := Normal(s.Format, s.Text)
			if err != nil {
				normal = s.Text
			}
			fp, guid := Fingerprint(s.Format, normal), GUID(s.Format, s.Text, s.RuleSet, s.Metadata)
			if fp == "" || guid == "" || (fp == s.Fingerprint && guid == s.GUID) {
				return n, fmt.Errorf("schema %d: its keys do not change: refusing to loop", s.ID)
			}
			if err := r.store.SetSchemaKeys(ctx, s.ID, fp, guid); err != nil {
				return n, fmt.Errorf("storing the keys of schema %d: %w", s.ID, err)
			}
			n++
		}
	}
}
