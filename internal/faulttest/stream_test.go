package faulttest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

const (
	rawTopic   = "raw-events"
	cleanTopic = "validated-events"
	dlqTopic   = "quarantine-dlq"
	group      = "dq-faulttest"
	partitions = 6
)

// cluster is a kfake cluster on a random 127.0.0.1 port, with the three
// topics created and a short minimum session timeout, so a killed member
// leaves the group in seconds.
type cluster struct {
	t    testing.TB
	c    *kfake.Cluster
	addr string
	cl   *kgo.Client
	adm  *kadm.Client
}

func newCluster(t testing.TB) *cluster {
	t.Helper()
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.SeedTopics(partitions, rawTopic, cleanTopic, dlqTopic),
		kfake.GroupMinSessionTimeout(time.Second),
	)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	k := &cluster{t: t, c: c, addr: c.ListenAddrs()[0]}
	k.cl, err = kgo.NewClient(kgo.SeedBrokers(k.addr), kgo.DefaultProduceTopic(rawTopic), kgo.ProducerLinger(0))
	require.NoError(t, err)
	t.Cleanup(k.cl.Close)
	k.adm = kadm.NewClient(k.cl)
	return k
}

// gatewayEnv is the configuration every gateway of a test shares, plus its
// own data dir.
func (k *cluster) gatewayEnv(dataDir string) map[string]string {
	return map[string]string{
		"DQ_DATA_DIR":                   dataDir,
		"DQ_KAFKA_BROKERS":              k.addr,
		"DQ_KAFKA_GROUP_ID":             group,
		"DQ_KAFKA_SESSION_TIMEOUT":      "3s",
		"DQ_PIPELINE_BATCH_SIZE":        "100",
		"DQ_PIPELINE_RETRY_BACKOFF_MAX": "500ms",
		"DQ_CIRCUIT_ENABLED":            "false",
		"DQ_LOG_LEVEL":                  "info",
	}
}

// input is what the test produced: for each record, its unique sequence
// number (in the key and the value), whether it is invalid, and where the
// broker put it (which fixes its quarantine id).
type input struct {
	mu      sync.Mutex
	n       int
	invalid map[int]bool
	value   map[int][]byte
	id      map[string]int // quarantine id -> seq, invalid records only
}

func newInput() *input {
	return &input{invalid: map[int]bool{}, value: map[int][]byte{}, id: map[string]int{}}
}

// isInvalid: every tenth record has an event type the schema's enum refuses.
func isInvalid(seq int) bool { return seq%10 == 0 }

func recordFor(seq int) *kgo.Record {
	eventType := "view"
	if isInvalid(seq) {
		eventType = "scroll"
	}
	v := fmt.Sprintf(`{"user_id":"USER123456","event_type":%q,"timestamp":"2026-01-10T19:50:00Z","seq":%d}`, eventType, seq)
	return &kgo.Record{Key: []byte("r-" + strconv.Itoa(seq)), Value: []byte(v)}
}

// produce produces records from..to-1 in chunks and records where each went.
func (k *cluster) produce(in *input, from, to int) {
	k.t.Helper()
	require.NoError(k.t, k.tryProduce(in, from, to))
}

// tryProduce is produce for another goroutine than the test's.
func (k *cluster) tryProduce(in *input, from, to int) error {
	const chunk = 1000
	for lo := from; lo < to; lo += chunk {
		var recs []*kgo.Record
		for seq := lo; seq < min(lo+chunk, to); seq++ {
			recs = append(recs, recordFor(seq))
		}
		res := k.cl.ProduceSync(context.Background(), recs...)
		if err := res.FirstErr(); err != nil {
			return fmt.Errorf("producing records %d..%d: %w", lo, lo+len(recs)-1, err)
		}
		in.mu.Lock()
		for _, r := range res {
			seq := lo + slices.Index(recs, r.Record)
			in.n++
			in.value[seq] = r.Record.Value
			if isInvalid(seq) {
				in.invalid[seq] = true
				in.id[record.ID(rawTopic, r.Record.Partition, r.Record.Offset)] = seq
			}
		}
		in.mu.Unlock()
	}
	return nil
}

func seqOf(t testing.TB, key []byte) int {
	t.Helper()
	s, ok := strings.CutPrefix(string(key), "r-")
	require.True(t, ok, "a record that the test did not produce: key %q", key)
	seq, err := strconv.Atoi(s)
	require.NoError(t, err, "key %q", key)
	return seq
}

// committed returns the sum of the group's committed offsets on the input
// topic: the number of input records whose every write is durable.
func (k *cluster) committed() int64 { return k.committedIn(group, rawTopic) }

// committedIn sums what group has committed on topic's partitions.
func (k *cluster) committedIn(group, topic string) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := k.adm.FetchOffsets(ctx, group)
	if err != nil {
		return -1
	}
	var sum int64
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil {
			sum += o.At
		}
	})
	return sum
}

// waitCommitted waits until the group has committed all n input records.
func (k *cluster) waitCommitted(n int, gws ...*gateway) {
	k.t.Helper()
	testwait.For(k.t, 2*time.Minute, "every input record committed", func() error {
		if c := k.committed(); c != int64(n) {
			for _, g := range gws {
				require.True(k.t, g.running(), "%s exited: %v\n%s", g.name, g.waitErr, g.logTail(4096))
			}
			return fmt.Errorf("%d of %d committed", c, n)
		}
		return nil
	})
}

// committedAtLeast is a testwait check: the group has committed at least n
// input records.
func (k *cluster) committedAtLeast(n int64) func() error {
	return func() error {
		if c := k.committed(); c < n {
			return fmt.Errorf("%d committed, want %d", c, n)
		}
		return nil
	}
}

// readAll returns every record of topic, from the start to the end offsets
// of the moment.
func (k *cluster) readAll(topic string) []*kgo.Record {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ends, err := k.adm.ListEndOffsets(ctx, topic)
	require.NoError(k.t, err)
	var want int64
	ends.Each(func(o kadm.ListedOffset) { want += o.Offset })
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(k.t, err)
	defer cl.Close()
	var out []*kgo.Record
	for int64(len(out)) < want {
		f := cl.PollFetches(ctx)
		require.NoError(k.t, ctx.Err(), "%s: read %d of %d records", topic, len(out), want)
		out = append(out, f.Records()...)
	}
	require.Len(k.t, out, int(want), topic)
	return out
}

// readQuiet returns every record of topic a consumer reading with isolation
// sees: it reads until the topic has been quiet for two seconds (the gateways
// have stopped). Unlike readAll it works on a topic written in transactions,
// where control records take offsets.
func (k *cluster) readQuiet(topic string, isolation kgo.IsolationLevel) []*kgo.Record {
	k.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(isolation))
	require.NoError(k.t, err)
	defer cl.Close()
	var out []*kgo.Record
	for quiet := 0; quiet < 2; {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		f := cl.PollFetches(ctx)
		cancel()
		f.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				require.NoError(k.t, err, "reading %s", topic)
			}
		})
		if recs := f.Records(); len(recs) > 0 {
			out = append(out, recs...)
			quiet = 0
		} else {
			quiet++
		}
	}
	return out
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// checkTopics asserts the at-least-once outcome in Kafka: each valid input
// record in the clean topic, each invalid one in the DLQ (with its
// quarantine id), at least once, and nothing else in either. It returns
// how many records were delivered more than once.
func (k *cluster) checkTopics(in *input) (duplicates int) {
	k.t.Helper()
	return k.checkRecords(in, k.readAll(cleanTopic), k.readAll(dlqTopic))
}

// checkRecords is checkTopics on records already read.
func (k *cluster) checkRecords(in *input, clean, dlq []*kgo.Record) (duplicates int) {
	k.t.Helper()
	seen := map[int]int{}
	for _, r := range clean {
		seq := seqOf(k.t, r.Key)
		require.False(k.t, in.invalid[seq], "invalid record %d in the clean topic", seq)
		require.Equal(k.t, string(in.value[seq]), string(r.Value), "clean record %d", seq)
		seen[seq]++
	}
	for _, r := range dlq {
		seq := seqOf(k.t, r.Key)
		require.True(k.t, in.invalid[seq], "valid record %d in the DLQ", seq)
		require.Equal(k.t, string(in.value[seq]), string(r.Value), "DLQ record %d", seq)
		require.Equal(k.t, "ENUM_VIOLATION", header(r, "dq.error.type"))
		require.Equal(k.t, seq, in.id[header(r, "dq.quarantine.id")], "quarantine id of DLQ record %d", seq)
		seen[seq]++
	}
	for seq := range in.n {
		require.Positive(k.t, seen[seq], "input record %d is in neither the clean topic nor the DLQ", seq)
		if seen[seq] > 1 {
			duplicates++
		}
	}
	require.Len(k.t, seen, in.n)
	return duplicates
}

// checkQuarantine asserts that meta holds exactly one row per invalid input
// record (and no other row), each pointing at its payload exactly as
// produced.
func checkQuarantine(t *testing.T, in *input, meta quarantine.MetadataStore, payloads quarantine.PayloadStore) {
	t.Helper()
	ctx := context.Background()
	rows := map[string]int{}
	walkRows(t, meta, func(e quarantine.Entry) {
		rows[e.ID]++
		seq, ok := in.id[e.ID]
		require.True(t, ok, "a quarantine row for no invalid input record: %s (offset %d)", e.ID, e.SourceOffset)
		require.Equal(t, record.ErrorType("ENUM_VIOLATION"), e.ErrorType)
		require.Equal(t, "/event_type", e.ErrorField)
		require.Equal(t, quarantine.StatusQuarantined, e.Status)
		require.Equal(t, "r-"+strconv.Itoa(seq), string(e.Key))
		p, err := payloads.Read(ctx, e.Payload)
		require.NoError(t, err, "payload of record %d", seq)
		require.Equal(t, string(in.value[seq]), string(p.Value), "payload of record %d", seq)
	})
	for id, n := range rows {
		require.Equal(t, 1, n, "quarantine row %s listed %d times", id, n)
	}
	require.Len(t, rows, len(in.id), "one quarantine row per invalid input record")
	counts, err := meta.CountByErrorType(ctx)
	require.NoError(t, err)
	require.Equal(t, map[record.ErrorType]int64{"ENUM_VIOLATION": int64(len(in.id))}, counts)
}

// walkRows calls fn with every row of meta, page by page.
func walkRows(t *testing.T, meta quarantine.MetadataStore, fn func(quarantine.Entry)) {
	t.Helper()
	f := quarantine.Filter{Limit: quarantine.MaxLimit}
	for {
		page, err := meta.List(context.Background(), f)
		require.NoError(t, err)
		for _, e := range page.Entries {
			fn(e)
		}
		if page.NextCursor == "" {
			return
		}
		f.Cursor = page.NextCursor
	}
}

// killAtRequest makes the broker SIGKILL gw when gw sends its nth request
// of kind key from now on (for EndTxn, its nth commit), before the broker
// handles it, and waits until gw is dead.
func (k *cluster) killAtRequest(gw *gateway, key kmsg.Key, n int) {
	k.t.Helper()
	killed := make(chan struct{})
	seen := 0
	k.c.ControlKey(int16(key), func(req kmsg.Request) (kmsg.Response, error, bool) {
		k.c.KeepControl()
		if end, ok := req.(*kmsg.EndTxnRequest); ok && !end.Commit {
			return nil, nil, false
		}
		if seen++; seen < n {
			return nil, nil, false
		}
		k.c.DropControl()
		_ = gw.cmd.Process.Signal(syscall.SIGKILL)
		close(killed)
		return nil, errors.New("killed before this request was handled"), true
	})
	testwait.Recv(k.t, time.Minute, fmt.Sprintf("%s to send %d %s requests", gw.name, n, key.Name()), killed)
	<-gw.exited
}

// waitGroupMembers waits until the group is stable with n members, each
// assigned some input partitions.
//
// It waits past a rebalance timeout (franz-go's default, 60s): seen once
// in CI on a loaded machine, a member's JoinGroup went unanswered until
// that timeout (an i/o timeout at 60s, then a rejoin), the group Stable
// with the other member alone meanwhile.
func (k *cluster) waitGroupMembers(n int) {
	k.t.Helper()
	testwait.For(k.t, 150*time.Second, fmt.Sprintf("the group to have %d assigned members", n), func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		groups, err := k.adm.DescribeGroups(ctx, group)
		cancel()
		if err != nil {
			return err
		}
		g := groups[group]
		assigned := 0
		for _, m := range g.Members {
			if c, ok := m.Assigned.AsConsumer(); ok && len(c.Topics) > 0 {
				assigned++
			}
		}
		if g.State != "Stable" || len(g.Members) != n || assigned != n {
			return fmt.Errorf("state %s, %d members, %d assigned", g.State, len(g.Members), assigned)
		}
		return nil
	})
}
