package faulttest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/dataquarantine/dataquarantine/internal/testbackend"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// TestMain stops the shared backends, then checks that no goroutine (such as
// a child's waiter) outlived the tests.
func TestMain(m *testing.M) { testbackend.Main(m, func() error { return goleak.Find() }) }

// buildBinary builds cmd/dataquarantine into a directory of t's. The build
// cache makes every build after the first one a link.
func buildBinary(t testing.TB) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	require.NoError(t, err, "the go tool builds the binary under test")
	bin := filepath.Join(t.TempDir(), "dataquarantine")
	cmd := exec.Command(goBin, "build", "-o", bin, "../../cmd/dataquarantine")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// gateway is one `dataquarantine serve` child process.
type gateway struct {
	t       testing.TB
	name    string
	cmd     *exec.Cmd
	logPath string
	base    string // http://host:port
	exited  chan struct{}
	waitErr error // set before exited is closed
}

var httpLine = regexp.MustCompile(`(?m)^\s*HTTP\s+(http://\S+)`)

// startGateway runs bin serve with env (DQ_* settings; the test process's
// own DQ_* variables are not inherited), waits until it reports ready, and
// stops it when t ends if it still runs.
func startGateway(t testing.TB, bin, name string, env map[string]string) *gateway {
	t.Helper()
	g := &gateway{t: t, name: name, logPath: filepath.Join(t.TempDir(), name+".log"), exited: make(chan struct{})}
	logf, err := os.Create(g.logPath)
	require.NoError(t, err)
	defer logf.Close()
	g.cmd = exec.Command(bin, "serve")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DQ_") {
			g.cmd.Env = append(g.cmd.Env, kv)
		}
	}
	env["DQ_HTTP_LISTEN"] = "127.0.0.1:0"
	for k, v := range env {
		g.cmd.Env = append(g.cmd.Env, k+"="+v)
	}
	g.cmd.Stdout, g.cmd.Stderr = logf, logf
	g.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, g.cmd.Start())
	go func() {
		g.waitErr = g.cmd.Wait()
		close(g.exited)
	}()
	t.Cleanup(func() {
		if g.running() {
			_ = g.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-g.exited:
			case <-time.After(30 * time.Second):
				_ = g.cmd.Process.Kill()
				<-g.exited
			}
		}
		if t.Failed() {
			t.Logf("log of %s:\n%s", g.name, g.logTail(8192))
		}
	})

	testwait.For(t, 60*time.Second, name+" to print its HTTP address", func() error {
		require.True(t, g.running(), "%s exited before serving: %v\n%s", name, g.waitErr, g.logTail(4096))
		m := httpLine.FindSubmatch(g.log())
		if m == nil {
			return fmt.Errorf("not in its log yet:\n%s", g.logTail(4096))
		}
		g.base = string(m[1])
		return nil
	})
	testwait.For(t, 60*time.Second, name+" to be ready", func() error {
		require.True(t, g.running(), "%s exited before it was ready: %v\n%s", name, g.waitErr, g.logTail(4096))
		resp, err := http.Get(g.base + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz answers %s:\n%s", resp.Status, g.logTail(4096))
		}
		return nil
	})
	return g
}

func (g *gateway) running() bool {
	select {
	case <-g.exited:
		return false
	default:
		return true
	}
}

func (g *gateway) log() []byte {
	b, _ := os.ReadFile(g.logPath)
	return b
}

func (g *gateway) logTail(n int) string {
	b := g.log()
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// kill sends SIGKILL: no shutdown code runs, the in-flight batch is cut
// wherever it is.
func (g *gateway) kill() {
	g.t.Helper()
	require.NoError(g.t, g.cmd.Process.Signal(syscall.SIGKILL))
	<-g.exited
	var ee *exec.ExitError
	require.ErrorAs(g.t, g.waitErr, &ee)
	require.Equal(g.t, "signal: killed", ee.Error())
}

// stop sends SIGTERM and requires a clean exit.
func (g *gateway) stop() {
	g.t.Helper()
	require.NoError(g.t, g.cmd.Process.Signal(syscall.SIGTERM))
	testwait.Recv(g.t, 60*time.Second, g.name+" to stop", g.exited)
	require.NoError(g.t, g.waitErr, "%s exit:\n%s", g.name, g.logTail(4096))
}

// metric returns the value of one series of the gateway's /metrics.
func (g *gateway) metric(series string) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			var v float64
			_, err := fmt.Sscan(rest, &v)
			return v, err
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("series " + series + " not in /metrics")
}
