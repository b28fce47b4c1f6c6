package postgres_test

import (
	"context"
	"strings"
	"testing"

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
