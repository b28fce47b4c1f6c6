package bench

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/registry"
	"github.com/dataquarantine/dataquarantine/internal/schema"
)

// candidateSchema is the version --shadow evaluates beside the enforced
// one: the workload's schema with user_id bounded and an optional
// session_id, a change a team would try in shadow first.
func candidateSchema() (string, error) {
	var doc map[string]any
	if err := json.Unmarshal([]byte(config.Default().Schemas[0].Schema), &doc); err != nil {
		return "", fmt.Errorf("the workload's schema: %w", err)
	}
	props, ok := doc["properties"].(map[string]any)
	if !ok {
		return "", fmt.Errorf("the workload's schema has no properties")
	}
	userID, ok := props["user_id"].(map[string]any)
	if !ok {
		return "", fmt.Errorf("the workload's schema has no user_id")
	}
	userID["maxLength"] = 10
	props["session_id"] = map[string]any{"type": "string", "minLength": 1}
	b, err := json.Marshal(doc)
	return string(b), err
}

// putCandidateInShadow registers the candidate as version 2 of the
// workload's subject, in shadow, before the gateway runs.
func putCandidateInShadow(ctx context.Context, reg *registry.Registry) error {
	text, err := candidateSchema()
	if err != nil {
		return err
	}
	if _, err := reg.SetCompatibility(ctx, subject, "NONE"); err != nil {
		return fmt.Errorf("--shadow: %w", err)
	}
	if _, err := reg.Register(ctx, registry.RegisterRequest{
		Subject: subject, Format: schema.FormatJSON, Schema: text, State: registry.StateShadow,
	}); err != nil {
		return fmt.Errorf("--shadow: registering the candidate version: %w", err)
	}
	return nil
}

// shadowEvaluated reads from the gateway's metrics registry how many
// records the versions in shadow judged (schema_shadow_verdicts_total,
// every outcome).
func shadowEvaluated(g prometheus.Gatherer) (int64, error) {
	mfs, err := g.Gather()
	if err != nil {
		return 0, fmt.Errorf("reading the gateway's metrics: %w", err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "schema_shadow_verdicts_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			n += m.GetCounter().GetValue()
		}
	}
	return int64(n), nil
}
