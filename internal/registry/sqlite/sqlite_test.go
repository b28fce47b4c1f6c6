package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/registry/registrytest"
	"github.com/dataquarantine/dataquarantine/internal/registry/sqlite"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	registrytest.Exercise(t, func(t *testing.T) registry.Store {
		t.Helper()
		s, err := sqlite.New(sqlite.Options{Path: filepath.Join(t.TempDir(), "registry.db")})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestReopenKeepsRows(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "registry.db")
	s, err := sqlite.New(sqlite.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	r, err := registry.New(registry.Options{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	v, err := r.Register(t.Context(), registry.RegisterRequest{Subject: "s", Format: "JSON", Schema: `{"type":"object"}`})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.New(sqlite.Options{Path: path}) // migrations run again: a no-op
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	r, err = registry.New(registry.Options{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Get(t.Context(), "s", registry.Latest, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.SchemaID != v.SchemaID || got.Version.Version != 1 {
		t.Fatalf("after reopen: %+v, want id %d version 1", got, v.SchemaID)
	}
}

func TestNewRefusesBadPaths(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if s, err := sqlite.New(sqlite.Options{Path: p}); err == nil {
			_ = s.Close()
			t.Errorf("New(%q) succeeded, want an error", p)
		}
	}
}
