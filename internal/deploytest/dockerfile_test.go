package deploytest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	Cmd, Args string
	Stage     int // 0 for the first FROM's stage
}

func parseDockerfile(t *testing.T, data []byte) []instruction {
	t.Helper()
	var out []instruction
	var cur strings.Builder
	stage := -1
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue // a comment inside a continued instruction
		}
		if rest, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(rest + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		cur.Reset()
		cmd = strings.ToUpper(cmd)
		if cmd == "FROM" {
			stage++
		}
		out = append(out, instruction{Cmd: cmd, Args: strings.TrimSpace(args), Stage: stage})
	}
	require.NoError(t, sc.Err())
	require.Zero(t, cur.Len(), "Dockerfile ends inside a continued line")
	return out
}

// shellWords splits a command line the way a POSIX shell does for the
// quoting used in build lines: '...', "..." and adjacent parts joined.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\'', '"':
			end := strings.IndexByte(s[i+1:], c)
			require.GreaterOrEqual(t, end, 0, "unterminated quote in %q", s)
			w.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case ' ', '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// goBuild is a go build command line, normalised for comparison.
type goBuild struct {
	Env     []string // VAR=value before the command
	Flags   []string // build flags, -o and its value removed
	Output  string
	Package string
}

var versionRef = regexp.MustCompile(`\$\{VERSION\}|\$\(VERSION\)|\$VERSION`)

func parseGoBuild(t *testing.T, words []string) goBuild {
	t.Helper()
	var b goBuild
	i := 0
	for ; i < len(words) && strings.Contains(words[i], "=") && !strings.HasPrefix(words[i], "-"); i++ {
		b.Env = append(b.Env, words[i])
	}
	require.Less(t, i+1, len(words), "no go build in %q", words)
	require.Contains(t, []string{"go", "$(GO)"}, words[i], "want go build, got %q", words)
	require.Equal(t, "build", words[i+1])
	rest := words[i+2:]
	require.NotEmpty(t, rest)
	b.Package = rest[len(rest)-1]
	for j := 0; j < len(rest)-1; j++ {
		if rest[j] == "-o" {
			b.Output = rest[j+1]
			j++
			continue
		}
		b.Flags = append(b.Flags, versionRef.ReplaceAllString(rest[j], "VERSION"))
	}
	slices.Sort(b.Env)
	return b
}

// makefileBuild returns the build recipe of the Makefile's build target, its
// make variables expanded (GO and BIN kept as written).
func makefileBuild(t *testing.T) goBuild {
	t.Helper()
	mk := string(ReadFile(t, "Makefile"))
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^([A-Z_]+)\s*[:?]?=\s*(.*)$`).FindAllStringSubmatch(mk, -1) {
		vars[m[1]] = strings.TrimSpace(m[2])
	}
	recipe := regexp.MustCompile(`(?m)^build:.*\n\t(.+)$`).FindStringSubmatch(mk)
	require.NotNil(t, recipe, "no build target recipe in the Makefile")
	line := recipe[1]
	expand := regexp.MustCompile(`\$\((LDFLAGS)\)`)
	line = expand.ReplaceAllStringFunc(line, func(ref string) string { return vars[ref[2:len(ref)-1]] })
	return parseGoBuild(t, shellWords(t, line))
}

func dockerfileBuild(t *testing.T, insts []instruction) goBuild {
	t.Helper()
	for _, in := range insts {
		if in.Cmd == "RUN" && strings.Contains(in.Args, "go build") {
			return parseGoBuild(t, shellWords(t, in.Args))
		}
	}
	t.Fatal("no RUN go build in the Dockerfile")
	return goBuild{}
}

func TestDockerfileBuildsLikeMake(t *testing.T) {
	insts := parseDockerfile(t, ReadFile(t, "Dockerfile"))
	want := makefileBuild(t)
	got := dockerfileBuild(t, insts)
	require.Equal(t, []string{"CGO_ENABLED=0"}, want.Env, "the Makefile's build recipe changed: update this test and the Dockerfile")
	require.Equal(t, want.Env, got.Env, "environment of go build")
	require.Equal(t, want.Flags, got.Flags, "go build flags")
	require.Equal(t, want.Package, got.Package)
	require.Contains(t, strings.Join(got.Flags, " "), "internal/cli.version=VERSION")
}

func TestDockerfileImage(t *testing.T) {
	insts := parseDockerfile(t, ReadFile(t, "Dockerfile"))
	var froms []string
	last := 0
	for _, in := range insts {
		if in.Cmd == "FROM" {
			froms = append(froms, in.Args)
			last = in.Stage
		}
	}
	require.Len(t, froms, 2, "multi-stage: a builder and a final image")
	require.True(t, strings.HasPrefix(froms[0], "golang:1.26 "), "builder %q: want golang:1.26, the go.mod toolchain", froms[0])
	require.Regexp(t, `^(gcr\.io/distroless/static[-\w.]*(:[\w.-]+)?|scratch)$`, froms[1], "final image must be static-only")

	final := map[string][]string{}
	for _, in := range insts {
		if in.Stage == last {
			final[in.Cmd] = append(final[in.Cmd], in.Args)
		}
	}
	require.Len(t, final["USER"], 1)
	user := strings.Split(final["USER"][0], ":")[0]
	require.NotContains(t, []string{"root", "0"}, user, "the image must not run as root")
	require.Equal(t, []string{"8080 9092"}, final["EXPOSE"])
	require.Equal(t, []string{`["/usr/local/bin/dataquarantine", "serve"]`}, final["ENTRYPOINT"])
	require.Equal(t, []string{"--from=build /out/dataquarantine /usr/local/bin/dataquarantine"}, final["COPY"])

	// Every ENV the image sets is a real configuration variable.
	envs := ConfigEnvNames()
	for _, e := range final["ENV"] {
		for _, w := range shellWords(t, e) {
			name, _, ok := strings.Cut(w, "=")
			require.True(t, ok, "ENV %q: use NAME=value", w)
			require.True(t, envs[name], "ENV %s is not a configuration variable", name)
		}
	}
}

// TestDockerignoreKeepsBuildInputs checks the build context keeps go.mod,
// go.sum and every file a go:embed directive needs.
func TestDockerignoreKeepsBuildInputs(t *testing.T) {
	root := RepoRoot(t)
	var ignore []string
	for line := range strings.Lines(string(ReadFile(t, ".dockerignore"))) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			ignore = append(ignore, line)
		}
	}
	// Docker's matching: x matches at the root, **/x at any depth.
	ignored := func(rel string) bool {
		parts := strings.Split(rel, "/")
		for _, p := range ignore {
			if pat, ok := strings.CutPrefix(p, "**/"); ok {
				for _, seg := range parts {
					if m, _ := filepath.Match(pat, seg); m {
						return true
					}
				}
				continue
			}
			if m, _ := filepath.Match(p, parts[0]); m {
				return true
			}
			if m, _ := filepath.Match(p, rel); m {
				return true
			}
		}
		return false
	}
	require.False(t, ignored("go.mod"))
	require.False(t, ignored("go.sum"))
	require.False(t, ignored("cmd/dataquarantine/main.go"))
	require.True(t, ignored("internal/app/app_test.go"), "tests need not be in the context")

	embed := regexp.MustCompile(`(?m)^//go:embed\s+(.+)$`)
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range embed.FindAllStringSubmatch(string(src), -1) {
			for _, pat := range strings.Fields(m[1]) {
				rel, err := filepath.Rel(root, filepath.Join(filepath.Dir(path), pat))
				require.NoError(t, err)
				require.False(t, ignored(filepath.ToSlash(rel)), ".dockerignore drops %s, embedded by %s", rel, path)
			}
		}
		return nil
	})
	require.NoError(t, err)
}

// TestDockerfileBuildLineBuilds runs the Dockerfile's go build line (with
// VERSION set) and checks the binary reports the version it was given.
func TestDockerfileBuildLineBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	b := dockerfileBuild(t, parseDockerfile(t, ReadFile(t, "Dockerfile")))
	out := filepath.Join(t.TempDir(), "dataquarantine")
	args := []string{"build"}
	for _, f := range b.Flags {
		args = append(args, strings.ReplaceAll(f, "VERSION", "v9.9.9-deploytest"))
	}
	args = append(args, "-o", out, b.Package)
	cmd := exec.CommandContext(t.Context(), "go", args...)
	cmd.Dir = RepoRoot(t)
	cmd.Env = append(os.Environ(), b.Env...)
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "go %v:\n%s", args, msg)
	version, err := exec.CommandContext(t.Context(), out, "version").CombinedOutput()
	require.NoError(t, err, "%s", version)
	require.Contains(t, string(version), "v9.9.9-deploytest")
}
