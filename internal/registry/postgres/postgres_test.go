package postgres_test

import (
	"context"
	"database/sql"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/dataquarantine/dataquarantine/internal/migrate/migratetest"
	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/registry/postgres"
	"github.com/dataquarantine/dataquarantine/internal/registry/registrytest"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/testbackend"
)

func newStore(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.New(context.Background(), postgres.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	registrytest.Exercise(t, func(t *testing.T) registry.Store {
		t.Helper()
		return newStore(t, testbackend.Postgres(t))
	})
}

// TestMigrateTwiceAndLargeSchema: a second New over the same tables is a
// no-op, and schemas beyond a btree row's size are stored and found.
func TestMigrateTwiceAndLargeSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testbackend.Postgres(t)
	_ = newStore(t, url)
	s := newStore(t, url)
	big := `{"description":"` + strings.Repeat("x", 100_000) + `"}`
	in, err := s.InsertSchema(ctx, registry.Schema{Format: schema.FormatJSON, Text: big, Fingerprint: "fp", GUID: "g"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.SchemasByFingerprint(ctx, "fp")
	if err != nil || len(got) != 1 || got[0] != in {
		t.Fatalf("SchemasByFingerprint of a large schema = %+v, %v", got, err)
	}
}

func TestNewRefusesBadURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "postgres://user:hunter2@[::1"} {
		_, err := postgres.New(context.Background(), postgres.Options{URL: u})
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("New(%q) = %v, want an error without the password", u, err)
		}
	}
}

// TestEarlierReleaseDatabase: a database made by an earlier release, its
// version table as that release's runner left it, opens with its rows.
func TestEarlierReleaseDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testbackend.Postgres(t)
	dump, err := os.ReadFile("testdata/earlier_release.sql")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, string(dump)); err != nil {
		t.Fatal(err)
	}
	registrytest.CheckEarlierRelease(t, newStore(t, url))
	var versions []int
	rows, err := conn.Query(ctx, `SELECT version FROM registry_schema_version ORDER BY version`)
	if err == nil {
		versions, err = pgx.CollectRows(rows, pgx.RowTo[int])
	}
	if err != nil || !slices.Equal(versions, []int{1, 2, 3}) {
		t.Fatalf("versions = %v, %v; want the release's history, then each new migration once", versions, err)
	}
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	migratetest.Exercise(t, postgres.Migrations(), func(t *testing.T) func() *sql.DB {
		url := testbackend.Postgres(t)
		return func() *sql.DB {
			db, err := sql.Open("pgx", url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			return db
		}
	})
}
