package app_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
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
		gw.setState("user_event", 1, "deprecated")
		gw.stop()
	}
}

// TestRolloutThroughPipeline walks a gradual rollout end to end (design notes
// Q5): v1 enforced from the config; v2 registered through the Confluent API
// does not decide yet; once enforced through the rollout API, v2 decides,
// records only v1 accepts pass via the fallback labelled v1 (header and
// metric), and records neither accepts carry v2's errors.
func TestRolloutThroughPipeline(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Kafka.Partitions = 1
	cfg.Topics.Inputs = []config.Input{{Topic: "raw-events", Subject: "orders"}}
	cfg.Schemas = []config.Schema{{
		Subject: "orders", Type: config.SchemaTypeJSON, Version: 1,
		Schema: `{"type":"object","required":["id"],"properties":{"id":{"type":"integer"}}}`,
	}}
	gw := startWith(t, cfg)
	addr := gw.app.KafkaAddr()

	cl, err := sr.NewClient(sr.URLs(gw.base + "/registry"))
	require.NoError(t, err)
	// v2 is a breaking change (id becomes a string, currency required):
	// allowed only with the subject's compatibility checks off.
	for _, res := range cl.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatNone}, "orders") {
		require.NoError(t, res.Err)
	}
	v2, err := cl.CreateSchema(ctx, "orders", sr.Schema{
		Type:   sr.TypeJSON,
		Schema: `{"type":"object","required":["id","currency"],"properties":{"id":{"type":"string"},"currency":{"type":"string"}}}`,
	})
	require.NoError(t, err)
	require.Equal(t, 2, v2.Version)

	onlyV1 := `{"id":1}`
	onlyV2 := `{"id":"o-1","currency":"EUR"}`
	neither := `{"name":"x"}`
	send := func() {
		recs := make([]*kgo.Record, 0, 3)
		for _, v := range []string{onlyV1, onlyV2, neither} {
			recs = append(recs, &kgo.Record{Key: []byte("k"), Value: []byte(v)})
		}
		produce(t, addr, recs...)
	}

	// Registered, not enforced: v1 still decides.
	send()
	clean := consumeExactly(t, addr, cfg.Topics.Clean, 1)
	require.Equal(t, onlyV1, string(clean[0].Value))
	require.Empty(t, header(clean[0], pipeline.HeaderSchemaVersion), "the enforced version decided: no label")
	dlq := consumeExactly(t, addr, cfg.Topics.DLQ, 2)
	for _, r := range dlq {
		require.Equal(t, "1", header(r, pipeline.HeaderSchemaVersion))
	}

	// Enforce v2 through the gateway's rollout API.
	gw.setState("orders", 2, "enforced")
	require.Equal(t, 2.0, gw.metric(`schema_enforced_version{subject="orders"}`))

	send()
	clean = consumeExactly(t, addr, cfg.Topics.Clean, 3)
	require.Equal(t, onlyV1, string(clean[1].Value))
	require.Equal(t, "1", header(clean[1], pipeline.HeaderSchemaVersion), "accepted by the fallback: labelled v1")
	require.Equal(t, "orders", header(clean[1], pipeline.HeaderSchemaSubject))
	require.Equal(t, onlyV2, string(clean[2].Value))
	require.Empty(t, header(clean[2], pipeline.HeaderSchemaVersion))
	dlq = consumeExactly(t, addr, cfg.Topics.DLQ, 3)
	last := dlq[2]
	require.Equal(t, neither, string(last.Value))
	require.Equal(t, "2", header(last, pipeline.HeaderSchemaVersion), "the enforced version's errors")
	require.Equal(t, "MISSING_FIELD", header(last, pipeline.HeaderErrorType))
	require.Equal(t, 1.0, gw.metric(`schema_fallback_total{from_version="2",subject="orders",to_version="1"}`))

	var row struct {
		SchemaVersion int `json:"schema_version"`
		Errors        []struct {
			Field string `json:"field"`
		} `json:"errors"`
	}
	require.Equal(t, http.StatusOK, gw.getJSON("/api/v1/quarantine/"+header(last, pipeline.HeaderQuarantineID), &row))
	require.Equal(t, 2, row.SchemaVersion)
	fields := []string{}
	for _, e := range row.Errors {
		fields = append(fields, e.Field)
	}
	require.ElementsMatch(t, []string{"/id", "/currency"}, fields)
}
