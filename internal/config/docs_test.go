package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const docsPath = "../../docs/configuration.md"

func readDocs(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(docsPath)
	require.NoError(t, err)
	return string(data)
}

// TestDocsListEveryKey keeps docs/configuration.md true to the code: each
// key has one row in the keys table with its variable, type and default, and
// the table has no row for a key that no longer exists.
func TestDocsListEveryKey(t *testing.T) {
	t.Parallel()
	doc := readDocs(t)
	rows := map[string]string{} // key path -> table row
	for line := range strings.SplitSeq(doc, "\n") {
		cells := strings.Split(line, " | ")
		if len(cells) < 2 || !strings.HasPrefix(cells[0], "| `") || !strings.HasPrefix(cells[1], "`DQ_") {
			continue
		}
		path := strings.Trim(strings.TrimPrefix(cells[0], "| "), "`")
		require.NotContains(t, rows, path, "two rows for %s", path)
		rows[path] = line
	}
	keys := Keys()
	for _, k := range keys {
		t.Run(k.Path, func(t *testing.T) {
			row, ok := rows[k.Path]
			require.True(t, ok, "docs/configuration.md has no row for key %s", k.Path)
			require.Contains(t, row, "| `"+k.Env+"` |")
			require.Contains(t, row, "| `"+k.Type+"` |")
			def := "`" + k.Default + "`"
			switch {
			case k.Default == "":
				def = "`\"\"`"
			case strings.HasPrefix(k.Default, "("):
				def = k.Default
			}
			require.Contains(t, row, "| "+def+" |", "default of %s", k.Path)
		})
	}
	require.Len(t, rows, len(keys), "the keys table has a row for a key that does not exist")
}

// TestDocsExampleIsTheGoodConfig: the complete example in the docs is the
// file TestGoodConfigs loads and checks.
func TestDocsExampleIsTheGoodConfig(t *testing.T) {
	t.Parallel()
	full, err := os.ReadFile(filepath.Join("testdata", "full.good.yaml"))
	require.NoError(t, err)
	require.Contains(t, readDocs(t), "```yaml\n"+string(full)+"```\n")
}

// TestDocsErrorExample: the file in "How errors look" gives exactly the
// errors shown under it.
func TestDocsErrorExample(t *testing.T) {
	t.Parallel()
	doc := readDocs(t)
	_, section, ok := strings.Cut(doc, "## How errors look")
	require.True(t, ok)
	_, rest, ok := strings.Cut(section, "```yaml\n")
	require.True(t, ok)
	example, rest, ok := strings.Cut(rest, "```\n")
	require.True(t, ok)
	_, rest, ok = strings.Cut(rest, "```\n")
	require.True(t, ok)
	want, _, ok := strings.Cut(rest, "```\n")
	require.True(t, ok)

	dir := t.TempDir()
	path := filepath.Join(dir, "dataquarantine.yaml")
	require.NoError(t, os.WriteFile(path, []byte(example), 0o644))
	_, err := Load(path, nil)
	require.Error(t, err)
	got := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
	require.Equal(t, want, got+"\n")
}
