package jsoncompat

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/testbackend"
)

// Confluent Schema Registry's own JSON Schema evolution cases, read from the
// shared conformance directory next to the module (shared/conformance/
// README.md). Each case's "compatible" is Confluent's BACKWARD verdict on
// original -> update, and "changes" the differences it reports.

// knownDisagreements lists the cases whose verdict or change names this
// package does not share with Confluent, by "<file>#<index>: <description>",
// with the reason. The test fails on a disagreement not listed, and on a
// listed case that agrees.
var knownDisagreements = map[string]string{}

// conformanceDir returns the cases' directory. When it is missing the test
// skips, except under CI=true, where it fails: conformance must never be
// skipped silently.
func conformanceDir(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	require.NoError(t, err)
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		require.NotEqual(t, parent, root, "no go.mod above %s", wd)
		root = parent
	}
	dir := filepath.Join(root, "..", "shared", "conformance", "jsonschema-compat")
	if _, err := os.Stat(dir); err != nil {
		testbackend.Need(t, "the JSON Schema compatibility cases", fmt.Errorf("%w; they live in ../shared/conformance next to the module", err))
	}
	return dir
}

type conformanceCase struct {
	Description       string          `json:"description"`
	Original          json.RawMessage `json:"original_schema"`
	Update            json.RawMessage `json:"update_schema"`
	Changes           []string        `json:"changes"`
	Compatible        bool            `json:"compatible"`
	CompatibleLenient *bool           `json:"compatible_lenient"`
}

func TestConfluentConformance(t *testing.T) {
	t.Parallel()
	dir := conformanceDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no cases in %s", dir)

	total, agreed := 0, 0
	seen := map[string]bool{}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		require.NoError(t, err)
		var cases []conformanceCase
		require.NoError(t, json.Unmarshal(raw, &cases), file)
		name := filepath.Base(file)
		fileAgreed := 0
		for i, tc := range cases {
			key := fmt.Sprintf("%s#%d: %s", name, i, tc.Description)
			seen[key] = true
			problem := disagreement(tc)
			reason, known := knownDisagreements[key]
			switch {
			case problem == "" && known:
				t.Errorf("%s now agrees with Confluent; remove it from knownDisagreements (was: %s)", key, reason)
			case problem != "" && !known:
				t.Errorf("%s: %s", key, problem)
			case problem == "":
				fileAgreed++
			}
		}
		t.Logf("%s: %d/%d cases agree with Confluent (verdict and change names)", name, fileAgreed, len(cases))
		total += len(cases)
		agreed += fileAgreed
	}
	t.Logf("total: %d/%d cases agree", agreed, total)
	for key := range knownDisagreements {
		if !seen[key] {
			t.Errorf("knownDisagreements lists %s, which is not a case", key)
		}
	}
}

// disagreement compares one case with Confluent's answer, returning what
// differs, or "".
func disagreement(tc conformanceCase) string {
	o, err := Parse(tc.Original)
	if err != nil {
		return "original: " + err.Error()
	}
	u, err := Parse(tc.Update)
	if err != nil {
		return "update: " + err.Error()
	}
	diffs := Compare(o, u, Strict)
	var problems []string
	if got := Compatible(diffs); got != tc.Compatible {
		problems = append(problems, fmt.Sprintf("compatible = %v, Confluent says %v", got, tc.Compatible))
	}
	got := make([]string, len(diffs))
	for i, d := range diffs {
		got[i] = d.Type + " " + d.Path
	}
	want := slices.Clone(tc.Changes)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		problems = append(problems, fmt.Sprintf("changes %q, Confluent reports %q", got, want))
	}
	if tc.CompatibleLenient != nil {
		if got := Compatible(Compare(o, u, Lenient)); got != *tc.CompatibleLenient {
			problems = append(problems, fmt.Sprintf("lenient compatible = %v, Confluent says %v", got, *tc.CompatibleLenient))
		}
	}
	return strings.Join(problems, "; ")
}
