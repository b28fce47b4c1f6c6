package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// TestReprocessAfterSchemaFix is the data engineer's loop (design notes Q1,
// Q3): records quarantined under v1, a fixed v2 registered and enforced, a
// dry run says which would pass, a job republishes those to the clean topic
// (dq.replay.count 1) and marks every record; a second run republishes
// nothing; each change is in the audit log with its actor.
func TestReprocessAfterSchemaFix(t *testing.T) {
	t.Run("at least once", func(t *testing.T) { reprocessAfterSchemaFix(t, false) })
	// The pipeline's client then produces only inside its transactions:
	// jobs publish through a producer of their own.
	t.Run("exactly once", func(t *testing.T) { reprocessAfterSchemaFix(t, true) })
}

func reprocessAfterSchemaFix(t *testing.T, exactlyOnce bool) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Kafka.ExactlyOnce = exactlyOnce
	cfg.Kafka.Partitions = 1
	cfg.Topics.Inputs = []config.Input{{Topic: "raw-events", Subject: "orders"}}
	cfg.Schemas = []config.Schema{{
		Subject: "orders", Type: config.SchemaTypeJSON, Version: 1,
		Schema: `{"type":"object","required":["id"],"properties":{"id":{"type":"integer"}}}`,
	}}
	gw := startWith(t, cfg)
	addr := gw.app.KafkaAddr()
	produce(t, addr,
		&kgo.Record{Key: []byte("a"), Value: []byte(`{"id":"A-1"}`)},
		&kgo.Record{Key: []byte("b"), Value: []byte(`{"id":"A-2"}`)},
		&kgo.Record{Key: []byte("c"), Value: []byte(`{"name":"no id"}`)},
	)
	consumeExactly(t, addr, cfg.Topics.DLQ, 3)

	// The fix: ids may be strings. Registered, then enforced.
	cl, err := sr.NewClient(sr.URLs(gw.base + "/registry"))
	require.NoError(t, err)
	_, err = cl.CreateSchema(ctx, "orders", sr.Schema{Type: sr.TypeJSON, Schema: `{"type":"object","required":["id"],"properties":{"id":{"type":["integer","string"]}}}`})
	require.NoError(t, err)
	gw.setState("orders", 2, "enforced")

	var dry struct {
		Matched, WouldPass, WouldFail int
		Sample                        []struct {
			ID     string `json:"id"`
			Errors []struct {
				Type  string `json:"type"`
				Field string `json:"field"`
			} `json:"errors"`
		} `json:"sample_failures"`
	}
	var raw map[string]json.RawMessage
	require.Equal(t, http.StatusOK, gw.send(http.MethodPost, "/api/v1/reprocess", `{"filter":{"topic":"raw-events"},"dry_run":true}`, &raw))
	require.NoError(t, json.Unmarshal(raw["matched"], &dry.Matched))
	require.NoError(t, json.Unmarshal(raw["would_pass"], &dry.WouldPass))
	require.NoError(t, json.Unmarshal(raw["would_fail"], &dry.WouldFail))
	require.NoError(t, json.Unmarshal(raw["sample_failures"], &dry.Sample))
	require.Equal(t, 3, dry.Matched)
	require.Equal(t, 2, dry.WouldPass)
	require.Equal(t, 1, dry.WouldFail)
	require.Len(t, dry.Sample, 1)
	require.Equal(t, "MISSING_FIELD", dry.Sample[0].Errors[0].Type)
	require.Equal(t, "/id", dry.Sample[0].Errors[0].Field)

	run := func() (passed, failed int) {
		var started struct {
			Job string `json:"job"`
		}
		require.Equal(t, http.StatusAccepted, gw.send(http.MethodPost, "/api/v1/reprocess",
			`{"filter":{"topic":"raw-events"},"target":"clean","reason":"v2 accepts string ids"}`, &started))
		var job struct {
			State   string `json:"state"`
			Matched int    `json:"matched"`
			Passed  int    `json:"passed"`
			Failed  int    `json:"failed"`
		}
		testwait.For(t, 20*time.Second, "the job to end", func() error {
			gw.getJSON("/api/v1/reprocess/"+started.Job, &job)
			if job.State == "running" {
				return errors.New("still running")
			}
			return nil
		})
		require.Equal(t, "done", job.State)
		return job.Passed, job.Failed
	}
	passed, failed := run()
	require.Equal(t, 2, passed)
	require.Equal(t, 1, failed)
	clean := consumeExactly(t, addr, cfg.Topics.Clean, 2)
	for _, r := range clean {
		require.Equal(t, "1", header(r, "dq.replay.count"))
		require.Contains(t, []string{`{"id":"A-1"}`, `{"id":"A-2"}`}, string(r.Value))
	}

	var page struct {
		Items []quarantineItem `json:"items"`
	}
	require.Equal(t, http.StatusOK, gw.getJSON("/api/v1/quarantine?status=reprocessed", &page))
	require.Len(t, page.Items, 2)
	require.Equal(t, http.StatusOK, gw.getJSON("/api/v1/quarantine?status=failed_again", &page))
	require.Len(t, page.Items, 1)
	require.Equal(t, "MISSING_FIELD", page.Items[0].ErrorType)

	// Again: the reprocessed records are not published twice; the one
	// that still fails is tried again and fails again.
	passed, failed = run()
	require.Equal(t, 0, passed)
	require.Equal(t, 1, failed)
	consumeExactly(t, addr, cfg.Topics.Clean, 2)

	var events struct {
		Events []struct {
			Actor   string          `json:"actor"`
			Action  string          `json:"action"`
			Target  string          `json:"target"`
			Reason  string          `json:"reason"`
			Details json.RawMessage `json:"details"`
		} `json:"events"`
	}
	require.Equal(t, http.StatusOK, gw.getJSON("/api/v1/audit?action=schema.state", &events))
	require.Len(t, events.Events, 1)
	require.Equal(t, "schema/orders/2", events.Events[0].Target)
	require.Equal(t, "anonymous", events.Events[0].Actor)
	require.JSONEq(t, `{"from":"registered","to":"enforced"}`, string(events.Events[0].Details))
	require.Equal(t, http.StatusOK, gw.getJSON("/api/v1/audit?action=reprocess.start", &events))
	require.Len(t, events.Events, 2)
	require.Equal(t, "v2 accepts string ids", events.Events[0].Reason)
	require.Equal(t, http.StatusOK, gw.getJSON("/api/v1/audit?action=http.request", &events))
	require.Empty(t, events.Events, "every change here was audited precisely, none generically")
}
