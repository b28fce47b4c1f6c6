package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/sr"
)

// TestRegistryMountedAndSeeded: the config's schema is in the registry at
// start (GitOps), enforced; the Confluent API answers under /registry; and
// a restart does not register the config's schema again.
func TestRegistryMountedAndSeeded(t *testing.T) {
	dataDir := t.TempDir()
	ctx := context.Background()
	for round := range 2 {
		gw := start(t, dataDir)
		cl, err := sr.NewClient(sr.URLs(gw.base + "/registry"))
		require.NoError(t, err)
		subjects, err := cl.Subjects(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{"user_event"}, subjects, "round %d", round)
		versions, err := cl.SubjectVersions(ctx, "user_event")
		require.NoError(t, err)
		require.Equal(t, []int{1}, versions, "round %d: the config schema was registered again", round)
		s, err := cl.SchemaByVersion(ctx, "user_event", 1)
		require.NoError(t, err)
		require.Equal(t, sr.TypeJSON, s.Type)
		// The rest of the API is still served beside it.
		var health map[string]any
		require.Equal(t, 200, gw.getJSON("/api/v1/stats", &health))
		// The rollout extension is mounted in the gateway's own API.
		req, err := http.NewRequest(http.MethodPut, gw.base+"/api/v1/schemas/user_event/versions/1/state", strings.NewReader(`{"state":"deprecated"}`))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, http.StatusOK, resp.StatusCode)
		gw.stop()
	}
}
