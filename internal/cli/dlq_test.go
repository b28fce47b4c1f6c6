package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/app/apptest"
	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/dlqimport/dlqtest"
	"github.com/dataquarantine/dataquarantine/internal/kafka"
)

// A user adopts a Kafka Connect DLQ: imports it with the CLI into a running
// gateway's stores, finds the records through the API, and after fixing the
// connector sends them back to the topic the connector reads.
func TestDLQImportCommand(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	cfg := config.Default()
	cfg.Log.Level = "warn"
	cfg.DataDir = dataDir
	g := apptest.Start(t, cfg)
	ctx := context.Background()
	cl, err := kgo.NewClient(kgo.SeedBrokers(g.Kafka), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	require.NoError(t, err)
	defer cl.Close()
	require.NoError(t, kafka.EnsureTopics(ctx, cl, []kafka.TopicSpec{
		{Name: "connect-dlq", Partitions: 1, ReplicationFactor: -1},
		{Name: "orders", Partitions: 3, ReplicationFactor: -1},
	}))
	var recs []*kgo.Record
	for _, off := range []int64{41, 42, 43} {
		recs = append(recs, dlqtest.Connect("connect-dlq", dlqtest.Original{
			Topic: "orders", Partition: 2, Offset: off, Key: []byte("order-" + string(rune('0'+off-40))),
			Value: []byte(`{"id": 7,`), Headers: []kgo.RecordHeader{{Key: "traceparent", Value: []byte("00-abc-01")}},
			Timestamp: time.Now(),
		}, dlqtest.JSONConverterFailure("s3-sink"), true))
	}
	recs = append(recs, dlqtest.Connect("connect-dlq", dlqtest.Original{Topic: "orders", Value: []byte("x")}, dlqtest.ConnectContext{}, false))
	require.NoError(t, cl.ProduceSync(ctx, recs...).FirstErr())

	importCmd := []string{"dlq", "import", "--topic", "connect-dlq", "--from", "connect", "--data-dir", dataDir, "--brokers", g.Kafka}
	code, out, errOut := runCLI(t, "", nil, importCmd...)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "connect-dlq (Kafka Connect, 1 partition): 4 records read, 4 imported, 0 already in the quarantine\n"+
		"  imported by error type: DECODE_ERROR 3, SCHEMA_VIOLATION 1\n"+
		"  1 lacked the Kafka Connect headers: their error says what is missing (keyword dlq.missing_headers)\n", out)

	code, out, errOut = runCLI(t, "", nil, append(importCmd, "--json")...)
	require.Equal(t, 0, code, errOut)
	var again struct {
		Read, Imported, Skipped int
		Error                   string
	}
	require.NoError(t, json.Unmarshal([]byte(out), &again))
	require.Equal(t, [3]int{4, 0, 4}, [3]int{again.Read, again.Imported, again.Skipped}, "importing again adds nothing")

	// The API lists them by their original topic.
	code, out, errOut = runCLI(t, "", nil, "quarantine", "list", "--server", g.URL, "--topic", "orders", "--json")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, 3, strings.Count(out, `"id"`), out)
	require.Contains(t, out, "org.apache.kafka.connect.errors.DataException")

	// The connector is fixed: redrive to the original topic.
	code, out, errOut = runCLI(t, "", nil, "quarantine", "reprocess", "--server", g.URL, "--topic", "orders", "--target", "source", "--reason", "connector fixed", "--wait")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "3 passed")
	got := apptest.ConsumeExactly(t, g.Kafka, "orders", 3)
	for _, r := range got {
		require.Equal(t, int32(2), r.Partition, "the original partition")
		require.Equal(t, `{"id": 7,`, string(r.Value))
		require.Equal(t, []kgo.RecordHeader{
			{Key: "traceparent", Value: []byte("00-abc-01")},
			{Key: "dq.replay.count", Value: []byte("1")},
		}, r.Headers)
	}
}

func TestDLQImportCommandErrors(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, "", nil, "dlq", "import", "--help")
	require.Equal(t, 0, code)
	require.Contains(t, out, "Exit status:\n  0  every record was read and is stored\n  1  the import failed")
	code, out, _ = runCLI(t, "", nil, "dlq", "--help")
	require.Equal(t, 0, code)
	require.Contains(t, out, "import     read a dead-letter topic once into the quarantine")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"dlq"}, "Subcommands:"},
		{[]string{"dlq", "export"}, `dlq: unknown subcommand "export"`},
		{[]string{"dlq", "import", "--topic", "t"}, "--topic and --from are required"},
		{[]string{"dlq", "import", "--topic", "t", "--from", "kafka-connect"}, `--from: "kafka-connect" is not a dead-letter format: want connect, confluent, dq`},
		{[]string{"dlq", "import", "--topic", "bad topic", "--from", "dq"}, "--topic: \"bad topic\" is not a legal topic name"},
		{[]string{"dlq", "import", "--topic", "t", "--from", "dq", "--source-topic", "a/b"}, "--source-topic: "},
		{[]string{"dlq", "import", "--topic", "t", "--from", "dq", "--batch-size", "0"}, "--batch-size must be 1 to 100000"},
		{[]string{"dlq", "import", "--topic", "t", "--from", "dq", "extra"}, "takes no arguments"},
	} {
		code, _, errOut := runCLI(t, "", nil, tc.args...)
		require.Equal(t, 2, code, "%v", tc.args)
		require.Contains(t, errOut, tc.want, "%v", tc.args)
	}
	code, _, errOut := runCLI(t, "", []string{"DQ_TOPICS_DLQ_HEADERS=both"}, "dlq", "import", "--topic", "t", "--from", "dq")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `topics.dlq_headers: "both" is not one of dq, dq+connect, dq+confluent`)

	// Failures exit 1 with the reason.
	code, _, errOut = runCLI(t, "", nil, "dlq", "import", "--topic", "t", "--from", "dq", "--data-dir", t.TempDir()+"/none")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "pass --data-dir or --config")
	_, broker := runningGatewayWith(t, nil)
	code, _, errOut = runCLI(t, "", nil, "dlq", "import", "--topic", "no-such-dlq", "--from", "connect", "--data-dir", t.TempDir(), "--brokers", broker)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "dlq import: no-such-dlq: the topic does not exist")
}
