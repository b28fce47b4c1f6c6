package quarantine_test

import (
	"encoding/base64"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/quarantine"
)

func TestCursorRoundTripAndRejects(t *testing.T) {
	t.Parallel()
	c := quarantine.EncodeCursor(-42, "7352c345d0666d7900000004000000000000003c")
	qat, id, err := quarantine.DecodeCursor(c)
	require.NoError(t, err)
	require.Equal(t, int64(-42), qat)
	require.Equal(t, "7352c345d0666d7900000004000000000000003c", id)

	raw := func(b ...byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	for name, bad := range map[string]string{
		"not base64":    "!!",
		"too short":     raw(1, 0, 0, 0, 0, 0, 0, 0, 0),
		"wrong version": raw(2, 0, 0, 0, 0, 0, 0, 0, 0, 'a'),
		"NUL in the id": raw(1, 0, 0, 0, 0, 0, 0, 0, 0, 'a', 0),
		"invalid UTF-8": raw(1, 0, 0, 0, 0, 0, 0, 0, 0, 0xff),
	} {
		_, _, err := quarantine.DecodeCursor(bad)
		require.ErrorIs(t, err, quarantine.ErrBadCursor, name)
	}
}

func TestTimeRange(t *testing.T) {
	t.Parallel()
	now := time.Now()
	require.NoError(t, quarantine.CheckTime(now))
	require.Equal(t, now.UnixNano(), quarantine.ClampNanos(now))
	far := time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	require.Error(t, quarantine.CheckTime(far))
	require.Equal(t, int64(math.MaxInt64), quarantine.ClampNanos(far))
	require.Equal(t, int64(math.MinInt64), quarantine.ClampNanos(time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)))
}
