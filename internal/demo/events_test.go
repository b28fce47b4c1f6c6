package demo_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/demo"
	"github.com/dataquarantine/dataquarantine/internal/record"
	"github.com/dataquarantine/dataquarantine/internal/schema"
	"github.com/dataquarantine/dataquarantine/internal/schema/formats"
	"github.com/dataquarantine/dataquarantine/internal/validate"
)

// Every kind the generator claims is what the real engine says it is, with
// and without padding; the generator is deterministic by seed and mixes the
// requested share.
func TestGeneratorKindsMatchTheEngine(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	src, err := cfg.SchemaSource(0)
	require.NoError(t, err)
	v, err := formats.Compile(schema.FormatJSON, "user_event", 1, src, formats.Options{})
	require.NoError(t, err)
	e, err := validate.New(validate.Options{Resolver: schema.Fixed{Version: v}})
	require.NoError(t, err)

	gen := demo.NewGenerator(1, 0.3)
	again := demo.NewGenerator(1, 0.3)
	counts := map[record.ErrorType]int{}
	now := time.Date(2026, 1, 10, 19, 50, 0, 0, time.UTC)
	const n = 3000
	for i := range n {
		ev := gen.Next(now)
		twin := again.Next(now)
		require.Equal(t, ev.Kind.Name, twin.Kind.Name, "deterministic by seed")
		require.Equal(t, ev.Value, twin.Value)
		require.Equal(t, ev.Key, twin.Key)
		for _, size := range []int{0, 300, 1000} {
			value := demo.Pad(ev.Value, size)
			// Padded to exactly size, or left alone when a "page"
			// property would not fit in size.
			if len(value) != size {
				require.Equal(t, ev.Value, value, "event %d: padded to %d bytes, want %d", i, len(value), size)
				require.Less(t, size, len(ev.Value)+len(`,"page":"/x"`), "event %d left unpadded although %d bytes leave room", i, size)
			}
			var verdict record.Verdict
			require.NoError(t, e.Validate(&record.Record{Value: value}, &verdict))
			require.Equal(t, ev.Kind.Want, verdict.Primary().Type, "%s padded to %d: %s", ev.Kind.Name, size, value)
		}
		counts[ev.Kind.Want]++
	}
	invalid := n - counts[""]
	require.InDelta(t, 0.3*n, invalid, 0.05*n)
	for _, k := range demo.Kinds {
		require.InDelta(t, invalid/len(demo.Kinds), counts[k.Want], 1, k.Name)
	}
}
