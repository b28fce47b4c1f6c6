package quarantine_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

// FuzzDecodePreview checks that DecodePreview never panics, fails only with
// ErrCorrupt, and agrees with DecodeFrame: on every frame DecodeFrame
// accepts, the preview is the start of the value, read from no more bytes
// than PreviewLen names.
func FuzzDecodePreview(f *testing.F) {
	data, refs, err := quarantine.EncodeSegment(samplePayloads())
	require.NoError(f, err)
	for _, ref := range refs {
		frame := data[ref.Offset : ref.Offset+ref.Length]
		f.Add(frame, uint16(3))
		f.Add(frame[frameHeaderLen:len(frame)-4], uint16(0))
	}
	f.Add([]byte{}, uint16(1))
	f.Add([]byte{1, 0, 0, 0, 0}, uint16(1))

	f.Fuzz(func(t *testing.T, in []byte, size uint16) {
		n := int(size)
		for _, frame := range [][]byte{in, frameAround(in)} {
			ref := quarantine.PayloadRef{Segment: "s", Length: int64(len(frame))}
			head := frame[:quarantine.PreviewLen(ref, n)]
			got, err := quarantine.DecodePreview(head, ref, n)
			if err != nil {
				require.ErrorIs(t, err, quarantine.ErrCorrupt)
			}
			p, ferr := quarantine.DecodeFrame(frame)
			if ferr != nil {
				continue
			}
			require.NoError(t, err, "DecodeFrame accepts what DecodePreview refuses")
			require.Equal(t, p.Value == nil, got.Null)
			require.Equal(t, int64(len(p.Value)), got.Size)
			require.Equal(t, p.Value[:min(n, len(p.Value))], got.Value)
		}
	})
}

func TestDecodePreviewRefusesRangesThatDisagree(t *testing.T) {
	data, refs, err := quarantine.EncodeSegment(samplePayloads())
	require.NoError(t, err)
	ref := refs[len(refs)-1]
	frame := data[ref.Offset : ref.Offset+ref.Length]
	for _, tc := range []struct {
		name string
		b    []byte
		ref  quarantine.PayloadRef
	}{
		{"ref longer than the frame", frame, quarantine.PayloadRef{Length: ref.Length + 1}},
		{"ref shorter than the frame", frame[:len(frame)-1], quarantine.PayloadRef{Length: ref.Length - 1}},
		{"more bytes than the ref", frame, quarantine.PayloadRef{Length: 6}},
		{"no header", frame[:3], ref},
		{"wrong version", append([]byte{9}, frame[1:]...), ref},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := quarantine.DecodePreview(tc.b, tc.ref, 10)
			require.ErrorIs(t, err, quarantine.ErrCorrupt)
		})
	}
}
