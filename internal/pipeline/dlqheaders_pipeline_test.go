package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/kafka"
	"github.com/dataquarantine/dataquarantine/internal/pipeline"
)

// runCompat starts a pipeline whose DLQ records carry compat's headers.
func (e *env) runCompat(group string, compat pipeline.DLQCompat) (stop func() error) {
	e.t.Helper()
	cl, err := kafka.NewGroupClient(kafka.GroupOptions{Brokers: []string{e.addr}, GroupID: group, Topics: []string{rawTopic}})
	require.NoError(e.t, err)
	p, err := pipeline.New(pipeline.Options{
		Client: cl, Engine: e.engine, Metadata: e.meta, Payloads: e.payloads,
		CleanTopic: cleanTopic, DLQTopic: dlqTopic, BatchSize: 50, DLQCompat: compat,
		RetryBackoffMin: time.Millisecond, RetryBackoffMax: 5 * time.Millisecond,
	})
	require.NoError(e.t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	return func() error {
		cancel()
		err := <-done
		cl.Close()
		return err
	}
}

// With topics.dlq_headers dq+connect or dq+confluent, DLQ records carry the
// other tool's headers beside the dq.* ones; clean records get none.
func TestPipelineDLQCompatHeaders(t *testing.T) {
	e := newEnv(t)
	e.produce(
		&kgo.Record{
			Partition: 2, Key: []byte("bad"), Value: []byte(`{"event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`),
			Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("t")}},
		},
		&kgo.Record{Partition: 1, Key: []byte("good"), Value: []byte(valid(1))},
	)
	stop := e.runCompat("connect", pipeline.DLQCompat{Headers: pipeline.DLQHeadersConnect, ConnectorName: "gw-1"})
	dlq := e.consume(dlqTopic, 1)[0]
	clean := e.consume(cleanTopic, 1)[0]
	require.NoError(t, stop())

	require.Equal(t, "t", header(dlq, "trace"))
	require.Equal(t, "MISSING_FIELD", header(dlq, pipeline.HeaderErrorType), "dq.* headers stay")
	for k, want := range map[string]string{
		"__connect.errors.topic":                "raw-events",
		"__connect.errors.partition":            "2",
		"__connect.errors.offset":               header(dlq, pipeline.HeaderSourceOffset),
		"__connect.errors.connector.name":       "gw-1",
		"__connect.errors.task.id":              "0",
		"__connect.errors.stage":                "VALUE_CONVERTER",
		"__connect.errors.class.name":           "dataquarantine.validate",
		"__connect.errors.exception.class.name": "dataquarantine.MISSING_FIELD",
	} {
		require.Equal(t, want, header(dlq, k), k)
	}
	require.True(t, strings.HasPrefix(header(dlq, "__connect.errors.exception.message"), "/user_id: "))
	require.True(t, strings.HasPrefix(header(dlq, "__connect.errors.exception.stacktrace"), "dataquarantine.MISSING_FIELD: /user_id: "))
	for _, h := range clean.Headers {
		require.False(t, pipeline.DLQContextHeader(h.Key), "clean record got %s", h.Key)
	}

	// The same record again under another group, with Confluent's headers.
	stop = e.runCompat("confluent", pipeline.DLQCompat{Headers: pipeline.DLQHeadersConfluent})
	dlqs := e.consume(dlqTopic, 2)
	e.consume(cleanTopic, 2)
	require.NoError(t, stop())
	second := dlqs[1]
	for k, want := range map[string]string{
		"__rule.name": "MISSING_FIELD", "__rule.mode": "READ", "__rule.subject": "user_event", "__rule.topic": "raw-events",
	} {
		require.Equal(t, want, header(second, k), k)
	}
	require.True(t, strings.HasPrefix(header(second, "__rule.exception"), "/user_id: "))
	require.Equal(t, "<missing>", header(second, "__connect.errors.topic"))
}
