package wire

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// The magic bytes that start a wire header.
const (
	MagicID   byte = 0x00
	MagicGUID byte = 0x01
)

// The record headers that carry a schema id instead of a prefix.
const (
	ValueSchemaIDHeader = "__value_schema_id"
	KeySchemaIDHeader   = "__key_schema_id"
)

// MaxRegistryID is the largest schema id a registry assigns: Confluent
// Schema Registry's ids, and this gateway's, are positive Java ints.
const MaxRegistryID = 1<<31 - 1

// MaxMessageIndexes is the most Protobuf message indexes Parse accepts: one
// per level of message nesting, so real values are 1 to a handful.
const MaxMessageIndexes = 128

// ErrMalformed is the cause of every Parse error: the value (or header)
// announces a wire header that it does not hold.
var ErrMalformed = errors.New("malformed schema id")

// Source says where a schema id was found.
type Source uint8

// Sources of a schema id.
const (
	// Prefix: the bytes before the payload.
	Prefix Source = iota + 1
	// RecordHeader: the __value_schema_id (or __key_schema_id) header.
	RecordHeader
)

func (s Source) String() string {
	switch s {
	case Prefix:
		return "prefix"
	case RecordHeader:
		return "header"
	}
	return "none"
}

// GUID is a schema's 16-byte globally unique id.
type GUID [16]byte

// String formats g as a UUID: 8-4-4-4-12 lower-case hex digits, as Schema
// Registry's API shows it.
func (g GUID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], g[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], g[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], g[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], g[8:10])
	b[23] = '-'
	hex.Encode(b[24:], g[10:])
	return string(b[:])
}

// Header is a parsed wire header: the schema id in one of its two forms.
type Header struct {
	// Magic is MagicID (ID is set) or MagicGUID (GUID is set).
	Magic byte
	// ID is the registry's schema id: the 4 bytes read unsigned, 0 to
	// 4294967295. Registries assign only 1 to MaxRegistryID (Confluent's
	// are Java ints, which its serializers read signed), so an id with
	// the top bit set names no schema either way; unsigned, it is shown
	// as the producer sent it (0xFFFFFFFF is 4294967295, not -1).
	ID int
	// GUID is the schema's GUID.
	GUID GUID
	// MessageIndexes locate the Protobuf message type within its schema;
	// nil unless Options.Protobuf. [0] is the first top-level message.
	MessageIndexes []int
	// Source is where the id was found.
	Source Source
}

// Options configure Parse.
type Options struct {
	// Protobuf parses the message indexes that follow the id in Protobuf
	// records. Default false: the id is followed by the payload.
	Protobuf bool
	// Key reads the __key_schema_id header instead of __value_schema_id, for
	// a record key. Default false.
	Key bool
}

// Parse finds the schema id of a record value, in its headers first (the
// last __value_schema_id header, as Confluent's deserializers read it) and
// then in the value's prefix. It returns the header, the payload that
// follows it (the whole value when the id came from a header) and ok =
// true. A value with no header and no magic byte, including an empty one,
// has no wire header: ok is false and payload is value. A header or prefix
// that is cut short or malformed is an error wrapping ErrMalformed that says
// what is missing.
//
// The payload aliases value; Parse does not allocate unless it parses
// message indexes.
func Parse(value []byte, headers []record.Header, opts Options) (h Header, payload []byte, ok bool, err error) {
	name := ValueSchemaIDHeader
	if opts.Key {
		name = KeySchemaIDHeader
	}
	for i := len(headers) - 1; i >= 0; i-- {
		if headers[i].Key != name {
			continue
		}
		h, rest, err := parseID(headers[i].Value, opts.Protobuf)
		if err != nil {
			return Header{}, nil, false, fmt.Errorf("%s header: %w", name, err)
		}
		if len(rest) > 0 {
			return Header{}, nil, false, fmt.Errorf("%s header: %w: %d bytes after the schema id", name, ErrMalformed, len(rest))
		}
		h.Source = RecordHeader
		return h, value, true, nil
	}
	if len(value) == 0 || value[0] != MagicID && value[0] != MagicGUID {
		return Header{}, value, false, nil
	}
	h, payload, err = parseID(value, opts.Protobuf)
	if err != nil {
		return Header{}, nil, false, fmt.Errorf("wire header: %w", err)
	}
	h.Source = Prefix
	return h, payload, true, nil
}

// parseID reads a magic byte, the id it announces and, for Protobuf, the
// message indexes.
func parseID(b []byte, protobuf bool) (Header, []byte, error) {
	if len(b) == 0 {
		return Header{}, nil, fmt.Errorf("%w: empty", ErrMalformed)
	}
	var h Header
	h.Magic = b[0]
	switch b[0] {
	case MagicID:
		if len(b) < 5 {
			return Header{}, nil, fmt.Errorf("%w: magic byte 0x00 needs a 4-byte schema id, only %d bytes follow", ErrMalformed, len(b)-1)
		}
		h.ID = int(binary.BigEndian.Uint32(b[1:5]))
		b = b[5:]
	case MagicGUID:
		if len(b) < 17 {
			return Header{}, nil, fmt.Errorf("%w: magic byte 0x01 needs a 16-byte schema GUID, only %d bytes follow", ErrMalformed, len(b)-1)
		}
		copy(h.GUID[:], b[1:17])
		b = b[17:]
	default:
		return Header{}, nil, fmt.Errorf("%w: unknown magic byte 0x%02x (want 0x00 or 0x01)", ErrMalformed, b[0])
	}
	if protobuf {
		idx, rest, err := parseMessageIndexes(b)
		if err != nil {
			return Header{}, nil, err
		}
		h.MessageIndexes, b = idx, rest
	}
	return h, b, nil
}

// parseMessageIndexes reads Confluent's Protobuf message-index array: a
// zigzag varint count, then that many zigzag varint indexes; a count of 0
// means [0].
func parseMessageIndexes(b []byte) ([]int, []byte, error) {
	n, b, err := zigzag(b, "message index count")
	if err != nil {
		return nil, nil, err
	}
	switch {
	case n == 0:
		return []int{0}, b, nil
	case n < 0 || n > MaxMessageIndexes:
		return nil, nil, fmt.Errorf("%w: %d message indexes (want 0 to %d)", ErrMalformed, n, MaxMessageIndexes)
	case n > len(b):
		return nil, nil, fmt.Errorf("%w: %d message indexes announced, only %d bytes follow", ErrMalformed, n, len(b))
	}
	idx := make([]int, n)
	for i := range idx {
		v, rest, err := zigzag(b, fmt.Sprintf("message index %d", i))
		if err != nil {
			return nil, nil, err
		}
		if v < 0 {
			return nil, nil, fmt.Errorf("%w: message index %d is negative (%d)", ErrMalformed, i, v)
		}
		idx[i], b = v, rest
	}
	return idx, b, nil
}

// zigzag reads one zigzag-encoded varint of at most 32 bits, as Kafka's
// ByteUtils.readVarint does.
func zigzag(b []byte, what string) (int, []byte, error) {
	var u uint32
	for i := 0; i < 5; i++ {
		if i == len(b) {
			return 0, nil, fmt.Errorf("%w: %s is cut short", ErrMalformed, what)
		}
		c := b[i]
		if i == 4 && c > 0x0f {
			return 0, nil, fmt.Errorf("%w: %s overflows 32 bits", ErrMalformed, what)
		}
		u |= uint32(c&0x7f) << (7 * i)
		if c < 0x80 {
			return int(int32(u>>1) ^ -int32(u&1)), b[i+1:], nil
		}
	}
	return 0, nil, fmt.Errorf("%w: %s overflows 32 bits", ErrMalformed, what)
}
