package app_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/config"
)

// With retention.max_age set, the gateway purges at start (and every
// interval) the quarantine rows older than it, by the Kafka record's
// timestamp, and counts them; younger rows and recent payloads stay.
func TestGatewayRetention(t *testing.T) {
	dataDir := t.TempDir()
	gw := start(t, dataDir)
	bad := func(key string) *kgo.Record {
		return &kgo.Record{Key: []byte(key), Value: []byte(`{"user_id":"USER123456","event_type":"scroll","timestamp":"2026-01-10T19:50:00Z"}`)}
	}
	old := bad("old")
	old.Timestamp = time.Now().Add(-72 * time.Hour)
	produce(t, gw.app.KafkaAddr(), old, bad("young"))
	dlq := consumeExactly(t, gw.app.KafkaAddr(), "quarantine-dlq", 2)
	ids := map[string]string{}
	for _, r := range dlq {
		ids[string(r.Key)] = header(r, "dq.quarantine.id")
	}
	var detail quarantineItem
	require.Eventually(t, func() bool {
		return gw.getJSON("/api/v1/quarantine/"+ids["old"], &detail) == 200 &&
			gw.getJSON("/api/v1/quarantine/"+ids["young"], &detail) == 200
	}, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, float64(0), gw.metric(`retention_purged_total{store="metadata"}`), "retention is off by default")
	gw.stop()

	cfg := config.Default()
	cfg.DataDir = dataDir
	cfg.Retention.MaxAge = 48 * time.Hour
	gw = startWith(t, cfg)
	require.Eventually(t, func() bool {
		return gw.metric(`retention_purged_total{store="metadata"}`) == 1
	}, 10*time.Second, 20*time.Millisecond, "the purge at start")
	var apiErr struct{}
	require.Equal(t, 404, gw.getJSON("/api/v1/quarantine/"+ids["old"], &apiErr))
	require.Equal(t, 200, gw.getJSON("/api/v1/quarantine/"+ids["young"], &detail))
	require.NotNil(t, detail.Payload, "the payload segment, written just now, is kept")
	require.Equal(t, float64(0), gw.metric(`retention_purged_total{store="payloads"}`))
}
