package sqlite

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/sqlitemigrate"
)

// The embedded history loads: numbered without gaps, the first creating
// the entries table.
func TestMigrationFiles(t *testing.T) {
	t.Parallel()
	ms, err := sqlitemigrate.Load(migrationFiles, "migrations")
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	require.Equal(t, "0001_entries", ms[0].Name)
}
