package audit_test

import (
	"context"
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/audit"
)

func TestScope(t *testing.T) {
	audit.Recorded(context.Background()) // no scope: nothing to tell, no panic

	ctx, recorded := audit.WithScope(context.Background())
	if recorded() {
		t.Fatal("a fresh scope reports a recorded change")
	}
	child, cancel := context.WithCancel(ctx)
	defer cancel()
	audit.Recorded(child)
	if !recorded() {
		t.Fatal("Recorded in a derived context did not reach the scope")
	}
	_, other := audit.WithScope(context.Background())
	if other() {
		t.Fatal("scopes share their flag")
	}
}
