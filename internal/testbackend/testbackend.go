package testbackend

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// Main runs the tests of m, then stops the shared servers they started and
// removes their files, then, if everything passed, runs checks (such as
// goleak.Find) in order, and exits with the result. Use it as the whole body
// of TestMain.
func Main(m *testing.M, checks ...func() error) {
	code := m.Run()
	if err := stopShared(); err != nil {
		fmt.Fprintln(os.Stderr, "testbackend:", err)
		if code == 0 {
			code = 1
		}
	}
	if code == 0 {
		for _, check := range checks {
			if err := check(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				code = 1
				break
			}
		}
	}
	os.Exit(code)
}

// shared holds what stopShared undoes, in reverse order of registration.
var shared struct {
	mu    sync.Mutex
	stops []func() error
}

func registerShared(stop func() error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.stops = append(shared.stops, stop)
}

func stopShared() error {
	shared.mu.Lock()
	stops := shared.stops
	shared.stops = nil
	shared.mu.Unlock()
	var errs []error
	for i := len(stops) - 1; i >= 0; i-- {
		errs = append(errs, stops[i]())
	}
	return errors.Join(errs...)
}

// unavailableError means a backend is neither installed nor configured: the
// test is skipped, or fails under CI=true.
type unavailableError struct{ msg string }

func (e *unavailableError) Error() string { return e.msg }

// mustHave stops t when a backend could not be had: err is an
// unavailableError (skip, or fail under CI) or a failure to start (fail).
func mustHave(t testing.TB, what string, err error) {
	t.Helper()
	var ue *unavailableError
	switch {
	case err == nil:
	case errors.As(err, &ue):
		Need(t, what, ue)
	default:
		t.Fatalf("testbackend: starting %s: %v", what, err)
	}
}

// Need stops t when something it needs is not installed: missing is nil
// when it is there, else it says what is missing and how to get it. t is
// skipped, or failed when CI=true: CI must never pass by skipping. Every
// test that depends on a tool, a server or files outside the module goes
// through Need (or Command), so that rule lives in one place.
func Need(t testing.TB, what string, missing error) {
	t.Helper()
	if missing == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("testbackend: %s is unavailable and CI=true, so this fails instead of skipping: %v", what, missing)
		return
	}
	t.Skipf("testbackend: %s is unavailable, skipping: %v", what, missing)
}

// Command returns the path of the first of names found in $PATH. When none
// is, t stops as Need says, with hint saying how to install it.
func Command(t testing.TB, hint string, names ...string) string {
	t.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Need(t, strings.Join(names, " or "), fmt.Errorf("not found in $PATH; %s", hint))
	return ""
}

// randomHex returns n random bytes, hex encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago. The
// server started on it may still lose a race for it; callers retry.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close() //nolint:errcheck // only probed for its port
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tempPrefix starts the name of every directory this package creates in the
// system temporary directory: dq-testbackend-<kind>-<pid>-<random>.
const tempPrefix = "dq-testbackend-"

var removeStaleOnce sync.Once

// makeTempDir creates this process's directory for one server, after
// removing directories left by test binaries that died without cleaning up.
func makeTempDir(kind string) (string, error) {
	removeStaleOnce.Do(removeStaleDirs)
	return os.MkdirTemp("", fmt.Sprintf("%s%s-%d-", tempPrefix, kind, os.Getpid()))
}

// removeStaleDirs deletes the temporary directories of processes that no
// longer exist (their servers died with them: see startProcess).
func removeStaleDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, dir := range dirs {
		parts := strings.Split(strings.TrimPrefix(filepath.Base(dir), tempPrefix), "-")
		if len(parts) < 3 {
			continue
		}
		pid, err := strconv.Atoi(parts[1])
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(dir)
		}
	}
}

// process is a server running as a child of the test binary.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	waitErr error // set before exited is closed
}

// startProcess starts cmd with its output appended to logPath. The child
// gets deathSig when the test binary dies, however it dies, so a killed or
// timed-out test run leaves no server behind.
func startProcess(name string, cmd *exec.Cmd, logPath string, deathSig syscall.Signal) (*process, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening %s log: %w", name, err)
	}
	defer logf.Close() //nolint:errcheck // the child holds its own descriptor
	cmd.Stdout, cmd.Stderr = logf, logf
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = deathSig
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// running reports whether the process has not exited yet.
func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop sends sig and waits for the process to exit, killing it after
// timeout.
func (p *process) stop(sig syscall.Signal, timeout time.Duration) error {
	if !p.running() {
		return nil
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signalling %s: %w", p.name, err)
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("%s did not stop within %s and was killed", p.name, timeout)
	}
}

// waitServing waits until check passes against the process just started:
// it gives up at once when the process exits, and after a minute stops the
// process with sig.
func (p *process) waitServing(sig syscall.Signal, check func() error) error {
	err := testwait.Until(time.Minute, func() error {
		if !p.running() {
			return testwait.Stop(p.exitedError())
		}
		return check()
	})
	if err != nil && p.running() {
		_ = p.stop(sig, 10*time.Second)
		return fmt.Errorf("not serving after a minute: %w\n%s", err, logTail(p.logPath))
	}
	return err
}

// exitedError describes a process that exited while it was expected to
// serve, with the end of its log.
func (p *process) exitedError() error {
	status := p.waitErr
	if status == nil {
		status = errors.New("exit status 0")
	}
	return fmt.Errorf("%s exited (%w); end of its log %s:\n%s", p.name, status, p.logPath, logTail(p.logPath))
}

// logTail returns the last few lines of a log file.
func logTail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	const max = 2048
	if len(data) > max {
		data = data[len(data)-max:]
	}
	return string(data)
}

// repoRoot returns the directory of the module's go.mod, searching upwards
// from the working directory (a package directory, under go test).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
