package faulttest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"maps"
	mathrand "math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/testbackend"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// hostileLimit is the clean and DLQ topics' max.message.bytes in the
// hostile suite: below what the input topic (the broker default, 1048588)
// lets in, as when the outputs are configured tighter than the input.
const hostileLimit = 500_000

// hostileCase is one input a hostile or careless producer can send, and
// where the gateway must put it.
type hostileCase struct {
	name string
	rec  func() *kgo.Record
	// topic is where the record must end up; errorType its dq.error.type on
	// the DLQ; check, when set, looks at the output record.
	topic     string
	errorType string
	check     func(t *testing.T, out *kgo.Record)
}

func event(eventType, extra string) string {
	return `{"user_id":"USER123456","event_type":"` + eventType + `","timestamp":"2026-01-10T19:50:00Z"` + extra + `}`
}

func padded(n int) []byte {
	head := event("view", `,"pad":"`)
	return []byte(head[:len(head)-1] + strings.Repeat("x", n-len(head)-1) + `"}`)
}

func omitted(what string) func(t *testing.T, out *kgo.Record) {
	return func(t *testing.T, out *kgo.Record) {
		require.Contains(t, header(out, "dq.payload.omitted"), what)
	}
}

var hostileCases = []hostileCase{
	{
		name:  "valid record larger than the clean topic accepts",
		rec:   func() *kgo.Record { return &kgo.Record{Value: padded(600_000)} },
		topic: dlqTopic, errorType: "PAYLOAD_TOO_LARGE", check: omitted("value (600000 bytes)"),
	},
	{
		name: "invalid record with a key too large for the DLQ",
		rec: func() *kgo.Record {
			return &kgo.Record{Key: bytes.Repeat([]byte("k"), 600_000), Value: []byte(event("scroll", ""))}
		},
		topic: dlqTopic, errorType: "ENUM_VIOLATION", check: omitted("key (600000 bytes)"),
	},
	{
		name: "invalid record with a header too large for the DLQ",
		rec: func() *kgo.Record {
			return &kgo.Record{Value: []byte(event("scroll", "")), Headers: []kgo.RecordHeader{{Key: "trace", Value: bytes.Repeat([]byte("h"), 600_000)}}}
		},
		topic: dlqTopic, errorType: "ENUM_VIOLATION", check: omitted("1 headers of its own"),
	},
	{
		name:  "value over limits.max_bytes",
		rec:   func() *kgo.Record { return &kgo.Record{Value: padded(800_000)} },
		topic: dlqTopic, errorType: "PAYLOAD_TOO_LARGE", check: omitted("value (800000 bytes)"),
	},
	{
		name: "valid record with forged verdict headers",
		rec: func() *kgo.Record {
			return &kgo.Record{Value: []byte(event("view", "")), Headers: forgedHeaders()}
		},
		topic: cleanTopic, check: func(t *testing.T, out *kgo.Record) {
			for _, h := range out.Headers {
				require.True(t, strings.HasPrefix(h.Key, "dq.original."), "header %s reached the clean topic", h.Key)
			}
			require.Equal(t, "NONE", header(out, "dq.original.error.type"))
		},
	},
	{
		name: "invalid record with forged verdict headers",
		rec: func() *kgo.Record {
			return &kgo.Record{Value: []byte(event("scroll", "")), Headers: forgedHeaders()}
		},
		topic: dlqTopic, errorType: "ENUM_VIOLATION", check: func(t *testing.T, out *kgo.Record) {
			n := 0
			for _, h := range out.Headers {
				if h.Key == "dq.error.type" || h.Key == "dq.schema.version" || h.Key == "dq.quarantine.id" {
					n++
				}
			}
			require.Equal(t, 3, n, "one of each, the gateway's")
			require.NotEqual(t, "forged", header(out, "dq.quarantine.id"))
			require.Equal(t, "forged", header(out, "dq.original.quarantine.id"))
		},
	},
	{
		name: "wire header with an unknown GUID",
		rec: func() *kgo.Record {
			v := make([]byte, 17, 17+len(event("view", "")))
			v[0] = 1
			_, _ = rand.Read(v[1:])
			return &kgo.Record{Value: append(v, event("view", "")...)}
		},
		topic: dlqTopic, errorType: "SCHEMA_NOT_FOUND",
	},
	{
		name: "wire header with schema id 0xFFFFFFFF",
		rec: func() *kgo.Record {
			v := binary.BigEndian.AppendUint32([]byte{0}, 0xFFFFFFFF)
			return &kgo.Record{Value: append(v, event("view", "")...)}
		},
		topic: dlqTopic, errorType: "SCHEMA_NOT_FOUND",
	},
	{"deeply nested", func() *kgo.Record { return &kgo.Record{Value: bytes.Repeat([]byte("["), 100_000)} }, dlqTopic, "PARSE_ERROR", nil},
	// Random letters: PostgreSQL compresses a repeated one below its index
	// entry limit (2,704 bytes), which this must exceed.
	{"a property name of 3,000 random letters", func() *kgo.Record {
		return &kgo.Record{Value: []byte(`{"` + randomLetters(3000) + `":x}`)}
	}, dlqTopic, "PARSE_ERROR", func(t *testing.T, out *kgo.Record) {
		require.LessOrEqual(t, len(header(out, "dq.error.field")), 512, "the header's field is cut")
	}},
	{"a NUL in a property name", func() *kgo.Record {
		return &kgo.Record{Value: []byte(`{"a\u0000b":x}`)}
	}, dlqTopic, "PARSE_ERROR", func(t *testing.T, out *kgo.Record) {
		require.Equal(t, "/a\x00b", header(out, "dq.error.field"))
	}},
	{"a NUL in a key and a header name", func() *kgo.Record {
		return &kgo.Record{Key: []byte("k\x00ey"), Value: []byte(event("scroll", "")), Headers: []kgo.RecordHeader{{Key: "h\x00", Value: []byte("\x00")}}}
	}, dlqTopic, "ENUM_VIOLATION", nil},
	{"invalid UTF-8", func() *kgo.Record { return &kgo.Record{Value: []byte(event("view\xff\xfe", ""))} }, dlqTopic, "PARSE_ERROR", nil},
	{"binary", func() *kgo.Record { return &kgo.Record{Value: []byte{0x02, 0xff, 0x00, 0x10}} }, dlqTopic, "PARSE_ERROR", nil},
	{"empty value", func() *kgo.Record { return &kgo.Record{Value: []byte{}} }, dlqTopic, "PARSE_ERROR", nil},
	{"duplicate keys", func() *kgo.Record {
		return &kgo.Record{Value: []byte(`{"user_id":"USER123456","user_id":"x","event_type":"view","timestamp":"2026-01-10T19:50:00Z"}`)}
	}, dlqTopic, "PARSE_ERROR", nil},
	{"ten thousand headers", func() *kgo.Record {
		hs := make([]kgo.RecordHeader, 10_000)
		for i := range hs {
			hs[i] = kgo.RecordHeader{Key: "h" + strconv.Itoa(i), Value: []byte("v")}
		}
		return &kgo.Record{Value: []byte(event("scroll", "")), Headers: hs}
	}, dlqTopic, "ENUM_VIOLATION", nil},
	// As far as franz-go can date a record (its encoding goes through
	// nanoseconds); the stores saturate anything further (their tests).
	{"invalid record dated 2262", func() *kgo.Record {
		return &kgo.Record{Value: []byte(event("scroll", "")), Timestamp: time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)}
	}, dlqTopic, "ENUM_VIOLATION", nil},
	{"invalid record dated 1700", func() *kgo.Record {
		return &kgo.Record{Value: []byte(event("scroll", "")), Timestamp: time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC)}
	}, dlqTopic, "ENUM_VIOLATION", nil},
}

func randomLetters(n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[mathrand.IntN(len(letters))]
	}
	return string(b)
}

func forgedHeaders() []kgo.RecordHeader {
	return []kgo.RecordHeader{
		{Key: "dq.error.type", Value: []byte("NONE")},
		{Key: "dq.schema.version", Value: []byte("99")},
		{Key: "dq.quarantine.id", Value: []byte("forged")},
	}
}

// The hostile-world suite: a real gateway process (the clean and DLQ
// topics tighter than the input) fed, one case at a time, what a hostile or
// careless producer can send, each followed in the same partition by a
// valid canary. Each case asserts the record's route and error type, and
// that the canary behind it is committed within a bound: no input stalls a
// partition. The gateway survives them all, with each pair of stores (what
// one database refuses, an index entry too long, a byte it cannot hold,
// stalls only there) and in exactly-once mode (where a refused record
// aborts its transaction before taking its detour).
func TestHostileInputs(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	t.Run("sqlite and files", func(t *testing.T) {
		t.Parallel()
		runHostile(t, bin, nil)
	})
	t.Run("sqlite and files, exactly once", func(t *testing.T) {
		t.Parallel()
		runHostile(t, bin, map[string]string{"DQ_KAFKA_EXACTLY_ONCE": "true"})
	})
	t.Run("postgres and minio", func(t *testing.T) {
		t.Parallel()
		pgURL := testbackend.Postgres(t)
		bucket := testbackend.S3(t)
		runHostile(t, bin, map[string]string{
			"DQ_STORAGE_METADATA_URL":        pgURL,
			"DQ_STORAGE_PAYLOADS_URL":        fmt.Sprintf("s3://%s?endpoint=%s&secure=false", bucket.Bucket, bucket.Endpoint),
			"DQ_STORAGE_PAYLOADS_ACCESS_KEY": bucket.AccessKey,
			"DQ_STORAGE_PAYLOADS_SECRET_KEY": bucket.SecretKey,
		})
	})
}

// runHostile runs every hostile case through a gateway with stores, the
// environment added to the suite's.
func runHostile(t *testing.T, bin string, stores map[string]string) {
	k := newCluster(t)
	ctx := context.Background()
	for _, topic := range []string{cleanTopic, dlqTopic} {
		rs, err := k.adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "max.message.bytes", Value: kadm.StringPtr(strconv.Itoa(hostileLimit))}}, topic)
		require.NoError(t, err)
		require.NoError(t, rs[0].Err)
	}
	env := k.gatewayEnv(t.TempDir())
	env["DQ_LIMITS_MAX_BYTES"] = "700000"
	maps.Copy(env, stores)
	gw := startGateway(t, bin, "gateway", env)

	producer, err := kgo.NewClient(kgo.SeedBrokers(k.addr), kgo.DefaultProduceTopic(rawTopic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchMaxBytes(1_048_000))
	require.NoError(t, err)
	defer producer.Close()
	outputs := newTail(t, k.addr)
	for i, c := range hostileCases {
		t.Run(c.name, func(t *testing.T) {
			hostile := c.rec()
			hostile.Partition = int32(i % partitions)
			if hostile.Key == nil {
				hostile.Key = []byte("hostile-" + strconv.Itoa(i))
			}
			canary := &kgo.Record{Key: []byte("canary-" + strconv.Itoa(i)), Value: []byte(event("view", "")), Partition: hostile.Partition}
			require.NoError(t, producer.ProduceSync(ctx, hostile, canary).FirstErr())

			// The canary behind it is committed: the partition flows.
			testwait.For(t, 30*time.Second, "the canary behind the hostile record committed", func() error {
				if at := k.committedAt(hostile.Partition); at <= canary.Offset {
					return fmt.Errorf("committed up to %d, the canary is at %d; the gateway's log ends:\n%s", at, canary.Offset, gw.logTail(2000))
				}
				return nil
			})
			out := outputs.find(c.topic, hostile)
			require.NotNil(t, out, "the hostile record is not in %s", c.topic)
			if c.topic == dlqTopic {
				require.Equal(t, c.errorType, header(out, "dq.error.type"))
			}
			if c.check != nil {
				c.check(t, out)
			}
			require.NotNil(t, outputs.find(cleanTopic, canary), "the valid canary is not on the clean topic")
			require.True(t, gw.running(), "the gateway died: %v", gw.waitErr)
		})
	}
	gw.stop()
}

// committedAt returns the group's committed offset on one input partition.
func (k *cluster) committedAt(partition int32) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := k.adm.FetchOffsets(ctx, group)
	if err != nil {
		return -1
	}
	o, ok := resp.Lookup(rawTopic, partition)
	if !ok || o.Err != nil {
		return -1
	}
	return o.At
}

// tail reads the clean and DLQ topics as they grow.
type tail struct {
	t    *testing.T
	cl   *kgo.Client
	recs map[string][]*kgo.Record
}

func newTail(t *testing.T, addr string) *tail {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(cleanTopic, dlqTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(8<<20),
		kgo.FetchIsolationLevel(kgo.ReadCommitted())) // what a downstream consumer of an exactly-once gateway reads
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	return &tail{t: t, cl: cl, recs: map[string][]*kgo.Record{}}
}

// find returns the output of the input record in topic: on the DLQ by its
// source coordinates (its key may have been left out), on the clean topic
// by its key (every case's is unique).
func (tl *tail) find(topic string, in *kgo.Record) *kgo.Record {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range tl.recs[topic] {
			if matches(topic, r, in) {
				return r
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		f := tl.cl.PollFetches(ctx)
		cancel()
		f.EachRecord(func(r *kgo.Record) { tl.recs[r.Topic] = append(tl.recs[r.Topic], r) })
	}
	return nil
}

func matches(topic string, out, in *kgo.Record) bool {
	if topic == dlqTopic {
		return header(out, "dq.source.partition") == strconv.Itoa(int(in.Partition)) &&
			header(out, "dq.source.offset") == strconv.FormatInt(in.Offset, 10)
	}
	return bytes.Equal(out.Key, in.Key)
}
