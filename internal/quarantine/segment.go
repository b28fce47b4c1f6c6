package quarantine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// The segment codec is shared by every payload driver, so a segment written
// by one (a local file) can be copied byte for byte to another (an object)
// and every PayloadRef into it stays valid.
//
// A segment is an 8-byte header followed by one frame per payload:
//
//	segment = "DQSEG" 0x00 0x00 0x01   (SegmentHeader)
//	          frame*
//
//	frame   = version  u8                 (FrameVersion, 1)
//	          bodyLen  u32 big-endian     (length of body)
//	          body
//	          crc      u32 big-endian     (CRC-32C of version, bodyLen and body)
//
//	body    = value    nbytes
//	          nHeaders uvarint
//	          { key bytes, value nbytes } * nHeaders
//
//	bytes   = uvarint(n) then n bytes
//	nbytes  = uvarint(0) for nil, or uvarint(n+1) then n bytes
//
// nbytes keeps nil and empty apart: a tombstone's nil value and a header with
// a null value come back nil, an empty one comes back empty. Varints must be
// minimal and the body must be consumed exactly, so every payload has exactly
// one encoding and DecodeFrame(EncodeSegment(p)) is byte-exact both ways.
// Anything else, including a checksum mismatch, is ErrCorrupt.

// SegmentHeader opens every segment: a magic string and the format version.
const SegmentHeader = "DQSEG\x00\x00\x01"

// FrameVersion is the version byte of every frame this package writes.
const FrameVersion = 1

const (
	frameHeaderLen  = 1 + 4 // version, bodyLen
	frameTrailerLen = 4     // crc
	// FrameOverhead is the size of a frame beyond its body.
	FrameOverhead = frameHeaderLen + frameTrailerLen
	// MaxFrameBody bounds one frame's body (value plus headers).
	MaxFrameBody = math.MaxUint32
)

// ValidateSegmentName reports whether name can name a segment in every
// payload driver: 1 to 200 characters from [A-Za-z0-9._-], not "." or "..".
// Such a name is safe as a file name and as an object key.
func ValidateSegmentName(name string) error {
	if len(name) == 0 || len(name) > 200 {
		return fmt.Errorf("segment name %q: length %d is outside 1..200", name, len(name))
	}
	if name == "." || name == ".." {
		return fmt.Errorf("segment name %q is reserved", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("segment name %q: character %q is outside [A-Za-z0-9._-]", name, c)
		}
	}
	return nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// EncodeSegment encodes payloads as one segment and returns, in order, where
// each payload's frame is inside it. The refs' Segment is left empty: the
// driver that names the segment fills it in.
func EncodeSegment(payloads []Payload) ([]byte, []PayloadRef, error) {
	size := len(SegmentHeader)
	for i := range payloads {
		n, err := frameSize(&payloads[i])
		if err != nil {
			return nil, nil, fmt.Errorf("encoding payload %d: %w", i, err)
		}
		size += n
	}
	data := make([]byte, 0, size)
	data = append(data, SegmentHeader...)
	refs := make([]PayloadRef, len(payloads))
	for i := range payloads {
		start := len(data)
		data = appendFrame(data, &payloads[i])
		refs[i] = PayloadRef{Offset: int64(start), Length: int64(len(data) - start)}
	}
	return data, refs, nil
}

// DecodeSegment decodes every frame of a segment, in order. It is for
// recovery and tests; readers of one payload use DecodeFrame on its ref's
// byte range. The payloads alias data.
func DecodeSegment(data []byte) ([]Payload, error) {
	if len(data) < len(SegmentHeader) || string(data[:len(SegmentHeader)]) != SegmentHeader {
		return nil, fmt.Errorf("%w: missing segment header", ErrCorrupt)
	}
	var payloads []Payload
	for off := len(SegmentHeader); off < len(data); {
		n, err := frameLen(data[off:])
		if err != nil {
			return nil, fmt.Errorf("frame at offset %d: %w", off, err)
		}
		p, err := DecodeFrame(data[off : off+n])
		if err != nil {
			return nil, fmt.Errorf("frame at offset %d: %w", off, err)
		}
		payloads = append(payloads, p)
		off += n
	}
	return payloads, nil
}

// DecodeFrame decodes exactly one frame: b must be the whole byte range of a
// PayloadRef, no more, no less. Damaged or truncated bytes are ErrCorrupt,
// never a wrong payload. The returned value and header values alias b.
func DecodeFrame(b []byte) (Payload, error) {
	n, err := frameLen(b)
	if err != nil {
		return Payload{}, err
	}
	if n != len(b) {
		return Payload{}, fmt.Errorf("%w: frame is %d bytes, range is %d", ErrCorrupt, n, len(b))
	}
	body := b[frameHeaderLen : n-frameTrailerLen]
	want := binary.BigEndian.Uint32(b[n-frameTrailerLen:])
	if got := crc32.Checksum(b[:n-frameTrailerLen], castagnoli); got != want {
		return Payload{}, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	p, err := decodeBody(body)
	if err != nil {
		return Payload{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return p, nil
}

// frameLen reads a frame's header at the start of b and returns the frame's
// total length, checking that b holds at least that much.
func frameLen(b []byte) (int, error) {
	if len(b) < FrameOverhead {
		return 0, fmt.Errorf("%w: %d bytes is shorter than a frame", ErrCorrupt, len(b))
	}
	if b[0] != FrameVersion {
		return 0, fmt.Errorf("%w: unknown frame version %d", ErrCorrupt, b[0])
	}
	body := uint64(binary.BigEndian.Uint32(b[1:frameHeaderLen]))
	if body > uint64(len(b)-FrameOverhead) {
		return 0, fmt.Errorf("%w: frame body of %d bytes overruns the %d available", ErrCorrupt, body, len(b)-FrameOverhead)
	}
	return int(body) + FrameOverhead, nil
}

func frameSize(p *Payload) (int, error) {
	body := nbytesLen(p.Value) + uvarintLen(uint64(len(p.Headers)))
	for _, h := range p.Headers {
		body += uvarintLen(uint64(len(h.Key))) + len(h.Key) + nbytesLen(h.Value)
	}
	if uint64(body) > MaxFrameBody {
		return 0, fmt.Errorf("payload of %d bytes exceeds the frame limit of %d", body, uint64(MaxFrameBody))
	}
	return body + FrameOverhead, nil
}

// appendFrame appends p's frame to dst; frameSize(p) must have succeeded.
func appendFrame(dst []byte, p *Payload) []byte {
	start := len(dst)
	dst = append(dst, FrameVersion, 0, 0, 0, 0)
	dst = appendNBytes(dst, p.Value)
	dst = binary.AppendUvarint(dst, uint64(len(p.Headers)))
	for _, h := range p.Headers {
		dst = binary.AppendUvarint(dst, uint64(len(h.Key)))
		dst = append(dst, h.Key...)
		dst = appendNBytes(dst, h.Value)
	}
	binary.BigEndian.PutUint32(dst[start+1:], uint32(len(dst)-start-frameHeaderLen))
	return binary.BigEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

func appendNBytes(dst, v []byte) []byte {
	if v == nil {
		return append(dst, 0)
	}
	dst = binary.AppendUvarint(dst, uint64(len(v))+1)
	return append(dst, v...)
}

func nbytesLen(v []byte) int {
	if v == nil {
		return 1
	}
	return uvarintLen(uint64(len(v))+1) + len(v)
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

var errTruncated = errors.New("body truncated")

// bodyReader decodes a frame body; it never reads past b and never
// allocates more than b's length implies.
type bodyReader struct {
	b []byte
}

func (r *bodyReader) uvarint() (uint64, error) {
	x, n := binary.Uvarint(r.b)
	switch {
	case n == 0:
		return 0, errTruncated
	case n < 0:
		return 0, errors.New("varint overflows 64 bits")
	case n != uvarintLen(x):
		return 0, errors.New("varint not minimally encoded")
	}
	r.b = r.b[n:]
	return x, nil
}

func (r *bodyReader) take(n uint64) ([]byte, error) {
	if n > uint64(len(r.b)) {
		return nil, errTruncated
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v, nil
}

func (r *bodyReader) nbytes() ([]byte, error) {
	n, err := r.uvarint()
	if err != nil || n == 0 {
		return nil, err
	}
	return r.take(n - 1)
}

func decodeBody(b []byte) (Payload, error) {
	r := bodyReader{b: b}
	var p Payload
	var err error
	if p.Value, err = r.nbytes(); err != nil {
		return Payload{}, fmt.Errorf("value: %w", err)
	}
	count, err := r.uvarint()
	if err != nil {
		return Payload{}, fmt.Errorf("header count: %w", err)
	}
	// Each header takes at least two bytes, which bounds the allocation by
	// the input rather than by a claimed count.
	if count > uint64(len(r.b)/2) {
		return Payload{}, fmt.Errorf("header count %d: %w", count, errTruncated)
	}
	if count > 0 {
		p.Headers = make([]record.Header, count)
	}
	for i := range p.Headers {
		n, err := r.uvarint()
		if err != nil {
			return Payload{}, fmt.Errorf("header %d key: %w", i, err)
		}
		key, err := r.take(n)
		if err != nil {
			return Payload{}, fmt.Errorf("header %d key: %w", i, err)
		}
		p.Headers[i].Key = string(key)
		if p.Headers[i].Value, err = r.nbytes(); err != nil {
			return Payload{}, fmt.Errorf("header %d value: %w", i, err)
		}
	}
	if len(r.b) != 0 {
		return Payload{}, fmt.Errorf("%d trailing bytes after the headers", len(r.b))
	}
	return p, nil
}
