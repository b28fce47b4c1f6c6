package quarantine

import (
	"encoding/binary"
	"fmt"
)

// Preview is the start of a quarantined payload's value: enough to show a
// record in a list without reading its whole payload, however big.
type Preview struct {
	// Value is the value's first bytes, at most the number asked for; nil
	// when the value is null (a tombstone).
	Value []byte
	// Size is the whole value's length in bytes (0 for a null value).
	Size int64
	// Null reports a null value (a tombstone), as opposed to an empty one.
	Null bool
}

// Truncated reports whether Value holds less than the whole value.
func (p Preview) Truncated() bool { return int64(len(p.Value)) < p.Size }

// PreviewLen is how many bytes from the start of ref's frame hold the first
// n bytes of its value: the frame header, the value's length and the n
// bytes, never more than the frame. A driver reads that many for
// DecodePreview.
func PreviewLen(ref PayloadRef, n int) int64 {
	want := int64(frameHeaderLen) + binary.MaxVarintLen64 + int64(max(n, 0))
	return min(want, ref.Length)
}

// DecodePreview decodes the start of ref's frame, b (what PreviewLen says
// to read, or more), into the first n bytes of its value. The frame's
// checksum covers the whole frame, so unlike DecodeFrame it cannot tell a
// damaged value from a good one: it checks the frame's version and that its
// lengths agree with ref, and anything else it would need to trust is
// ErrCorrupt. Read is the verified read. Value aliases b.
func DecodePreview(b []byte, ref PayloadRef, n int) (Preview, error) {
	if ref.Length < FrameOverhead || int64(len(b)) > ref.Length {
		return Preview{}, fmt.Errorf("%w: %d bytes of a %d-byte frame", ErrCorrupt, len(b), ref.Length)
	}
	if len(b) < frameHeaderLen {
		return Preview{}, fmt.Errorf("%w: %d bytes is shorter than a frame header", ErrCorrupt, len(b))
	}
	if b[0] != FrameVersion {
		return Preview{}, fmt.Errorf("%w: unknown frame version %d", ErrCorrupt, b[0])
	}
	body := int64(binary.BigEndian.Uint32(b[1:frameHeaderLen]))
	if body+FrameOverhead != ref.Length {
		return Preview{}, fmt.Errorf("%w: frame body of %d bytes in a %d-byte range", ErrCorrupt, body, ref.Length)
	}
	r := bodyReader{b: b[frameHeaderLen:min(int64(len(b)), frameHeaderLen+body)]}
	size, err := r.uvarint()
	if err != nil {
		return Preview{}, fmt.Errorf("%w: value length: %w", ErrCorrupt, err)
	}
	if size == 0 {
		return Preview{Null: true}, nil
	}
	size--
	if size > uint64(body)-uint64(uvarintLen(size+1)) {
		return Preview{}, fmt.Errorf("%w: value of %d bytes overruns the %d-byte frame body", ErrCorrupt, size, body)
	}
	v, err := r.take(min(size, uint64(max(n, 0))))
	if err != nil {
		return Preview{}, fmt.Errorf("%w: value: %w", ErrCorrupt, err)
	}
	return Preview{Value: v, Size: int64(size)}, nil
}
