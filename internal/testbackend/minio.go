package testbackend

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// The environment naming an existing S3 service to test against instead of
// starting MinIO.
const (
	EnvS3Endpoint  = "DQ_TEST_S3_ENDPOINT" // host:port
	EnvS3AccessKey = "DQ_TEST_S3_ACCESS_KEY"
	EnvS3SecretKey = "DQ_TEST_S3_SECRET_KEY" //nolint:gosec // the name of a variable, not a credential
	EnvS3Secure    = "DQ_TEST_S3_SECURE"     // "true" for HTTPS
	EnvS3Region    = "DQ_TEST_S3_REGION"
)

const minioMissing = "no minio binary in $PATH or <repo>/bin/tools/minio, and " + EnvS3Endpoint +
	" is unset. `make deps` (or `make test`) builds it: scripts/test-deps.sh runs " +
	"`go install github.com/minio/minio@$MINIO_VERSION` into bin/tools, with the version pinned in the " +
	"Makefile (20 to 40 minutes on a busy 2-core machine, once), or set " +
	EnvS3Endpoint + "=host:port with " + EnvS3AccessKey + " and " + EnvS3SecretKey

// S3Bucket is where a test keeps its objects: an S3 endpoint, credentials,
// and a bucket name private to the test. The bucket does not exist yet
// (creating it is the code under test's job); it is emptied and removed when
// the test ends.
type S3Bucket struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string
	Secure    bool
	Region    string // "" for the server's default
	Bucket    string
}

// Client returns a minio-go client for b's endpoint, for checking what the
// code under test stored. Its connections are closed when t ends.
func (b S3Bucket) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, tr, err := newMinIOClient(b.Endpoint, b.AccessKey, b.SecretKey, b.Secure, b.Region)
	if err != nil {
		t.Fatalf("testbackend: %v", err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return c
}

// ServerClock returns the clock b's server stamps objects with, for tests
// of what is done by an object's age: a server's clock cannot be injected,
// so such a test reads it and waits for it to move. The bucket must exist.
func (b S3Bucket) ServerClock(t testing.TB) *S3Clock {
	t.Helper()
	return &S3Clock{bucket: b.Bucket, client: b.Client(t)}
}

// S3Clock is the clock of an S3 server, as its listings show objects'
// LastModified times. It implements quarantinetest.SegmentClock.
type S3Clock struct {
	bucket string
	client *minio.Client
}

// clockProbe is the object S3Clock writes to read the server's clock.
const clockProbe = "testbackend-clock/probe"

// Now returns the time the server stamps an object written now with: it
// writes a probe object and lists it.
func (c *S3Clock) Now(t testing.TB) time.Time {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.client.PutObject(ctx, c.bucket, clockProbe, strings.NewReader(""), 0, minio.PutObjectOptions{}); err != nil {
		t.Fatalf("testbackend: writing the clock probe: %v", err)
	}
	for obj := range c.client.ListObjects(ctx, c.bucket, minio.ListObjectsOptions{Prefix: clockProbe}) {
		if obj.Err != nil {
			t.Fatalf("testbackend: listing the clock probe: %v", obj.Err)
		}
		if obj.Key == clockProbe {
			return obj.LastModified
		}
	}
	t.Fatalf("testbackend: the clock probe %s is not listed", clockProbe)
	return time.Time{}
}

// Tick returns once the server stamps objects later than every object
// written before the call, as its listings show them: a few milliseconds
// for MinIO, up to a second for a server that lists whole seconds.
func (c *S3Clock) Tick(t testing.TB) {
	t.Helper()
	start := c.Now(t)
	testwait.For(t, 10*time.Second, "the S3 server's clock to move on", func() error {
		if now := c.Now(t); !now.After(start) {
			return fmt.Errorf("it still reads %v", now)
		}
		return nil
	})
}

var sharedMinIO struct {
	once sync.Once
	srv  *MinIOServer
	err  error
}

// S3 returns a bucket name private to t on the S3 server shared by the test
// binary, with the server's address and credentials.
func S3(t testing.TB) S3Bucket {
	t.Helper()
	return SharedMinIO(t).Bucket(t)
}

// SharedMinIO returns the S3 server shared by the test binary, starting it
// on first use; t is skipped (or failed, under CI=true) when there is none.
func SharedMinIO(t testing.TB) *MinIOServer {
	t.Helper()
	sharedMinIO.once.Do(func() {
		sharedMinIO.srv, sharedMinIO.err = openSharedMinIO()
		if sharedMinIO.err == nil {
			registerShared(sharedMinIO.srv.close)
		}
	})
	mustHave(t, "MinIO", sharedMinIO.err)
	return sharedMinIO.srv
}

func openSharedMinIO() (*MinIOServer, error) {
	endpoint := os.Getenv(EnvS3Endpoint)
	if endpoint == "" {
		return startMinIO()
	}
	s := &MinIOServer{
		endpoint:  endpoint,
		accessKey: os.Getenv(EnvS3AccessKey),
		secretKey: os.Getenv(EnvS3SecretKey),
		secure:    os.Getenv(EnvS3Secure) == "true",
		region:    os.Getenv(EnvS3Region),
	}
	if err := s.connect(); err != nil {
		return nil, err
	}
	if err := s.probe(); err != nil {
		_ = s.close()
		return nil, fmt.Errorf("listing buckets at %s=%s: %w", EnvS3Endpoint, endpoint, err)
	}
	return s, nil
}

// NewMinIOServer starts a MinIO server for t alone, for tests that stop and
// restart it; it is removed when t ends. It never uses DQ_TEST_S3_ENDPOINT.
func NewMinIOServer(t testing.TB) *MinIOServer {
	t.Helper()
	s, err := startMinIO()
	mustHave(t, "MinIO", err)
	t.Cleanup(func() {
		if err := s.close(); err != nil {
			t.Errorf("testbackend: %v", err)
		}
	})
	return s
}

// MinIOServer is an S3 server for tests: a MinIO this package started, or
// the service DQ_TEST_S3_ENDPOINT names.
type MinIOServer struct {
	endpoint, accessKey, secretKey, region string
	secure                                 bool

	// Only for a server started here.
	bin, dir string
	port     int

	mu        sync.Mutex
	proc      *process
	client    *minio.Client // for removing test buckets
	transport *http.Transport
}

// Bucket returns a new bucket name private to t on s; see S3Bucket.
func (s *MinIOServer) Bucket(t testing.TB) S3Bucket {
	t.Helper()
	b := S3Bucket{
		Endpoint: s.endpoint, AccessKey: s.accessKey, SecretKey: s.secretKey,
		Secure: s.secure, Region: s.region,
		Bucket: "dq-test-" + randomHex(8),
	}
	t.Cleanup(func() {
		if err := s.removeBucket(b.Bucket); err != nil {
			t.Logf("testbackend: removing bucket %s: %v", b.Bucket, err)
		}
	})
	return b
}

func (s *MinIOServer) removeBucket(bucket string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	exists, err := s.client.BucketExists(ctx, bucket)
	if err != nil || !exists {
		return err // not existing: the test never created it
	}
	var listErr error
	objects := make(chan minio.ObjectInfo)
	go func() {
		defer close(objects)
		for obj := range s.client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
			if obj.Err != nil {
				listErr = obj.Err
				return
			}
			select {
			case objects <- obj:
			case <-ctx.Done():
				return
			}
		}
	}()
	for res := range s.client.RemoveObjects(ctx, bucket, objects, minio.RemoveObjectsOptions{}) {
		if res.Err != nil {
			err = errors.Join(err, fmt.Errorf("removing object %s: %w", res.ObjectName, res.Err))
		}
	}
	if err = errors.Join(err, listErr); err != nil {
		return err
	}
	return s.client.RemoveBucket(ctx, bucket)
}

// Stop shuts the server down. Only for a server from NewMinIOServer.
func (s *MinIOServer) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir == "" {
		return errors.New("cannot stop an S3 server this package did not start")
	}
	if s.proc == nil {
		return nil
	}
	err := s.proc.stop(syscall.SIGTERM, time.Minute)
	s.proc = nil
	return err
}

// Start starts a stopped server again, on the same port with the same data.
func (s *MinIOServer) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir == "" {
		return errors.New("cannot start an S3 server this package did not start")
	}
	if s.proc != nil && s.proc.running() {
		return nil
	}
	return s.startLocked()
}

func (s *MinIOServer) connect() error {
	var err error
	s.client, s.transport, err = newMinIOClient(s.endpoint, s.accessKey, s.secretKey, s.secure, s.region)
	return err
}

func newMinIOClient(endpoint, accessKey, secretKey string, secure bool, region string) (*minio.Client, *http.Transport, error) {
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, nil, fmt.Errorf("making an S3 transport: %w", err)
	}
	c, err := minio.New(endpoint, &minio.Options{
		Creds:     credentials.NewStaticV4(accessKey, secretKey, ""),
		Secure:    secure,
		Region:    region,
		Transport: tr,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("making an S3 client for %s: %w", endpoint, err)
	}
	return c, tr, nil
}

// close stops a server started here and removes its files.
func (s *MinIOServer) close() error {
	var err error
	if s.dir != "" {
		err = s.Stop()
		if rmErr := os.RemoveAll(s.dir); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("removing MinIO dir: %w", rmErr))
		}
	}
	if s.transport != nil {
		s.transport.CloseIdleConnections()
	}
	return err
}

// findMinIO returns the minio binary: $PATH, then <repo>/bin/tools/minio.
func findMinIO() (string, error) {
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	if root, err := repoRoot(); err == nil {
		p := filepath.Join(root, "bin", "tools", "minio")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", &unavailableError{minioMissing}
}

func startMinIO() (_ *MinIOServer, err error) {
	bin, err := findMinIO()
	if err != nil {
		return nil, err
	}
	s := &MinIOServer{
		bin:       bin,
		accessKey: "dq" + randomHex(8),
		secretKey: randomHex(20),
	}
	if s.dir, err = makeTempDir("minio"); err != nil {
		return nil, fmt.Errorf("creating MinIO dir: %w", err)
	}
	defer func() {
		if err != nil {
			_ = s.close()
		}
	}()
	for attempt := 0; ; attempt++ {
		if s.port, err = freePort(); err != nil {
			return nil, err
		}
		s.endpoint = "127.0.0.1:" + strconv.Itoa(s.port)
		if s.transport != nil {
			s.transport.CloseIdleConnections()
		}
		if err = s.connect(); err != nil {
			return nil, err
		}
		s.mu.Lock()
		err = s.startLocked()
		s.mu.Unlock()
		if err == nil || attempt == 3 || !strings.Contains(err.Error(), "already in use") {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// probe makes one authenticated S3 call.
func (s *MinIOServer) probe() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := s.client.ListBuckets(ctx)
	return err
}

// startLocked starts the server process on s.port and waits until it is
// live. s.mu is held.
func (s *MinIOServer) startLocked() error {
	consolePort, err := freePort()
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, "server", "--quiet", //nolint:gosec // the binary findMinIO found, our own arguments
		"--address", s.endpoint,
		"--console-address", "127.0.0.1:"+strconv.Itoa(consolePort),
		"--certs-dir", filepath.Join(s.dir, "certs"),
		filepath.Join(s.dir, "data"))
	cmd.Dir = s.dir
	env := make([]string, 0, len(os.Environ())+4)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MINIO_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"MINIO_ROOT_USER="+s.accessKey,
		"MINIO_ROOT_PASSWORD="+s.secretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
	)
	cmd.Env = env
	proc, err := startProcess("minio", cmd, filepath.Join(s.dir, "minio.log"), syscall.SIGKILL)
	if err != nil {
		return err
	}
	live := "http://" + s.endpoint + "/minio/health/live"
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	err = proc.waitServing(syscall.SIGKILL, func() error {
		resp, err := client.Get(live)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", live, resp.Status)
		}
		// Live is not yet serving: S3 calls answer "Server not
		// initialized yet" for a moment longer.
		return s.probe()
	})
	if err != nil {
		return fmt.Errorf("minio on %s: %w", s.endpoint, err)
	}
	s.proc = proc
	return nil
}
