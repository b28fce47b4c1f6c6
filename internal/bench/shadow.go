package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

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

// shadowEvaluated reads from the gateway's /metrics how many records the
// versions in shadow judged (schema_shadow_verdicts_total, every outcome).
func shadowEvaluated(ctx context.Context, httpAddr string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+httpAddr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("reading the gateway's metrics: %w", err)
	}
	defer func() { _ = resp.Body.Close() }() // read to the end or given up: nothing to do
	var n int64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "schema_shadow_verdicts_total{") {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return 0, fmt.Errorf("reading %q: %w", line, err)
		}
		n += int64(v)
	}
	return n, sc.Err()
}
