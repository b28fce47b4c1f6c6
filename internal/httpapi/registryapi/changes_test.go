package registryapi_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/audit"
	"github.com/dataquarantine/dataquarantine/internal/httpapi"
	"github.com/dataquarantine/dataquarantine/internal/httpapi/registryapi"
	qsqlite "github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/registry"
)

// TestChangesAreAudited: registering and rolling out through the Go API
// (as the web UI does) is audited as the API's calls are, as the caller; a
// change refused is not.
func TestChangesAreAudited(t *testing.T) {
	t.Parallel()
	_, reg := serve(t)
	meta, err := qsqlite.New(qsqlite.Options{Path: filepath.Join(t.TempDir(), "dq.db")})
	must(t, err)
	t.Cleanup(func() { _ = meta.Close() })
	h, err := registryapi.New(registryapi.Options{Registry: reg, Audit: meta.AuditLog()})
	must(t, err)
	ctx, recorded := audit.WithScope(httpapi.WithPrincipal(context.Background(), httpapi.Principal{Name: "root", Role: "admin"}))

	s, err := h.Register(ctx, registry.RegisterRequest{Subject: "s", Schema: avroV1, Label: "1.0.0"})
	must(t, err)
	v, err := h.SetState(ctx, "s", registry.Latest, registry.StateEnforced)
	must(t, err)
	equal(t, "state", v.State, registry.StateEnforced)
	if _, err := h.SetState(ctx, "s", 9, registry.StateEnforced); err == nil {
		t.Fatal("a missing version changed state")
	}
	var wrong *registry.WrongStateError
	if _, err := h.ChangeState(ctx, "s", 1, registry.StateShadow, registry.StateRegistered); !errors.As(err, &wrong) {
		t.Fatalf("a change from shadow of an enforced version: %v, want a WrongStateError", err)
	}
	if !recorded() {
		t.Fatal("the changes did not tell the audit scope they were recorded")
	}
	page, err := meta.AuditLog().List(context.Background(), audit.Filter{Target: "schema/s/1"})
	must(t, err)
	var got []string
	for _, e := range page.Events {
		got = append(got, e.Action+" by "+e.Actor+" ("+e.Role+"): "+string(e.Details))
	}
	equal(t, "events, newest first", got, []string{
		`schema.state by root (admin): {"from":"registered","to":"enforced"}`,
		`schema.register by root (admin): {"id":` + strconv.Itoa(s.SchemaID) + `,"state":"registered"}`,
	})
}
