package quarantine

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"time"
	"unicode/utf8"
)

// Every metadata driver stores times as int64 Unix nanoseconds and pages
// List results by (QuarantinedAt, ID), so the time range and the cursor are
// one contract, kept here.

// Times outside this range have no int64 nanosecond representation.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// CheckTime reports whether t can be stored (as int64 nanoseconds).
func CheckTime(t time.Time) error {
	if t.Before(minTime) || t.After(maxTime) {
		return fmt.Errorf("time %s is outside the storable range %s..%s", t, minTime.UTC(), maxTime.UTC())
	}
	return nil
}

// StoredTime is t as a store gives it back: UTC, nanosecond precision, no
// monotonic reading, saturated to the storable range; the zero time stays
// zero.
func StoredTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.Unix(0, ClampNanos(t)).UTC()
}

// ClampNanos converts a time to nanoseconds (a filter bound, a record's
// timestamp), saturating rather than wrapping for times outside the
// storable range.
func ClampNanos(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	default:
		return t.UnixNano()
	}
}

// cursorVersion prefixes every cursor, so its encoding can change without
// misreading cursors issued by an older binary.
const cursorVersion = 1

// EncodeCursor makes the opaque cursor for the List position after
// (quarantinedAt nanoseconds, id): base64url of a version byte,
// quarantinedAt (int64 big-endian) and the id.
func EncodeCursor(qat int64, id string) string {
	b := make([]byte, 0, 9+len(id))
	b = append(b, cursorVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(qat))
	b = append(b, id...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reverses EncodeCursor. Anything a store did not issue is
// ErrBadCursor, including an id that is not valid UTF-8 or holds a NUL (no
// store could have issued it, and a database text parameter cannot hold it).
func DecodeCursor(c string) (qat int64, id string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 10 || b[0] != cursorVersion || !utf8.Valid(b[9:]) || bytes.IndexByte(b[9:], 0) >= 0 {
		return 0, "", fmt.Errorf("cursor %q: %w", c, ErrBadCursor)
	}
	return int64(binary.BigEndian.Uint64(b[1:9])), string(b[9:]), nil
}
