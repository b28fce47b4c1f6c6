package testbackend

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvPostgresURL names an existing PostgreSQL to test against instead of
// starting one.
const EnvPostgresURL = "DQ_TEST_POSTGRES_URL"

const postgresMissing = "no initdb and postgres found in /usr/lib/postgresql/*/bin or $PATH, and " +
	EnvPostgresURL + " is unset. `make test` installs Debian's postgresql package " +
	"(scripts/test-deps.sh), or set " + EnvPostgresURL + "=postgres://user:password@host:5432/db " +
	"(a role that may CREATE SCHEMA there)"

var sharedPostgres struct {
	once sync.Once
	srv  *PostgresServer
	err  error
}

// Postgres returns the URL of a new, empty schema, private to t, on the
// PostgreSQL server shared by the test binary: the URL sets search_path to
// the schema, so unqualified tables are created and found there. The schema
// is dropped when t ends (after t's own cleanups, which must close its
// connections).
func Postgres(t testing.TB) string {
	t.Helper()
	return SharedPostgres(t).NewSchema(t)
}

// SharedPostgres returns the PostgreSQL server shared by the test binary,
// starting it on first use; t is skipped (or failed, under CI=true) when
// there is none.
func SharedPostgres(t testing.TB) *PostgresServer {
	t.Helper()
	sharedPostgres.once.Do(func() {
		sharedPostgres.srv, sharedPostgres.err = openSharedPostgres()
		if sharedPostgres.err == nil {
			registerShared(sharedPostgres.srv.close)
		}
	})
	mustHave(t, "PostgreSQL", sharedPostgres.err)
	return sharedPostgres.srv
}

func openSharedPostgres() (*PostgresServer, error) {
	if u := os.Getenv(EnvPostgresURL); u != "" {
		s := &PostgresServer{adminURL: u}
		if _, err := withSearchPath(u, "public"); err != nil {
			return nil, fmt.Errorf("%s: %w", EnvPostgresURL, err)
		}
		if err := s.ping(context.Background()); err != nil {
			return nil, fmt.Errorf("connecting to %s: %w", EnvPostgresURL, err)
		}
		return s, nil
	}
	return startPostgres()
}

// NewPostgresServer starts a throwaway PostgreSQL cluster for t alone, for
// tests that stop and restart it; it is removed when t ends. It never uses
// DQ_TEST_POSTGRES_URL, which names a server tests must not stop.
func NewPostgresServer(t testing.TB) *PostgresServer {
	t.Helper()
	s, err := startPostgres()
	mustHave(t, "PostgreSQL", err)
	t.Cleanup(func() {
		if err := s.close(); err != nil {
			t.Errorf("testbackend: %v", err)
		}
	})
	return s
}

// PostgresServer is a PostgreSQL server for tests: a cluster this package
// started, or the one DQ_TEST_POSTGRES_URL names.
type PostgresServer struct {
	adminURL string // a superuser (or schema creator) in its database

	// Only for a cluster started here.
	dir, binDir, dataDir string
	port                 int
	cred                 *syscall.Credential // as root: the postgres user

	mu   sync.Mutex
	proc *process
	pool *pgxpool.Pool // for creating and dropping schemas
}

// URL returns the server's administrative URL (its own database, no
// search_path): for tests that inspect the server itself.
func (s *PostgresServer) URL() string { return s.adminURL }

// NewSchema creates an empty schema private to t and returns a URL whose
// search_path is that schema. The schema is dropped when t ends.
func (s *PostgresServer) NewSchema(t testing.TB) string {
	t.Helper()
	name := "t_" + randomHex(8)
	u, err := withSearchPath(s.adminURL, name)
	if err != nil {
		t.Fatalf("testbackend: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := s.admin(ctx)
	if err == nil {
		_, err = pool.Exec(ctx, "CREATE SCHEMA "+name)
	}
	if err != nil {
		t.Fatalf("testbackend: creating schema %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// Simple protocol (no arguments): both statements in one call.
		if _, err := pool.Exec(ctx, "SET lock_timeout = '20s'; DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Logf("testbackend: dropping schema %s: %v", name, err)
		}
	})
	return u
}

// Stop shuts the server down (a fast shutdown: sessions are disconnected,
// committed data is kept). Only for a server from NewPostgresServer.
func (s *PostgresServer) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir == "" {
		return errors.New("cannot stop a PostgreSQL this package did not start")
	}
	if s.proc == nil {
		return nil
	}
	err := s.proc.stop(syscall.SIGINT, time.Minute)
	s.proc = nil
	return err
}

// Start starts a stopped server again, on the same port with the same data.
func (s *PostgresServer) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir == "" {
		return errors.New("cannot start a PostgreSQL this package did not start")
	}
	if s.proc != nil && s.proc.running() {
		return nil
	}
	return s.startLocked()
}

func (s *PostgresServer) admin(ctx context.Context) (*pgxpool.Pool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pool != nil {
		return s.pool, nil
	}
	cfg, err := pgxpool.ParseConfig(s.adminURL)
	if err != nil {
		return nil, fmt.Errorf("parsing the admin URL: %w", err)
	}
	cfg.MaxConns = 4
	s.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	return s.pool, err
}

func (s *PostgresServer) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.adminURL)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// close stops a cluster started here and removes its files.
func (s *PostgresServer) close() error {
	s.mu.Lock()
	if s.pool != nil {
		s.pool.Close()
		s.pool = nil
	}
	s.mu.Unlock()
	if s.dir == "" {
		return nil
	}
	err := s.Stop()
	if rmErr := os.RemoveAll(s.dir); rmErr != nil {
		err = errors.Join(err, fmt.Errorf("removing PostgreSQL dir: %w", rmErr))
	}
	return err
}

// findPostgresBin returns the directory holding initdb and postgres: the
// newest /usr/lib/postgresql/<version>/bin (Debian's layout), else $PATH.
func findPostgresBin() (string, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	version := func(p string) int {
		v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
		return v
	}
	slices.SortFunc(matches, func(a, b string) int { return version(b) - version(a) })
	if p, err := exec.LookPath("initdb"); err == nil {
		matches = append(matches, p)
	}
	for _, initdb := range matches {
		dir := filepath.Dir(initdb)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	return "", &unavailableError{postgresMissing}
}

// startPostgres creates and starts a throwaway cluster.
func startPostgres() (_ *PostgresServer, err error) {
	binDir, err := findPostgresBin()
	if err != nil {
		return nil, err
	}
	s := &PostgresServer{binDir: binDir}
	uid, gid := -1, -1
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, &unavailableError{"running as root, the server must run as the postgres user, which does not exist: " + err.Error()}
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if s.dir, err = makeTempDir("pg"); err != nil {
		return nil, fmt.Errorf("creating PostgreSQL dir: %w", err)
	}
	defer func() {
		if err != nil {
			_ = s.close()
		}
	}()
	if s.cred != nil {
		if err := os.Chown(s.dir, uid, gid); err != nil {
			return nil, fmt.Errorf("giving the PostgreSQL dir to the postgres user: %w", err)
		}
	}
	s.dataDir = filepath.Join(s.dir, "data")

	password := randomHex(16)
	pwfile := filepath.Join(s.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("writing the password file: %w", err)
	}
	if s.cred != nil {
		if err := os.Chown(pwfile, uid, gid); err != nil {
			return nil, fmt.Errorf("giving the password file to the postgres user: %w", err)
		}
	}
	// Password (SCRAM) authentication over TCP; trust on the unix socket,
	// which is in a directory only the server's user can enter.
	initdb := exec.Command(filepath.Join(binDir, "initdb"), "-D", s.dataDir, "-U", "postgres", //nolint:gosec // the binary findPostgresBin found, our own arguments
		"--pwfile="+pwfile, "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C")
	initdb.Dir = s.dir
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGKILL}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb in %s: %w\n%s", s.dataDir, err, out)
	}
	_ = os.Remove(pwfile)

	// The port is chosen free, but another process may take it before the
	// server binds it: try a few.
	for attempt := 0; ; attempt++ {
		if s.port, err = freePort(); err != nil {
			return nil, err
		}
		s.adminURL = fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/postgres?sslmode=disable", password, s.port)
		s.mu.Lock()
		err = s.startLocked()
		s.mu.Unlock()
		if err == nil || attempt == 3 || !strings.Contains(err.Error(), "could not bind") {
			return s, err
		}
	}
}

// startLocked starts the server process on s.port and waits until it
// accepts connections. s.mu is held.
func (s *PostgresServer) startLocked() error {
	cmd := exec.Command(filepath.Join(s.binDir, "postgres"), "-D", s.dataDir, //nolint:gosec // as for initdb
		"-p", strconv.Itoa(s.port), "-k", s.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200")
	cmd.Dir = s.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	// SIGQUIT is an immediate shutdown: if the test binary dies, so does
	// the server, at once.
	proc, err := startProcess("postgres", cmd, filepath.Join(s.dir, "postgres.log"), syscall.SIGQUIT)
	if err != nil {
		return err
	}
	if err := proc.waitServing(syscall.SIGQUIT, func() error { return s.ping(context.Background()) }); err != nil {
		return fmt.Errorf("postgres on port %d: %w", s.port, err)
	}
	s.proc = proc
	return nil
}

// withSearchPath returns the postgres:// URL u with search_path set to
// schema.
func withSearchPath(u, schema string) (string, error) {
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "postgres" && pu.Scheme != "postgresql") {
		// Not echoed: it holds a password.
		return "", errors.New("the PostgreSQL URL must be a postgres:// URL")
	}
	q := pu.Query()
	q.Set("search_path", schema)
	pu.RawQuery = q.Encode()
	return pu.String(), nil
}
