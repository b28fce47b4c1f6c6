package bench

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// The check catches a misrouted, a duplicated and a missing record.
func TestVerifyReportsWrongRouting(t *testing.T) {
	t.Parallel()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "clean", "dlq"))
	require.NoError(t, err)
	defer c.Close()
	meta, err := sqlite.New(sqlite.Options{Path: filepath.Join(t.TempDir(), "dq.db")})
	require.NoError(t, err)
	defer meta.Close()

	// Records 0 and 1 are valid, 2 is invalid, 3 is valid.
	w := &workload{kinds: []record.ErrorType{"", record.MissingField}, want: []uint8{0, 0, 1, 0}}
	rec := func(topic string, i int, errType string) *kgo.Record {
		r := &kgo.Record{Topic: topic, Key: []byte("b" + strconv.Itoa(i)), Value: []byte("{}")}
		if errType != "" {
			r.Headers = []kgo.RecordHeader{{Key: "dq.error.type", Value: []byte(errType)}}
		}
		return r
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	require.NoError(t, err)
	defer cl.Close()
	require.NoError(t, cl.ProduceSync(context.Background(),
		rec("clean", 0, ""),
		rec("clean", 0, ""),            // duplicated
		rec("clean", 2, ""),            // invalid, yet clean
		rec("dlq", 1, "TYPE_MISMATCH"), // valid, yet quarantined
		// 3 is missing
	).FirstErr())

	problems := verify(context.Background(), c.ListenAddrs(), "clean", "dlq", w, meta)
	require.Contains(t, problems, "record 2 should be MISSING_FIELD but reached the clean topic")
	require.Contains(t, problems, "record 1 is valid but was quarantined as TYPE_MISMATCH")
	require.Contains(t, problems, "record 0 routed 2 times")
	require.Contains(t, problems, "record 3 routed 0 times")
	require.Contains(t, problems, "metadata store has 0 MISSING_FIELD rows, want 1")
}
