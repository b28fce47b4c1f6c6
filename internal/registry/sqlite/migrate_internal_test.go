package sqlite

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/migrate"
	"github.com/dataquarantine/dataquarantine/internal/migrate/migratetest"
	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/registry/registrytest"
	"github.com/dataquarantine/dataquarantine/internal/sqlitedb"
)

// TestMigrateRuleSetsKeepsRows: 0002 rebuilds both tables (SQLite cannot
// drop the old uniqueness constraint); a registry written before it keeps
// its schemas, ids and versions, and the foreign key still holds.
func TestMigrateRuleSetsKeepsRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "registry.db")
	db, err := sqlitedb.Open(path, url.Values{"_pragma": {"foreign_keys(1)"}}, 1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate.Up(ctx, db, migratetest.Through(t, Migrations(), 1), nil); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO registry_schemas (id, format, text) VALUES (7, 'JSON', '{}')`,
		`INSERT INTO registry_versions (subject, version, schema_id, label, state, deleted) VALUES ('s', 1, 7, '1.0.0', 'enforced', 0), ('s', 2, 7, '', 'registered', 1)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := New(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	got, err := s.Schema(ctx, 7)
	if err != nil || got != (registry.Schema{ID: 7, Format: "JSON", Text: "{}"}) {
		t.Fatalf("schema 7 after migrating = %+v, %v", got, err)
	}
	vs, err := s.Versions(ctx, registry.VersionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := []registry.Version{
		{Subject: "s", Version: 1, SchemaID: 7, Label: "1.0.0", State: registry.StateEnforced},
		{Subject: "s", Version: 2, SchemaID: 7, State: registry.StateRegistered, Deleted: true},
	}
	if len(vs) != 2 || vs[0] != want[0] || vs[1] != want[1] {
		t.Fatalf("versions after migrating = %+v, want %+v", vs, want)
	}
	if err := s.InsertVersion(ctx, registry.Version{Subject: "s", Version: 3, SchemaID: 99, State: registry.StateRegistered}); err == nil {
		t.Fatal("a version of a missing schema was stored: the foreign key is gone")
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name LIKE '%_0002' OR name LIKE '%_0003'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("leftover tables: %d, %v", n, err)
	}

	// The registry gives the old schema its fingerprint and GUID, once.
	r, err := registry.New(registry.Options{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.Migrate(ctx); err != nil || n != 1 {
		t.Fatalf("Migrate = %d, %v; want 1 schema", n, err)
	}
	if n, err := r.Migrate(ctx); err != nil || n != 0 {
		t.Fatalf("second Migrate = %d, %v; want none", n, err)
	}
	byGUID, err := r.SchemaByGUID(ctx, registry.GUID("JSON", "{}", "", ""))
	if err != nil || byGUID.ID != 7 {
		t.Fatalf("the old schema by GUID = %+v, %v", byGUID, err)
	}
	found, err := r.Lookup(ctx, registry.LookupRequest{Subject: "s", Format: "JSON", Schema: "{ }"})
	if err != nil || found.SchemaID != 7 || found.Version.Version != 1 {
		t.Fatalf("the old schema by lookup = %+v, %v", found, err)
	}
}

// TestEarlierReleaseDatabase: a database made by an earlier release, its
// version table as that release's runner left it, opens with its rows.
func TestEarlierReleaseDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "registry.db")
	dump, err := os.ReadFile("testdata/earlier_release.sql")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlitedb.Open(path, nil, 1, 5*time.Second)
	if err == nil {
		_, err = db.ExecContext(ctx, string(dump))
	}
	if err == nil {
		err = db.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	registrytest.CheckEarlierRelease(t, s)
	var versions []int
	rows, err := s.r.QueryContext(ctx, `SELECT version FROM `+versionTable+` ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil || !slices.Equal(versions, []int{1, 2, 3}) {
		t.Fatalf("versions = %v, %v; want the release's history, then each new migration once", versions, err)
	}
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	migratetest.Exercise(t, Migrations(), func(t *testing.T) func() *sql.DB {
		path := filepath.Join(t.TempDir(), "registry.db")
		return func() *sql.DB {
			db, err := sqlitedb.Open(path, url.Values{"_txlock": {"immediate"}, "_pragma": {"busy_timeout(5000)", "journal_mode(WAL)", "foreign_keys(1)"}}, 1, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			return db
		}
	})
}
