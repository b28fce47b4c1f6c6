package quarantine_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
	"github.com/dataquarantine/dataquarantine/internal/record"
)

// FuzzDecodeFrame checks that DecodeFrame never panics, fails only with
// ErrCorrupt, and that decoding is exactly the inverse of encoding: every
// frame it accepts re-encodes to the same bytes, and every payload built from
// the input survives EncodeSegment unchanged.
//
// The input is used three ways, because a checksum makes random bytes almost
// never reach the body decoder: as a frame, as a frame body given a valid
// checksum, and as a recipe for payloads to encode.
func FuzzDecodeFrame(f *testing.F) {
	data, refs, err := quarantine.EncodeSegment(samplePayloads())
	require.NoError(f, err)
	for _, ref := range refs {
		frame := data[ref.Offset : ref.Offset+ref.Length]
		f.Add(frame)
		f.Add(frame[frameHeaderLen : len(frame)-4])
	}
	f.Add([]byte{})
	f.Add([]byte{0, 0})

	f.Fuzz(func(t *testing.T, in []byte) {
		checkFrame(t, in)
		checkFrame(t, frameAround(in))

		payloads := payloadsFrom(in)
		seg, refs, err := quarantine.EncodeSegment(payloads)
		require.NoError(t, err)
		require.Len(t, refs, len(payloads))
		for i, ref := range refs {
			got, err := quarantine.DecodeFrame(seg[ref.Offset : ref.Offset+ref.Length])
			require.NoError(t, err)
			require.Equal(t, normalise(payloads[i]), got)
		}
		all, err := quarantine.DecodeSegment(seg)
		require.NoError(t, err)
		require.Len(t, all, len(payloads))
	})
}

const frameHeaderLen = 5

func checkFrame(t *testing.T, frame []byte) {
	t.Helper()
	p, err := quarantine.DecodeFrame(frame)
	if err != nil {
		require.ErrorIs(t, err, quarantine.ErrCorrupt)
		return
	}
	seg, _, err := quarantine.EncodeSegment([]quarantine.Payload{p})
	require.NoError(t, err)
	require.Equal(t, frame, seg[len(quarantine.SegmentHeader):], "accepted frame does not re-encode to itself")
}

// frameAround wraps body in a frame header and a valid checksum.
func frameAround(body []byte) []byte {
	b := make([]byte, 0, len(body)+9)
	b = append(b, quarantine.FrameVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(len(body)))
	b = append(b, body...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
}

// payloadsFrom derives payloads deterministically from fuzz input: each
// control byte picks a shape (nil/empty/data value, how many headers, nil
// header values) and the following bytes supply contents.
func payloadsFrom(in []byte) []quarantine.Payload {
	var out []quarantine.Payload
	take := func(n int) []byte {
		n = min(n, len(in))
		b := in[:n:n]
		in = in[n:]
		return b
	}
	for len(in) > 0 && len(out) < 16 {
		c := in[0]
		in = in[1:]
		var p quarantine.Payload
		switch c & 3 {
		case 0:
			p.Value = nil
		case 1:
			p.Value = []byte{}
		default:
			p.Value = bytes.Clone(take(int(c >> 2)))
		}
		for h := range int(c>>5) & 3 {
			hdr := record.Header{Key: string(take(h + 1))}
			if c&0x10 == 0 {
				hdr.Value = bytes.Clone(take(int(c >> 3)))
			}
			p.Headers = append(p.Headers, hdr)
		}
		out = append(out, p)
	}
	return out
}

// normalise returns what decoding p yields: no headers decode as nil.
func normalise(p quarantine.Payload) quarantine.Payload {
	if len(p.Headers) == 0 {
		p.Headers = nil
	}
	return p
}
