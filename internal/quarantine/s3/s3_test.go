package s3_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/quarantinetest"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/s3"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/testbackend"
)

func TestMain(m *testing.M) {
	testbackend.Main(m, func() error { return goleak.Find() })
}

func options(b testbackend.S3Bucket) s3.Options {
	return s3.Options{
		Endpoint: b.Endpoint, Bucket: b.Bucket,
		AccessKey: b.AccessKey, SecretKey: b.SecretKey,
		Secure: b.Secure, Region: b.Region,
	}
}

func newStore(t testing.TB, b testbackend.S3Bucket) *s3.Store {
	t.Helper()
	s, err := s3.New(context.Background(), options(b))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	quarantinetest.ExercisePayloads(t, func(t *testing.T) quarantine.PayloadStore {
		return newStore(t, testbackend.S3(t))
	})
}

func TestNewOptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, tc := range map[string]struct {
		opts s3.Options
		want string
	}{
		"no endpoint":    {s3.Options{Bucket: "b-1"}, "Endpoint is required"},
		"scheme":         {s3.Options{Endpoint: "http://minio:9000", Bucket: "b-1"}, "without a scheme"},
		"no bucket":      {s3.Options{Endpoint: "minio:9000"}, "Bucket is required"},
		"invalid bucket": {s3.Options{Endpoint: "minio:9000", Bucket: "Not_Valid"}, "bucket"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := s3.New(ctx, tc.opts)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// TestCreatesBucket: New creates a missing bucket by default, accepts an
// existing one, and refuses a missing one when told not to create it.
func TestCreatesBucket(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := testbackend.S3(t)
	c := b.Client(t)

	noCreate := options(b)
	noCreate.CreateBucket = new(false)
	_, err := s3.New(ctx, noCreate)
	require.ErrorContains(t, err, "does not exist")
	exists, err := c.BucketExists(ctx, b.Bucket)
	require.NoError(t, err)
	require.False(t, exists)

	newStore(t, b)
	exists, err = c.BucketExists(ctx, b.Bucket)
	require.NoError(t, err)
	require.True(t, exists, "created")

	newStore(t, b) // exists already: fine
	s, err := s3.New(ctx, noCreate)
	require.NoError(t, err, "an existing bucket needs no creating")
	require.NoError(t, s.Close())
}

// TestAuthFailureHidesSecrets: wrong credentials fail New, and no error
// names either key.
func TestAuthFailureHidesSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := testbackend.S3(t)
	cases := map[string]s3.Options{
		"wrong secret":     func() s3.Options { o := options(b); o.SecretKey = "wrong-Secret-Key-1234567"; return o }(),
		"wrong access key": func() s3.Options { o := options(b); o.AccessKey = "wrongAccessKey987"; return o }(),
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := s3.New(ctx, opts)
			require.Error(t, err)
			msg := fmt.Sprintf("%v %+v %#v", err, err, err)
			for _, secret := range []string{opts.SecretKey, opts.AccessKey, b.SecretKey, b.AccessKey} {
				require.NotContains(t, msg, secret)
			}
			require.Contains(t, err.Error(), b.Bucket, "the error says what was being done")
			t.Logf("the error: %v", err)
		})
	}

	// A store whose credentials stop working (rotated) fails its writes and
	// reads the same way.
	s := newStore(t, b)
	refs, err := s.WriteSegment(ctx, "seg", []quarantine.Payload{{Value: []byte("v")}})
	require.NoError(t, err)
	bad := options(b)
	bad.SecretKey = "rotated-Secret-Key-7654321"
	bad.CreateBucket = new(false)
	_, err = s3.New(ctx, bad)
	require.Error(t, err)
	require.NotContains(t, err.Error(), bad.SecretKey)
	_, err = s.Read(ctx, refs[0])
	require.NoError(t, err, "the good store still reads")
}

// TestLayout: one object per segment, under segments/<shard>/, holding the
// segment bytes exactly.
func TestLayout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := testbackend.S3(t)
	s := newStore(t, b)
	payloads := []quarantine.Payload{{Value: []byte("hello")}, {Value: nil, Headers: []record.Header{{Key: "k", Value: []byte("v")}}}}
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	for _, name := range names {
		_, err := s.WriteSegment(ctx, name, payloads)
		require.NoError(t, err)
	}
	want, _, err := quarantine.EncodeSegment(payloads)
	require.NoError(t, err)

	c := b.Client(t)
	var keys []string
	shards := map[string]bool{}
	for obj := range c.ListObjects(ctx, b.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		require.NoError(t, obj.Err)
		keys = append(keys, obj.Key)
		parts := strings.Split(obj.Key, "/")
		require.Len(t, parts, 3, obj.Key)
		require.Equal(t, "segments", parts[0])
		require.Regexp(t, `^[0-9a-f]{2}$`, parts[1])
		shards[parts[1]] = true
		require.Equal(t, s3.ObjectKey(parts[2]), obj.Key)
	}
	require.Len(t, keys, len(names), "one object per segment")
	require.Greater(t, len(shards), 1, "names spread over shards")

	obj, err := c.GetObject(ctx, b.Bucket, s3.ObjectKey("a"), minio.GetObjectOptions{})
	require.NoError(t, err)
	defer obj.Close()
	got, err := io.ReadAll(obj)
	require.NoError(t, err)
	require.Equal(t, want, got, "the object is the encoded segment, byte for byte")
}

// TestRangeReads: a segment of many payloads, each read with its own ranged
// GET, and a segment rewritten identically keeps every ref valid.
func TestRangeReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t, testbackend.S3(t))
	payloads := make([]quarantine.Payload, 2000)
	for i := range payloads {
		payloads[i] = quarantine.Payload{
			Value:   bytes.Repeat([]byte{byte(i)}, i%700),
			Headers: []record.Header{{Key: "n", Value: []byte(fmt.Sprint(i))}},
		}
	}
	refs, err := s.WriteSegment(ctx, "many", payloads)
	require.NoError(t, err)
	again, err := s.WriteSegment(ctx, "many", payloads)
	require.NoError(t, err)
	require.Equal(t, refs, again, "a redelivered batch gets the same refs")
	for i := len(refs) - 1; i >= 0; i -= 7 { // every 7th, from the end
		got, err := s.Read(ctx, refs[i])
		require.NoError(t, err, "payload %d", i)
		if len(payloads[i].Value) == 0 {
			require.Empty(t, got.Value)
			got.Value = payloads[i].Value
		}
		require.Equal(t, payloads[i], got, "payload %d", i)
	}
}

func TestCorruptObject(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := testbackend.S3(t)
	s := newStore(t, b)
	refs, err := s.WriteSegment(ctx, "seg", []quarantine.Payload{{Value: []byte("hello")}, {Value: []byte("world")}})
	require.NoError(t, err)
	// The object is damaged behind the store's back: a bit flips.
	data, _, err := quarantine.EncodeSegment([]quarantine.Payload{{Value: []byte("hello")}, {Value: []byte("world")}})
	require.NoError(t, err)
	data[refs[1].Offset+6] ^= 0x20
	_, err = b.Client(t).PutObject(ctx, b.Bucket, s3.ObjectKey("seg"), bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
	require.NoError(t, err)

	got, err := s.Read(ctx, refs[0])
	require.NoError(t, err, "the undamaged frame still reads")
	require.Equal(t, []byte("hello"), got.Value)
	_, err = s.Read(ctx, refs[1])
	require.ErrorIs(t, err, quarantine.ErrCorrupt)
}

func TestClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := s3.New(ctx, options(testbackend.S3(t)))
	require.NoError(t, err)
	refs, err := s.WriteSegment(ctx, "seg", []quarantine.Payload{{Value: []byte("x")}})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
	_, err = s.WriteSegment(ctx, "seg2", nil)
	require.Error(t, err)
	_, err = s.Read(ctx, refs[0])
	require.Error(t, err)
}

// TestServerDown: with the service gone, writes and reads fail (soon: the
// caller spools), and work again once it is back.
func TestServerDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testbackend.NewMinIOServer(t)
	s := newStore(t, srv.Bucket(t))
	refs, err := s.WriteSegment(ctx, "before", []quarantine.Payload{{Value: []byte("x")}})
	require.NoError(t, err)
	require.NoError(t, srv.Stop())
	start := time.Now()
	_, err = s.WriteSegment(ctx, "during", []quarantine.Payload{{Value: []byte("y")}})
	require.Error(t, err)
	t.Logf("a write with the server down failed after %s: %v", time.Since(start), err)
	_, err = s.Read(ctx, refs[0])
	require.Error(t, err)
	require.NotErrorIs(t, err, quarantine.ErrNotFound, "an outage is not a missing payload")
	require.NoError(t, srv.Start())
	got, err := s.Read(ctx, refs[0])
	require.NoError(t, err)
	require.Equal(t, []byte("x"), got.Value)
	_, err = s.WriteSegment(ctx, "after", []quarantine.Payload{{Value: []byte("z")}})
	require.NoError(t, err)
}
