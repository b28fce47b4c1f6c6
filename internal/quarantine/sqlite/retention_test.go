package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/quarantine/quarantinetest"
)

func TestRetentionConformance(t *testing.T) {
	t.Parallel()
	quarantinetest.ExerciseMetadataRetention(t, func(t *testing.T) quarantinetest.RetentionStore {
		return newStore(t, filepath.Join(t.TempDir(), "meta.db"))
	})
}
