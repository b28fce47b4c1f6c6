package s3_test

import (
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/quarantine/quarantinetest"
	"github.com/dataquarantine/dataquarantine/internal/testbackend"
)

func TestRetentionConformance(t *testing.T) {
	t.Parallel()
	quarantinetest.ExercisePayloadRetention(t, func(t *testing.T) quarantinetest.RetentionPayloadStore {
		return newStore(t, testbackend.S3(t))
	})
}
