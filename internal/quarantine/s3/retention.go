package s3

import (
	"context"
	"fmt"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

var _ quarantine.SegmentPurger = (*Store)(nil)

// DeleteSegmentsBefore lists the segment objects and deletes those last
// modified before cutoff (an object is written by one PUT, so that is when
// its batch was written), in multi-object DELETE requests of up to 1000
// keys. A bucket lifecycle rule (expiration by age on the segments/ prefix)
// does the same on the service's side, for those who prefer it.
func (s *Store) DeleteSegmentsBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	if s.closed.Load() {
		return 0, errClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	old := make(chan minio.ObjectInfo)
	var listErr error
	go func() {
		defer close(old)
		for obj := range s.core.Client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: "segments/", Recursive: true}) {
			if obj.Err != nil {
				listErr = obj.Err
				return
			}
			if obj.LastModified.Before(cutoff) {
				select {
				case old <- obj:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	var deleted int64
	var firstErr error
	for res := range s.core.RemoveObjectsWithResult(ctx, s.bucket, old, minio.RemoveObjectsOptions{}) {
		if res.Err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("deleting segment object %s: %w", res.ObjectName, res.Err)
			}
			continue
		}
		deleted++
	}
	// The lister has returned once RemoveObjectsWithResult has drained its
	// channel, so listErr is safe to read.
	if listErr != nil {
		return deleted, s.backendErr(fmt.Errorf("listing segments in bucket %s: %w", s.bucket, listErr))
	}
	if firstErr != nil {
		return deleted, s.backendErr(firstErr)
	}
	return deleted, nil
}
