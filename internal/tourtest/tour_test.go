package tourtest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/testbackend"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// The README's addresses, replaced by the test gateway's.
const (
	readmeKafka = "127.0.0.1:9092"
	readmeHTTP  = "127.0.0.1:8080"
)

// step is one command of the tour and the lines the README shows under it.
type step struct {
	cmd  string
	want []string
}

func TestTour(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "kcat", "curl"} {
		testbackend.Command(t, "the test command (make test) installs kcat; bash and curl come with Debian", tool)
	}
	goTool := testbackend.Command(t, "install Go", "go")
	root := repoRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	section := tourSection(t, string(readme))
	steps := consoleSteps(section)
	require.NotEmpty(t, steps)
	require.Equal(t, "dataquarantine serve --demo", steps[0].cmd, "the tour starts the gateway first")

	// The CLI, installed with the README's command.
	bin := t.TempDir()
	install := installCommand(t, section)
	cmd := exec.Command("bash", "-c", install)
	cmd.Dir = root
	cmd.Env = environ("PATH="+filepath.Dir(goTool)+string(os.PathListSeparator)+os.Getenv("PATH"), "GOBIN="+bin)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s: %s", install, out)

	gw := startGateway(t, filepath.Join(bin, "dataquarantine"), steps[0])
	sh := newShell(t, t.TempDir(), environ(
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"DQ_SERVER=http://"+gw.http,
	))
	replacer := strings.NewReplacer(readmeKafka, gw.kafka, readmeHTTP, gw.http)
	for _, s := range steps[1:] {
		cmd := replacer.Replace(s.cmd)
		want := make([]string, len(s.want))
		for i, w := range s.want {
			want[i] = replacer.Replace(w)
		}
		check := func() error {
			out, status := sh.run(cmd)
			if status != 0 {
				return fmt.Errorf("exit status %d; output:\n%s", status, out)
			}
			return matchLines(want, out)
		}
		if readOnly(s.cmd) {
			testwait.For(t, time.Minute, "the README's output of "+s.cmd, check)
		} else if err := check(); err != nil {
			t.Fatalf("%s\n%v", s.cmd, err)
		}
	}
	gw.stop(t)
}

// tourSection returns the README's "A short tour" section.
func tourSection(t *testing.T, readme string) string {
	t.Helper()
	_, section, ok := strings.Cut(readme, "\n## A short tour\n")
	require.True(t, ok, "README.md has no \"## A short tour\" section")
	section, _, _ = strings.Cut(section, "\n## ")
	return section
}

// consoleSteps returns the commands of the section's ```console blocks,
// "$ " lines, each with the lines under it.
func consoleSteps(section string) []step {
	var steps []step
	inBlock := false
	for line := range strings.Lines(section) {
		line = strings.TrimRight(line, "\n")
		switch {
		case !inBlock && line == "```console":
			inBlock = true
		case inBlock && line == "```":
			inBlock = false
		case inBlock && strings.HasPrefix(line, "$ "):
			steps = append(steps, step{cmd: strings.TrimPrefix(line, "$ ")})
		case inBlock && len(steps) > 0:
			steps[len(steps)-1].want = append(steps[len(steps)-1].want, line)
		}
	}
	return steps
}

// installCommand returns the README's go install command, without its
// comment.
func installCommand(t *testing.T, section string) string {
	t.Helper()
	for line := range strings.Lines(section) {
		if strings.HasPrefix(line, "go install ./cmd/dataquarantine") {
			cmd, _, _ := strings.Cut(line, "#")
			return strings.TrimSpace(cmd)
		}
	}
	t.Fatal("the tour does not say how to install the command line with go install ./cmd/dataquarantine")
	return ""
}

// readOnly says whether a command only reads, and so may run again until
// its output is the README's.
func readOnly(cmd string) bool {
	for _, prefix := range []string{"kcat -C ", "curl -s ", "dataquarantine quarantine list ", "dataquarantine quarantine show ", "dataquarantine circuit status"} {
		if strings.HasPrefix(cmd, prefix) {
			return true
		}
	}
	return false
}

// matchLines checks that each of want, but blank ones and "...", matches a
// line of out, in order. Runs of white space compare equal, and "..."
// stands for anything.
func matchLines(want []string, out string) error {
	got := strings.Split(out, "\n")
	next := 0
	for _, w := range want {
		w = strings.Join(strings.Fields(w), " ")
		if w == "" || w == "..." {
			continue
		}
		parts := strings.Split(w, "...")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		re := regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
		found := false
		for next < len(got) {
			line := strings.Join(strings.Fields(got[next]), " ")
			next++
			if re.MatchString(line) {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("the README's line\n\t%s\nis not in the output (in order):\n%s", w, out)
		}
	}
	return nil
}

// environ returns the test's environment without DQ_* variables (the
// gateway refuses unknown ones), with extra added last.
func environ(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DQ_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "no go.mod above the working directory")
		dir = parent
	}
}

// gateway is the `dataquarantine serve` the tour talks to.
type gateway struct {
	cmd         *exec.Cmd
	kafka, http string // host:port
	exited      chan struct{}
	waitErr     error // set before exited is closed
	log         *os.File
}

var bannerAddr = regexp.MustCompile(`^\s*(Kafka bootstrap\s+|HTTP\s+http://)(\S+)`)

// startGateway runs the tour's first step, the gateway, in a directory of
// its own, on free ports, and checks the banner it prints against the
// README's.
func startGateway(t *testing.T, bin string, s step) *gateway {
	t.Helper()
	args := strings.Fields(s.cmd)[1:]
	args = append(args, "--http", "127.0.0.1:0", "--embedded-kafka", "127.0.0.1:0")
	g := &gateway{cmd: exec.Command(bin, args...), exited: make(chan struct{})}
	g.cmd.Dir = t.TempDir()
	g.cmd.Env = environ()
	g.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var err error
	g.log, err = os.Create(filepath.Join(t.TempDir(), "gateway.log"))
	require.NoError(t, err)
	g.cmd.Stderr = g.log
	stdout, err := g.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, g.cmd.Start())
	go func() {
		g.waitErr = g.cmd.Wait()
		close(g.exited)
	}()
	t.Cleanup(func() {
		_ = g.cmd.Process.Kill()
		<-g.exited
		_ = g.log.Close()
		if t.Failed() {
			b, _ := os.ReadFile(g.log.Name())
			t.Logf("the gateway's log:\n%s", b)
		}
	})

	// The banner ends with a blank line; then come the "Try it" lines.
	// The rest of standard output is read too, so the gateway never
	// blocks on it.
	banners := make(chan []string, 1)
	go func() {
		var banner []string
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "" && len(banner) > 0 && banners != nil {
				banners <- banner
				banners = nil
			} else if banners != nil {
				banner = append(banner, sc.Text())
			}
		}
		if banners != nil {
			banners <- append(banner, "(standard output ended)")
		}
	}()
	banner := testwait.Recv(t, 2*time.Minute, "the gateway's banner", banners)
	for _, line := range banner {
		if m := bannerAddr.FindStringSubmatch(line); m != nil && strings.HasPrefix(m[1], "Kafka") {
			g.kafka = m[2]
		} else if m != nil {
			g.http = m[2]
		}
	}
	require.NotEmpty(t, g.kafka, "no Kafka bootstrap in the banner:\n%s", strings.Join(banner, "\n"))
	require.NotEmpty(t, g.http, "no HTTP address in the banner:\n%s", strings.Join(banner, "\n"))
	want := make([]string, len(s.want))
	replacer := strings.NewReplacer(readmeKafka, g.kafka, readmeHTTP, g.http)
	for i, w := range s.want {
		want[i] = replacer.Replace(w)
	}
	require.NoError(t, matchLines(want, strings.Join(banner, "\n")), "the banner")
	return g
}

// stop stops the gateway as Ctrl-C does, and requires a clean exit.
func (g *gateway) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, g.cmd.Process.Signal(os.Interrupt))
	testwait.Recv(t, time.Minute, "the gateway to stop", g.exited)
	require.NoError(t, g.waitErr, "the gateway's exit")
}

// shell is one bash session the tour's commands run in, one after the
// other, as in a terminal.
type shell struct {
	t     *testing.T
	stdin io.WriteCloser
	lines chan shellLine
	n     int
}

// shellLine is a line of the shell's output, or its end.
type shellLine struct {
	text string
	eof  bool
}

const marker = "@@tour-step-done"

func newShell(t *testing.T, dir string, env []string) *shell {
	t.Helper()
	cmd := exec.Command("bash", "--norc", "--noprofile")
	cmd.Dir = dir
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = cmd.Stdout
	require.NoError(t, cmd.Start())
	s := &shell{t: t, stdin: stdin, lines: make(chan shellLine, 1024)}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			s.lines <- shellLine{text: sc.Text()}
		}
		s.lines <- shellLine{eof: true}
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		if err := cmd.Wait(); err != nil && !errors.Is(err, os.ErrClosed) {
			t.Logf("the tour's shell: %v", err)
		}
	})
	_, err = io.WriteString(stdin, "exec 2>&1\n")
	require.NoError(t, err)
	return s
}

// run runs one command and returns its output (standard output and error,
// as a terminal shows them) and exit status.
func (s *shell) run(cmd string) (string, int) {
	s.t.Helper()
	s.n++
	end := fmt.Sprintf("%s %d ", marker, s.n)
	// The braces give the command /dev/null as standard input (a pipe in
	// it still feeds its own), without a subshell: variables it sets stay.
	_, err := fmt.Fprintf(s.stdin, "{ %s\n} </dev/null; printf '\\n%s%%d\\n' \"$?\"\n", cmd, end)
	require.NoError(s.t, err)
	var out []string
	for {
		l := testwait.Recv(s.t, 3*time.Minute, "the end of "+cmd, s.lines)
		require.False(s.t, l.eof, "the shell exited during %s; output:\n%s", cmd, strings.Join(out, "\n"))
		line := l.text
		if status, isEnd := strings.CutPrefix(line, end); isEnd {
			code, err := strconv.Atoi(status)
			require.NoError(s.t, err)
			if n := len(out); n > 0 && out[n-1] == "" {
				out = out[:n-1] // the newline before the marker
			}
			return strings.Join(out, "\n"), code
		}
		out = append(out, line)
	}
}
