package app_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
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
	testwait.For(t, 10*time.Second, "both records quarantined", func() error {
		for _, age := range []string{"old", "young"} {
			if code := gw.getJSON("/api/v1/quarantine/"+ids[age], &detail); code != 200 {
				return fmt.Errorf("the %s one: status %d", age, code)
			}
		}
		return nil
	})
	require.Equal(t, float64(0), gw.metric(`retention_purged_total{store="metadata"}`), "retention is off by default")
	gw.stop()

	cfg := config.Default()
	cfg.DataDir = dataDir
	cfg.Retention.MaxAge = 48 * time.Hour
	gw = startWith(t, cfg)
	testwait.For(t, 10*time.Second, "the purge at start", func() error {
		if n := gw.metric(`retention_purged_total{store="metadata"}`); n != 1 {
			return fmt.Errorf("%v rows purged", n)
		}
		return nil
	})
	var apiErr struct{}
	require.Equal(t, 404, gw.getJSON("/api/v1/quarantine/"+ids["old"], &apiErr))
	require.Equal(t, 200, gw.getJSON("/api/v1/quarantine/"+ids["young"], &detail))
	require.NotNil(t, detail.Payload, "the payload segment, written just now, is kept")
	require.Equal(t, float64(0), gw.metric(`retention_purged_total{store="payloads"}`))
}
