// Package confluentjs_test proves the gateway's Confluent compatibility with
// Confluent's own clients: it starts a real gateway and runs
// conformance.test.mjs, in which Confluent's official JavaScript Schema
// Registry client and serdes (@confluentinc/schemaregistry) and kafkajs
// register, look up, fetch, check and delete Avro, JSON Schema and Protobuf
// schemas, and send records through the gateway and back.
//
// It needs node and the packages of package-lock.json in node_modules
// (scripts/test-deps.sh runs `npm ci` here; `make test` runs it). Without
// them the test is skipped, or fails under CI=true.
package confluentjs_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/dataquarantine/dataquarantine/internal/app/apptest"
	"github.com/dataquarantine/dataquarantine/internal/config"
)

// The version 1 the gateway's configuration seeds for each subject: the
// schemas the JavaScript side registers, with their keys in another order
// (Avro) or in the order the other side reorders (JSON), and as .proto text
// where the serializer sends a descriptor (Protobuf).
const (
	avroPayment = `{"fields":[{"type":"string","name":"id"},{"type":"long","name":"cents"},{"default":"EUR","type":"string","name":"currency"}],"namespace":"shop","name":"Payment","type":"record"}`
	jsonOrder   = `{"type":"object","required":["id","cents"],"additionalProperties":false,"properties":{"id":{"type":"string"},"cents":{"type":"integer","minimum":0},"note":{"type":"string"}}}`
	protoOrder  = "syntax = \"proto3\";\npackage shop;\n\nmessage Order {\n  string id = 1;\n  int64 cents = 2;\n  repeated string tags = 3;\n}"
)

func TestConfluentJSClients(t *testing.T) {
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join("node_modules", "@confluentinc", "schemaregistry", "package.json"))
	}
	if err != nil {
		msg := "Confluent's JavaScript clients are not installed (" + err.Error() + "): run scripts/test-deps.sh, which runs `npm ci` in test/confluent-js (make test does)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; CI=true, so this fails instead of skipping")
		}
		t.Skip(msg)
	}

	cfg := config.Default()
	cfg.Kafka.Partitions = 1
	cfg.Topics.Inputs = []config.Input{
		{Topic: "raw-avro", Subject: "raw-avro-value"},
		{Topic: "raw-json", Subject: "raw-json-value"},
		{Topic: "raw-proto", Subject: "raw-proto-value"},
	}
	cfg.Schemas = []config.Schema{
		{Subject: "raw-avro-value", Type: config.SchemaTypeAvro, Version: 1, Schema: avroPayment},
		{Subject: "raw-json-value", Type: config.SchemaTypeJSON, Version: 1, Schema: jsonOrder},
		{Subject: "raw-proto-value", Type: config.SchemaTypeProtobuf, Version: 1, Schema: protoOrder},
	}
	gw := apptest.Start(t, cfg)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "conformance.test.mjs")
	cmd.Env = append(os.Environ(), "DQ_REGISTRY_URL="+gw.URL+"/registry", "DQ_KAFKA="+gw.Kafka, "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("the JavaScript conformance test did not finish within 4 minutes:\n%s", out)
	}
	if err != nil {
		t.Fatalf("the JavaScript conformance test failed (%v):\n%s", err, out)
	}
	t.Logf("%s", out)
}
