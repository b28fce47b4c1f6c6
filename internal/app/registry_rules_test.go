package app_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/rules"
)

// TestRegistryRulesThroughPipeline: a business rule registered with a
// schema version through the Confluent API (a data-contract ruleSet) is
// run by the pipeline once that version is enforced, after the config's
// own rule for the same text: a record dated tomorrow is quarantined as a
// RULE_VIOLATION named after the rule, a record dated now is clean.
func TestRegistryRulesThroughPipeline(t *testing.T) {
	ctx := context.Background()
	const text = `{"type":"object","required":["id","timestamp"],"properties":{"id":{"type":"integer"},"timestamp":{"type":"string"}}}`
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Kafka.Partitions = 1
	cfg.Topics.Inputs = []config.Input{{Topic: "raw-events", Subject: "events"}}
	cfg.Schemas = []config.Schema{{
		Subject: "events", Type: config.SchemaTypeJSON, Version: 1, Schema: text,
		Rules: []rules.Spec{{Name: "positive_id", Expr: "message.id > 0", Message: "id must be positive", Field: "/id"}},
	}}
	gw := startWith(t, cfg)
	addr := gw.app.KafkaAddr()

	cl, err := sr.NewClient(sr.URLs(gw.base + "/registry"))
	require.NoError(t, err)
	_, err = cl.CreateSchema(ctx, "events", sr.Schema{Type: sr.TypeJSON, Schema: text, SchemaRuleSet: &sr.SchemaRuleSet{
		DomainRules: []sr.SchemaRule{{
			Name: "future_timestamp_check", Kind: sr.SchemaRuleKindCondition, Mode: sr.SchemaRuleModeWrite, Type: "CEL",
			Expr:   "timestamp(message.timestamp) <= now",
			Params: map[string]string{"message": "Timestamp cannot be in future", "field": "/timestamp"},
		}},
	}})
	require.NoError(t, err)
	// A CEL condition that does not compile is refused at registration.
	_, err = cl.CreateSchema(ctx, "events", sr.Schema{Type: sr.TypeJSON, Schema: text, SchemaRuleSet: &sr.SchemaRuleSet{
		DomainRules: []sr.SchemaRule{{Name: "broken", Kind: sr.SchemaRuleKindCondition, Type: "CEL", Expr: "message.id >"}},
	}})
	var re *sr.ResponseError
	require.ErrorAs(t, err, &re)
	require.Equal(t, 42210, re.ErrorCode)

	// Enforce v2 and retire v1, so that no fallback without the rule
	// accepts what v2 refuses.
	gw.setState("events", 2, "enforced")
	gw.setState("events", 1, "deprecated")

	now := time.Now().UTC()
	future := `{"id":1,"timestamp":"` + now.Add(24*time.Hour).Format(time.RFC3339) + `"}`
	both := `{"id":-1,"timestamp":"` + now.Add(24*time.Hour).Format(time.RFC3339) + `"}`
	fine := `{"id":2,"timestamp":"` + now.Add(-time.Minute).Format(time.RFC3339) + `"}`
	produce(t, addr,
		&kgo.Record{Key: []byte("k"), Value: []byte(future)},
		&kgo.Record{Key: []byte("k"), Value: []byte(both)},
		&kgo.Record{Key: []byte("k"), Value: []byte(fine)},
	)
	clean := consumeExactly(t, addr, cfg.Topics.Clean, 1)
	require.Equal(t, fine, string(clean[0].Value))
	dlq := consumeExactly(t, addr, cfg.Topics.DLQ, 2)

	require.Equal(t, future, string(dlq[0].Value))
	require.Equal(t, string(record.RuleViolation), header(dlq[0], pipeline.HeaderErrorType))
	require.Equal(t, "/timestamp", header(dlq[0], pipeline.HeaderErrorField))
	require.Equal(t, "Timestamp cannot be in future", header(dlq[0], pipeline.HeaderErrorMessage))
	require.Equal(t, "2", header(dlq[0], pipeline.HeaderSchemaVersion))
	require.Equal(t, []string{"future_timestamp_check"}, keywords(t, dlq[0]))

	require.Equal(t, both, string(dlq[1].Value))
	require.Equal(t, []string{"positive_id", "future_timestamp_check"}, keywords(t, dlq[1]), "the config's rules first")
}

func keywords(t *testing.T, r *kgo.Record) []string {
	t.Helper()
	var errs []record.Violation
	require.NoError(t, json.Unmarshal([]byte(header(r, pipeline.HeaderErrors)), &errs))
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, e.Keyword)
	}
	return out
}
