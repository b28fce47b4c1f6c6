package fs_test

import (
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/quarantine/quarantinetest"
)

func TestRetentionConformance(t *testing.T) {
	t.Parallel()
	quarantinetest.ExercisePayloadRetention(t, func(t *testing.T) quarantinetest.RetentionPayloadStore {
		return newStore(t, t.TempDir())
	})
}
