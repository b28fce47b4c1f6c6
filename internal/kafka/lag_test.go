package kafka_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/kafka"
)

func TestLagReporter(t *testing.T) {
	t.Parallel()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "in", "other"))
	require.NoError(t, err)
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	require.NoError(t, err)
	defer cl.Close()
	ctx := context.Background()
	var recs []*kgo.Record
	for i := range 10 {
		recs = append(recs, &kgo.Record{Topic: "in", Partition: int32(i % 2), Value: []byte("x")})
	}
	recs = append(recs, &kgo.Record{Topic: "other", Value: []byte("x")})
	require.NoError(t, cl.ProduceSync(ctx, recs...).FirstErr())

	// The group has read 3 of partition 0's 5 records and all of partition 1's.
	offsets := kadm.Offsets{}
	offsets.Add(kadm.Offset{Topic: "in", Partition: 0, At: 3, LeaderEpoch: -1})
	offsets.Add(kadm.Offset{Topic: "in", Partition: 1, At: 5, LeaderEpoch: -1})
	offsets.Add(kadm.Offset{Topic: "other", Partition: 0, At: 0, LeaderEpoch: -1})
	_, err = kadm.NewClient(cl).CommitOffsets(ctx, "g", offsets)
	require.NoError(t, err)

	reg := prometheus.NewRegistry()
	l, err := kafka.NewLagReporter(kafka.LagOptions{Client: cl, Group: "g", Topics: []string{"in"}, Registerer: reg})
	require.NoError(t, err)
	require.NoError(t, l.Report(ctx))
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP kafka_lag Records in the input partition not yet committed by the gateway's consumer group (end offset minus committed offset).
# TYPE kafka_lag gauge
kafka_lag{partition="0",topic="in"} 2
kafka_lag{partition="1",topic="in"} 0
`)))
}
