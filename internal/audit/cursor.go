package audit

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrBadCursor is returned for a List cursor that the Log did not issue.
var ErrBadCursor = errors.New("malformed audit cursor")

// cursorVersion prefixes every cursor, so its encoding can change.
const cursorVersion = 1

// EncodeCursor makes the opaque cursor for the List position after the
// event with the given id (Logs page newest first by id).
func EncodeCursor(id int64) string {
	b := make([]byte, 0, 9)
	b = append(b, cursorVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(id))
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reverses EncodeCursor; anything else is ErrBadCursor.
func DecodeCursor(c string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) != 9 || b[0] != cursorVersion {
		return 0, fmt.Errorf("cursor %q: %w", c, ErrBadCursor)
	}
	return int64(binary.BigEndian.Uint64(b[1:])), nil
}
