package postgres_test

import (
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/quarantine/quarantinetest"
	"github.com/dataquarantine/dataquarantine/internal/testbackend"
)

func TestRetentionConformance(t *testing.T) {
	t.Parallel()
	quarantinetest.ExerciseMetadataRetention(t, func(t *testing.T) quarantinetest.RetentionStore {
		return newStore(t, testbackend.Postgres(t))
	})
}
