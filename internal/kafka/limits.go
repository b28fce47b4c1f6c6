package kafka

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultMaxMessageBytes is the producer's batch cap for a topic whose
// max.message.bytes could not be read: franz-go's default, a little under
// Kafka's default max.message.bytes (1048588).
const DefaultMaxMessageBytes int32 = 1_000_012

// TopicLimits holds the max.message.bytes of the topics the gateway produces
// to, read from the cluster at start. The producer caps its batches at them
// (kgo.ProducerBatchMaxBytesFn), so a record too large for its topic fails at
// once, on the client, with kerr.MessageTooLarge, instead of being refused
// by the broker with the batch it travelled in; the pipeline then routes it
// elsewhere (see pipeline's rerouting) instead of retrying it forever.
type TopicLimits struct {
	mu     sync.RWMutex
	limits map[string]int32
}

// NewTopicLimits returns limits that answer DefaultMaxMessageBytes for
// every topic until Read fills them.
func NewTopicLimits() *TopicLimits { return &TopicLimits{limits: make(map[string]int32)} }

// For returns topic's limit. It has kgo.ProducerBatchMaxBytesFn's shape:
// franz-go asks once per partition, when it first produces to it, so Read
// must run before the first produce.
func (l *TopicLimits) For(topic string) int32 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if v, ok := l.limits[topic]; ok {
		return v
	}
	return DefaultMaxMessageBytes
}

// Set fixes topic's limit, clamped to what franz-go accepts ([512, 1 GiB]).
func (l *TopicLimits) Set(topic string, v int32) {
	v = min(max(v, 512), 1<<30)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.limits[topic] = v
}

// Read asks the cluster for each topic's max.message.bytes (its own
// setting, or the broker default it inherits). A topic whose config cannot
// be read keeps DefaultMaxMessageBytes; the error names it, for a warning:
// a principal without DescribeConfigs rights still runs.
func (l *TopicLimits) Read(ctx context.Context, cl *kgo.Client, topics ...string) error {
	rcs, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, topics...)
	if err != nil {
		return fmt.Errorf("describing topic configs of %v: %w", topics, err)
	}
	var missing []string
	for _, rc := range rcs {
		v, ok := maxMessageBytes(rc)
		if !ok {
			missing = append(missing, rc.Name)
			continue
		}
		l.Set(rc.Name, v)
	}
	if len(missing) > 0 {
		return fmt.Errorf("no max.message.bytes for %v; using %d bytes", missing, DefaultMaxMessageBytes)
	}
	return nil
}

func maxMessageBytes(rc kadm.ResourceConfig) (int32, bool) {
	if rc.Err != nil {
		return 0, false
	}
	for _, c := range rc.Configs {
		if c.Key != "max.message.bytes" || c.Value == nil {
			continue
		}
		v, err := strconv.ParseInt(*c.Value, 10, 32)
		return int32(v), err == nil && v > 0
	}
	return 0, false
}
