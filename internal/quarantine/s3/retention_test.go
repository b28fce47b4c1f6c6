package s3_test

import (
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/quarantine/quarantinetest"
	"github.com/dataquarantine/dataquarantine/internal/testbackend"
)

// An object's write time is its LastModified, stamped by the server: the
// suite waits for the server's clock to move (milliseconds for MinIO).
func TestRetentionConformance(t *testing.T) {
	t.Parallel()
	quarantinetest.ExercisePayloadRetention(t, func(t *testing.T) (quarantinetest.RetentionPayloadStore, quarantinetest.SegmentClock) {
		b := testbackend.S3(t)
		s := newStore(t, b) // creates the bucket
		return s, b.ServerClock(t)
	})
}
