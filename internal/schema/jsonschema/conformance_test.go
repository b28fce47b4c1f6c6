package jsonschema

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	jsv "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/testbackend"
)

// The official JSON Schema Test Suite, read from the shared conformance
// directory next to the module (shared/conformance/README.md).

var suiteDrafts = []struct {
	dir   string
	draft *jsv.Draft
}{
	{"draft4", jsv.Draft4},
	{"draft6", jsv.Draft6},
	{"draft7", jsv.Draft7},
	{"draft2019-09", jsv.Draft2019},
	{"draft2020-12", jsv.Draft2020},
}

// knownFailures lists the suite tests this package is known to fail, by
// "<draft>/<file>: <group> / <test>", with the reason; "*" for the draft
// means every draft that has the test. The conformance test fails on any
// failure not listed here, and on any listed test that passes or no longer
// exists.
var knownFailures = map[string]string{}

func init() {
	// DataQuarantine asserts formats in every draft (PRODUCT.md §4), the
	// "format-assertion" behaviour; these tests check 2020-12's default,
	// where format is only an annotation.
	for _, f := range []string{
		"date", "date-time", "duration", "email", "hostname", "ipv4", "ipv6", "iri", "iri-reference",
		"json-pointer", "regex", "relative-json-pointer", "time", "uri", "uri-reference", "uri-template", "uuid",
	} {
		knownFailures[fmt.Sprintf("draft2020-12/format.json: %s format / invalid %s string is only an annotation by default", f, f)] = "production asserts formats; this test expects 2020-12's annotation-only default"
	}
	// "format": "regex" is checked by the validator library with Go's RE2
	// syntax, the dialect "pattern" runs in, and the library does not let
	// that check be replaced. RE2 differs from ECMA-262 here.
	const re2 = "format regex is checked as Go RE2 syntax, not ECMA-262: "
	for test, reason := range map[string]string{
		`\a is not an ECMA 262 control escape / when used as a pattern`:                                                      `RE2 accepts \a (bell)`,
		"global inline flag groups are not valid ECMA 262 / a single global inline flag (?i)":                                "RE2 accepts inline flags",
		"global inline flag groups are not valid ECMA 262 / multiple global inline flags (?ims)":                             "RE2 accepts inline flags",
		"Python-specific regular expression syntax is not valid ECMA 262 / Python named group (?P<name>...) is not ECMA 262": "RE2 accepts (?P<name>...)",
		"ECMA 262 character classes and escapes / an empty character class is valid ECMA 262":                                "RE2 rejects the empty class []",
		"ECMA 262 character classes and escapes / a negated empty character class is valid ECMA 262":                         "RE2 rejects [^]",
		`ECMA 262 character classes and escapes / a control escape \cA is valid ECMA 262`:                                    `RE2 has no \c control escapes`,
		`ECMA 262 named groups and backreferences are valid / an ECMA 262 named backreference \k<name>`:                      "RE2 has no backreferences",
		"ECMA 262 lookbehind is valid, including variable width / a variable-width lookbehind (ES2018)":                      "RE2 has no lookaround",
	} {
		knownFailures["*/optional/format/ecmascript-regex.json: "+test] = re2 + reason
	}
}

// suiteDir returns the test suite's directory. When it is missing the test
// skips, except under CI=true, where it fails: the suite must never be
// skipped silently.
func suiteDir(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	require.NoError(t, err)
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			t.Fatalf("no go.mod above %s", wd)
		}
		root = parent
	}
	dir := filepath.Join(root, "..", "shared", "conformance", "json-schema-test-suite")
	if _, err := os.Stat(filepath.Join(dir, "tests")); err != nil {
		testbackend.Need(t, "the JSON Schema Test Suite", fmt.Errorf("%w; set up ../shared/conformance to run it", err))
	}
	return dir
}

// suiteLoader serves the suite's remotes/ directory as http://localhost:1234/
// and refuses everything else, as production does.
type suiteLoader struct{ remotes string }

func (l suiteLoader) Load(u string) (any, error) {
	rest, ok := strings.CutPrefix(u, "http://localhost:1234/")
	if !ok {
		return refuseLoader{}.Load(u)
	}
	b, err := os.ReadFile(filepath.Join(l.remotes, filepath.FromSlash(rest)))
	if err != nil {
		return nil, err
	}
	doc, bad, ok := Decode(b, schemaLimits)
	if !ok {
		return nil, fmt.Errorf("decoding %s: %s", u, bad.Message)
	}
	return doc, nil
}

type suiteGroup struct {
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
	Tests       []struct {
		Description string          `json:"description"`
		Data        json.RawMessage `json:"data"`
		Valid       bool            `json:"valid"`
	} `json:"tests"`
}

type tally struct{ pass, total int }

// runSuiteFile runs one file of the suite through compile and Check as
// production runs them. It adds each test's outcome to results, by
// "<id>: <group> / <test>": "" for a pass, otherwise what went wrong.
func runSuiteFile(t *testing.T, path, id string, draft *jsv.Draft, loader jsv.URLLoader, results map[string]string) tally {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var groups []suiteGroup
	require.NoError(t, json.Unmarshal(b, &groups), path)
	var n tally
	failures := results
	for _, g := range groups {
		s, err := compile(g.Description, g.Schema, draft, loader)
		for _, tc := range g.Tests {
			n.total++
			key := fmt.Sprintf("%s: %s / %s", id, g.Description, tc.Description)
			if err != nil {
				failures[key] = "compile: " + err.Error()
				continue
			}
			v, vs := s.Check(tc.Data, Limits{MaxDepth: 1000}, nil)
			if v != nil {
				checkFastPath(t, key, s, v)
			}
			for _, v := range vs {
				if !v.Type.Known() || (v.Field != "" && v.Field[0] != '/') || v.Message == "" {
					t.Errorf("%s: malformed violation %+v", key, v)
				}
			}
			if valid := len(vs) == 0; valid != tc.Valid {
				failures[key] = fmt.Sprintf("want valid=%v, got violations %+v", tc.Valid, vs)
				continue
			}
			failures[key] = ""
			n.pass++
		}
	}
	return n
}

func TestJSONSchemaTestSuite(t *testing.T) {
	t.Parallel()
	dir := suiteDir(t)
	loader := suiteLoader{remotes: filepath.Join(dir, "remotes")}

	var (
		mu       sync.Mutex
		required = map[string]tally{}
		formats  = map[string]map[string]tally{} // format file -> draft -> tally
		skipped  = map[string][]string{}         // draft -> format files not run
		seen     = map[string]bool{}             // known failures that ran
		known    = map[string]int{}              // draft -> known failures
	)
	t.Cleanup(func() {
		for k := range knownFailures {
			if !seen[k] {
				t.Errorf("listed as a known failure but not in the suite: %s", k)
			}
		}
		for _, d := range suiteDrafts {
			n := required[d.dir]
			t.Logf("%-13s required: %4d/%4d pass; known failures (required and format): %d", d.dir, n.pass, n.total, known[d.dir])
		}
		names := make([]string, 0, len(formats))
		for f := range formats {
			names = append(names, f)
		}
		sort.Strings(names)
		for _, f := range names {
			var all tally
			var per []string
			for _, d := range suiteDrafts {
				if n, ok := formats[f][d.dir]; ok {
					all.pass += n.pass
					all.total += n.total
					per = append(per, fmt.Sprintf("%s %d/%d", d.dir, n.pass, n.total))
				}
			}
			t.Logf("optional/format/%-27s %3d/%3d pass (%s)", f+".json", all.pass, all.total, strings.Join(per, ", "))
		}
		t.Logf("fast path agreed with the library on %d values, left %d to it, had no fast path for %d",
			fastPathStats.sure.Load(), fastPathStats.unsure.Load(), fastPathStats.none.Load())
		for _, d := range suiteDrafts {
			if len(skipped[d.dir]) > 0 {
				t.Logf("%-13s optional/format not run, formats not asserted (annotations only): %s",
					d.dir, strings.Join(skipped[d.dir], ", "))
			}
		}
	})

	for _, d := range suiteDrafts {
		t.Run(d.dir, func(t *testing.T) {
			t.Parallel()
			results := map[string]string{}
			files, err := filepath.Glob(filepath.Join(dir, "tests", d.dir, "*.json"))
			require.NoError(t, err)
			require.NotEmpty(t, files)
			var req tally
			for _, f := range files {
				n := runSuiteFile(t, f, d.dir+"/"+filepath.Base(f), d.draft, loader, results)
				req.pass += n.pass
				req.total += n.total
			}

			fmtFiles, err := filepath.Glob(filepath.Join(dir, "tests", d.dir, "optional", "format", "*.json"))
			require.NoError(t, err)
			perFormat := map[string]tally{}
			var notAsserted []string
			for _, f := range fmtFiles {
				stem := strings.TrimSuffix(filepath.Base(f), ".json")
				if name := formatOfFile(stem); name != "unknown" && !slices.Contains(assertedFormats, name) {
					notAsserted = append(notAsserted, stem)
					continue
				}
				perFormat[stem] = runSuiteFile(t, f, d.dir+"/optional/format/"+filepath.Base(f), d.draft, loader, results)
			}

			mu.Lock()
			defer mu.Unlock()
			required[d.dir] = req
			for name, n := range perFormat {
				if formats[name] == nil {
					formats[name] = map[string]tally{}
				}
				formats[name][d.dir] = n
			}
			skipped[d.dir] = notAsserted
			keys := make([]string, 0, len(results))
			for k := range results {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				failure := results[k]
				id := k
				if _, ok := knownFailures[id]; !ok {
					id = "*" + strings.TrimPrefix(k, d.dir)
				}
				_, isKnown := knownFailures[id]
				if isKnown {
					seen[id] = true
					if failure != "" {
						known[d.dir]++
					}
				}
				switch {
				case failure != "" && !isKnown:
					t.Errorf("FAIL %s: %s", k, failure)
				case failure == "" && isKnown:
					t.Errorf("listed as a known failure but passes, remove it from knownFailures: %s", k)
				}
			}
		})
	}
}

// formatOfFile maps a file of optional/format/ to the format it tests.
func formatOfFile(stem string) string {
	if stem == "ecmascript-regex" {
		return "regex"
	}
	return stem
}
