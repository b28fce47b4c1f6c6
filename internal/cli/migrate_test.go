package cli

import (
	neturl "net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/testbackend"
)

func TestMigrateSQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for range 2 { // idempotent
		code, out, errOut := runCLI(t, "", nil, "migrate", "--data-dir", dir)
		require.Equal(t, 0, code, errOut)
		require.Equal(t, "metadata store sqlite://"+filepath.Join(dir, "dq.db")+" is up to date\n"+
			"schema registry sqlite://"+filepath.Join(dir, "registry.db")+" is up to date\n", out)
	}
	for _, f := range []string{"dq.db", "registry.db"} {
		_, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
	}
}

func TestMigratePostgres(t *testing.T) {
	t.Parallel()
	url := testbackend.Postgres(t)
	u, err := neturl.Parse(url)
	require.NoError(t, err)
	password, ok := u.User.Password()
	require.True(t, ok, "the test server has a password")
	for range 2 {
		code, out, errOut := runCLI(t, "", []string{"DQ_STORAGE_METADATA_URL=" + url}, "migrate", "--data-dir", t.TempDir())
		require.Equal(t, 0, code, errOut)
		require.Regexp(t, `^metadata store postgres://.* is up to date\nschema registry postgres://.* is up to date\n$`, out)
		require.NotContains(t, out, password, "the URL is redacted")
	}
	code, _, errOut := runCLI(t, "", []string{"DQ_STORAGE_METADATA_URL=postgres://nobody:secret@127.0.0.1:1/none"}, "migrate")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "migrating the PostgreSQL metadata store")
	require.NotContains(t, errOut, "secret")
}
