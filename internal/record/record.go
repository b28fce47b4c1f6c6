package record

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// Header is one Kafka record header. Values are kept as raw bytes: headers are
// forwarded exactly as received.
type Header struct {
	Key   string
	Value []byte
}

// Record is one message as consumed from an input topic.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	// Value is nil for a tombstone.
	Value     []byte
	Headers   []Header
	Timestamp time.Time
}

// ID returns the record's quarantine id, derived only from where the record
// came from, so that a redelivered record maps to the same id and every store
// write keyed by it is idempotent.
func (r *Record) ID() string { return ID(r.Topic, r.Partition, r.Offset) }

// ID derives the quarantine id of the record at (topic, partition, offset):
// the first 16 bytes of SHA-256 over the three, hex encoded (32 characters,
// URL- and file-name-safe).
func ID(topic string, partition int32, offset int64) string {
	var buf [12]byte
	binary.BigEndian.PutUint32(buf[:4], uint32(partition))
	binary.BigEndian.PutUint64(buf[4:], uint64(offset))
	h := sha256.New()
	h.Write([]byte(topic))
	h.Write([]byte{0})
	h.Write(buf[:])
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}
