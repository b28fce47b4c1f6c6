// Package s3 is the production payload store: one object per segment in an
// S3 bucket (AWS S3, MinIO, or any S3-compatible service), through
// minio-go v7.
//
// Layout: segments/<shard>/<segment name>, where shard is the same two hex
// digits the fs store derives from the name, so a segment directory copied
// from the fs store (the spool) maps key for key. The object body is the
// segment exactly as quarantine.EncodeSegment writes it, so every
// PayloadRef's byte range means the same in either store, and a Read is one
// ranged GET of exactly those bytes.
//
// An object is written with one PUT, which S3 makes visible atomically:
// readers see the old segment or the new one, never a mix, and a re-written
// batch (the same name) replaces its object instead of adding one.
//
// Credentials never appear in errors: minio-go's errors carry none, and
// every error this package returns is checked for both keys and redacted
// should one ever do.
//
// The service's outages (5xx and throttling answers, or no answer at all)
// are marked with retry.ErrUnavailable, so the spool takes the segment
// while the service is down; a refusal (access denied, no such bucket) is
// returned as it is.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/retry"
)

// Options configure a Store.
type Options struct {
	// Endpoint is the service's host[:port], without a scheme:
	// "minio:9000", "s3.eu-west-1.amazonaws.com". Required.
	Endpoint string
	// Bucket holds the segments. Required.
	Bucket string
	// AccessKey and SecretKey are the credentials. Default "": anonymous
	// requests.
	AccessKey string
	SecretKey string
	// Secure selects HTTPS. Default false: plain HTTP.
	Secure bool
	// Region is the bucket's region. Default "": asked of the service, and
	// us-east-1 for a bucket New creates.
	Region string
	// CreateBucket says whether New creates Bucket when it does not exist.
	// Default (nil) true; new(false) to require an existing bucket.
	CreateBucket *bool
	// MaxAttempts bounds the attempts of one request, retried with backoff
	// on network errors and throttling. Default 3: an outage is reported
	// within a few seconds, for the caller to spool, rather than retried
	// for long here.
	MaxAttempts int
}

// Store is a quarantine.PayloadStore in an S3 bucket.
type Store struct {
	core      minio.Core
	transport *http.Transport
	bucket    string
	endpoint  string
	// The credentials, only to redact them from errors.
	accessKey, secretKey string
	closed               atomic.Bool
}

var _ quarantine.PayloadStore = (*Store)(nil)

var errClosed = errors.New("s3 payload store is closed")

// New connects to the service and checks the bucket, creating it if it is
// missing and Options.CreateBucket allows. Bad credentials fail here.
func New(ctx context.Context, opts Options) (*Store, error) {
	switch {
	case opts.Endpoint == "":
		return nil, errors.New("s3 payload store: Options.Endpoint is required")
	case strings.Contains(opts.Endpoint, "://"):
		return nil, fmt.Errorf("s3 payload store: Endpoint %q must be host[:port] without a scheme (set Secure for HTTPS)", opts.Endpoint)
	case opts.Bucket == "":
		return nil, errors.New("s3 payload store: Options.Bucket is required")
	}
	if err := s3utils.CheckValidBucketNameStrict(opts.Bucket); err != nil {
		return nil, fmt.Errorf("s3 payload store: bucket %q: %w", opts.Bucket, err)
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 3
	}
	create := opts.CreateBucket == nil || *opts.CreateBucket

	tr, err := minio.DefaultTransport(opts.Secure)
	if err != nil {
		return nil, fmt.Errorf("s3 payload store: making the HTTP transport: %w", err)
	}
	s := &Store{
		transport: tr, bucket: opts.Bucket, endpoint: opts.Endpoint,
		accessKey: opts.AccessKey, secretKey: opts.SecretKey,
	}
	client, err := minio.New(opts.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(opts.AccessKey, opts.SecretKey, ""),
		Secure:     opts.Secure,
		Region:     opts.Region,
		Transport:  tr,
		MaxRetries: opts.MaxAttempts,
	})
	if err != nil {
		return nil, s.backendErr(fmt.Errorf("s3 payload store: connecting to %s: %w", opts.Endpoint, err))
	}
	s.core = minio.Core{Client: client}
	if err := s.ensureBucket(ctx, opts.Region, create); err != nil {
		tr.CloseIdleConnections()
		return nil, err
	}
	return s, nil
}

func (s *Store) ensureBucket(ctx context.Context, region string, create bool) error {
	exists, err := s.core.BucketExists(ctx, s.bucket)
	if err != nil {
		return s.backendErr(fmt.Errorf("checking bucket %s at %s: %w", s.bucket, s.endpoint, err))
	}
	if exists {
		return nil
	}
	if !create {
		return fmt.Errorf("bucket %s does not exist at %s, and creating it is turned off", s.bucket, s.endpoint)
	}
	err = s.core.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region})
	if code := minio.ToErrorResponse(err).Code; code == minio.BucketAlreadyOwnedByYou || code == minio.BucketAlreadyExists {
		// Created meanwhile, by another process starting too; if by
		// someone else, the writes will say so.
		err = nil
	}
	if err != nil {
		return s.backendErr(fmt.Errorf("creating bucket %s at %s: %w", s.bucket, s.endpoint, err))
	}
	return nil
}

// ObjectKey is the key of the object holding segment name:
// segments/<shard>/<name>.
func ObjectKey(name string) string {
	h := fnv.New32a()
	_, _ = io.WriteString(h, name)
	return fmt.Sprintf("segments/%02x/%s", uint8(h.Sum32()), name)
}

// WriteSegment stores payloads as one object, PUT in one request, and returns
// once the service has acknowledged it (MinIO and S3 acknowledge a PUT once
// the object is durable). A segment of the same name is replaced.
func (s *Store) WriteSegment(ctx context.Context, name string, payloads []quarantine.Payload) ([]quarantine.PayloadRef, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	if err := quarantine.ValidateSegmentName(name); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("writing segment %s: %w", name, err)
	}
	data, refs, err := quarantine.EncodeSegment(payloads)
	if err != nil {
		return nil, fmt.Errorf("encoding segment %s: %w", name, err)
	}
	_, err = s.core.Client.PutObject(ctx, s.bucket, ObjectKey(name), bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return nil, s.backendErr(fmt.Errorf("writing segment %s to bucket %s: %w", name, s.bucket, err))
	}
	for i := range refs {
		refs[i].Segment = name
	}
	return refs, nil
}

// Read returns the payload at ref with one ranged GET of exactly its bytes.
// A segment that does not exist, or a range that lies outside it, is
// quarantine.ErrNotFound; a range inside it that does not decode is
// quarantine.ErrCorrupt.
func (s *Store) Read(ctx context.Context, ref quarantine.PayloadRef) (quarantine.Payload, error) {
	buf, err := s.readRange(ctx, ref, ref.Length)
	if err != nil {
		return quarantine.Payload{}, err
	}
	p, err := quarantine.DecodeFrame(buf)
	if err != nil {
		return quarantine.Payload{}, fmt.Errorf("segment %s at %d: %w", ref.Segment, ref.Offset, err)
	}
	return p, nil
}

// Preview returns the first n bytes of the value at ref with one ranged
// GET of the start of its frame; errors as Read.
func (s *Store) Preview(ctx context.Context, ref quarantine.PayloadRef, n int) (quarantine.Preview, error) {
	buf, err := s.readRange(ctx, ref, quarantine.PreviewLen(ref, n))
	if err != nil {
		return quarantine.Preview{}, err
	}
	p, err := quarantine.DecodePreview(buf, ref, n)
	if err != nil {
		return quarantine.Preview{}, fmt.Errorf("segment %s at %d: %w", ref.Segment, ref.Offset, err)
	}
	return p, nil
}

// readRange reads the first length bytes of ref's range with one ranged
// GET, after checking that the whole range lies inside its object.
func (s *Store) readRange(ctx context.Context, ref quarantine.PayloadRef, length int64) ([]byte, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("reading segment %s: %w", ref.Segment, err)
	}
	if quarantine.ValidateSegmentName(ref.Segment) != nil {
		return nil, fmt.Errorf("segment %q: %w", ref.Segment, quarantine.ErrNotFound)
	}
	outside := fmt.Errorf("range [%d, +%d) outside segment %s: %w", ref.Offset, ref.Length, ref.Segment, quarantine.ErrNotFound)
	if ref.Offset < 0 || ref.Length <= 0 || ref.Length > math.MaxInt64-ref.Offset || length <= 0 || length > ref.Length {
		return nil, outside
	}
	var opts minio.GetObjectOptions
	if err := opts.SetRange(ref.Offset, ref.Offset+length-1); err != nil {
		return nil, outside
	}
	body, info, header, err := s.core.GetObject(ctx, s.bucket, ObjectKey(ref.Segment), opts)
	if err != nil {
		switch minio.ToErrorResponse(err).Code {
		case minio.NoSuchKey:
			return nil, fmt.Errorf("segment %s: %w", ref.Segment, quarantine.ErrNotFound)
		case "InvalidRange": // the range starts past the end
			return nil, outside
		}
		return nil, s.backendErr(fmt.Errorf("reading segment %s from bucket %s: %w", ref.Segment, s.bucket, err))
	}
	defer body.Close() //nolint:errcheck // read-only: a close error loses nothing
	// A range running past the end comes back shortened; a service that
	// ignores ranges sends the whole object. Either way these are not the
	// ref's bytes. Checked before allocating: the length is the caller's.
	if info.Size != length {
		return nil, outside
	}
	contentRange := header.Get("Content-Range")
	if contentRange == "" && ref.Offset != 0 {
		return nil, fmt.Errorf("reading segment %s from bucket %s: the service ignored the byte range", ref.Segment, s.bucket)
	}
	// Reading a part of the range, the rest must be in the object too:
	// Content-Range names the object's size ("bytes 8-57/4096").
	if length < ref.Length {
		total, ok := rangeTotal(contentRange)
		if !ok {
			return nil, fmt.Errorf("reading segment %s from bucket %s: no object size in Content-Range %q", ref.Segment, s.bucket, contentRange)
		}
		if ref.Offset+ref.Length > total {
			return nil, outside
		}
	}
	buf := make([]byte, length)
	if _, err := io.ReadFull(body, buf); err != nil {
		return nil, s.backendErr(fmt.Errorf("reading segment %s from bucket %s: %w", ref.Segment, s.bucket, err))
	}
	return buf, nil
}

// rangeTotal reads the complete length of a Content-Range header
// ("bytes 0-99/1234"); an unknown length ("*") is not ok.
func rangeTotal(h string) (int64, bool) {
	_, total, ok := strings.Cut(h, "/")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(total, 10, 64)
	return n, err == nil && n >= 0
}

// Close marks the store closed and closes its idle connections.
func (s *Store) Close() error {
	if !s.closed.Swap(true) {
		s.transport.CloseIdleConnections()
	}
	return nil
}

// backendErr returns err, an error of the S3 service or of the way to it,
// marked with retry.ErrUnavailable when it is an outage (see outage), with
// the credentials redacted.
func (s *Store) backendErr(err error) error {
	down := outage(err)
	err = s.redact(err)
	if down {
		err = retry.Unavailable(err)
	}
	return err
}

// outage reports whether err is one the same request may survive later:
// the service's 5xx and throttling answers (codes SlowDown,
// ServiceUnavailable, InternalError, RequestTimeout, or a status of 500 and
// up, or 429), or no answer at all (the HTTP transport's *url.Error, a
// network error). A refusal, such as AccessDenied or NoSuchBucket, is not.
func outage(err error) bool {
	var s3Err minio.ErrorResponse
	if errors.As(err, &s3Err) {
		switch s3Err.Code {
		case "SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout":
			return true
		}
		return s3Err.StatusCode >= 500 || s3Err.StatusCode == http.StatusTooManyRequests
	}
	var urlErr *url.Error
	var netErr net.Error
	return errors.As(err, &urlErr) || errors.As(err, &netErr)
}

// redact returns err with the credentials replaced, should its message ever
// contain them. The result still matches context.Canceled and
// context.DeadlineExceeded with errors.Is, the only causes callers branch on.
func (s *Store) redact(err error) error {
	msg := err.Error()
	clean := msg
	for _, secret := range []string{s.secretKey, s.accessKey} {
		if len(secret) >= 3 {
			clean = strings.ReplaceAll(clean, secret, "[REDACTED]")
		}
	}
	if clean == msg {
		return err
	}
	r := &redactedError{msg: clean}
	switch {
	case errors.Is(err, context.Canceled):
		r.cause = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		r.cause = context.DeadlineExceeded
	}
	return r
}

// redactedError is an error whose message had credentials removed. It
// unwraps to no more than a context error: the original, unredacted error
// is dropped, so no %+v or errors.As can bring the secret back.
type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }
