package record

import (
	"strings"
	"unicode/utf8"
)

// Header hygiene: the gateway owns the dq. prefix on everything it
// produces. A producer can send any header, including dq.* ones that would
// read as the gateway's verdict (dq.error.type=NONE on a bad record), so a
// received dq.X header leaves the gateway as dq.original.X, value and
// position kept (dq.original.X in turn becomes dq.original.original.X), and
// only the gateway writes dq.X. Stores keep headers exactly as received.
const (
	// HeaderPrefix starts every header the gateway writes.
	HeaderPrefix = "dq."
	// OriginalHeaderPrefix replaces HeaderPrefix on a received header.
	OriginalHeaderPrefix = "dq.original."
)

// OutgoingHeaderKey returns the key under which a received header leaves
// the gateway: a dq.X key becomes dq.original.X, any other key is kept.
func OutgoingHeaderKey(key string) string {
	if strings.HasPrefix(key, HeaderPrefix) {
		return OriginalHeaderPrefix + key[len(HeaderPrefix):]
	}
	return key
}

// Truncate cuts s to at most n bytes on a rune boundary, marking the cut
// with "…": how a text taken from a record (a field pointer, a message) is
// bounded wherever the gateway stores or sends it.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	mark := "…"
	if n < len(mark) {
		mark = "" // no room for it: the cut alone
	}
	cut := max(n-len(mark), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
