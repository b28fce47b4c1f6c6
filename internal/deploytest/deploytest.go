package deploytest

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/testbackend"
)

// RepoRoot returns the module's root directory, found by walking up from the
// working directory to go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getting working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// ReadFile returns the content of path, relative to the repository root.
func ReadFile(t testing.TB, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(RepoRoot(t), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatalf("reading %s: %v", rel, err)
	}
	return data
}

// Tool returns the path of an executable from Debian's prometheus package
// (promtool, prometheus). When it is missing the test is skipped, or failed
// when CI=true, so that CI never passes without having run it.
func Tool(t testing.TB, name string) string {
	t.Helper()
	return testbackend.Command(t, "run scripts/test-deps.sh to install Debian's prometheus package", name)
}

// promqlNoise are the parts of a PromQL expression that are not metric
// names: strings, label matchers, range and subquery selectors, and the
// label lists of grouping and vector-matching modifiers.
var promqlNoise = []*regexp.Regexp{
	regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`"),
	regexp.MustCompile(`\{[^}]*\}`),
	regexp.MustCompile(`\[[^\]]*\]`),
	regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`),
	regexp.MustCompile(`\boffset\s+-?[0-9a-z$_]+`),
	regexp.MustCompile(`#[^\n]*`),
}

var (
	promqlIdent    = regexp.MustCompile(`[a-zA-Z_:$][a-zA-Z0-9_:]*(\s*\()?`)
	promqlKeywords = map[string]bool{
		"and": true, "or": true, "unless": true, "bool": true, "by": true, "without": true,
		"on": true, "ignoring": true, "group_left": true, "group_right": true, "offset": true,
		"inf": true, "nan": true, "e": true,
	}
)

// MetricNames returns the metric names a PromQL expression selects, sorted
// and without duplicates. It is a scanner, not a parser: enough for the
// expressions of dashboards and rules, where a metric name is an identifier
// that is not a function call, a keyword, a label or a Grafana variable.
func MetricNames(expr string) []string {
	for _, re := range promqlNoise {
		expr = re.ReplaceAllString(expr, " ")
	}
	// Numbers such as 1e3 or 0.95 are not names; drop them first.
	expr = regexp.MustCompile(`\b[0-9][0-9.eE+-]*\b`).ReplaceAllString(expr, " ")
	seen := map[string]bool{}
	for _, m := range promqlIdent.FindAllString(expr, -1) {
		if strings.HasSuffix(m, "(") || strings.HasPrefix(m, "$") {
			continue // a function call or a Grafana variable
		}
		if promqlKeywords[strings.ToLower(m)] {
			continue
		}
		seen[m] = true
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ExpositionNames returns the names of the samples in a Prometheus text
// exposition (a histogram contributes its _bucket, _sum and _count series).
func ExpositionNames(body string) (map[string]bool, error) {
	names := map[string]bool{}
	for line := range strings.SplitSeq(body, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		end := strings.IndexAny(line, "{ ")
		if end <= 0 {
			return nil, errors.New("malformed sample line: " + line)
		}
		names[line[:end]] = true
	}
	if len(names) == 0 {
		return nil, errors.New("no samples in exposition")
	}
	return names, nil
}

// ConfigEnvNames returns the set of DQ_* environment variables the config
// package accepts (config.Keys).
func ConfigEnvNames() map[string]bool {
	names := map[string]bool{}
	for _, k := range config.Keys() {
		names[k.Env] = true
	}
	return names
}
