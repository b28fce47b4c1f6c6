package jsonschema

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// pointer renders reference tokens as a JSON pointer (RFC 6901); no tokens
// is "", the whole document.
func pointer(tokens []string) string {
	switch len(tokens) {
	case 0:
		return ""
	case 1:
		if !strings.ContainsAny(tokens[0], "~/") {
			return "/" + tokens[0]
		}
	}
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		writeToken(&b, t)
	}
	return b.String()
}

// child returns the pointer of member tok of the value at ptr.
func child(ptr, tok string) string {
	var b strings.Builder
	b.Grow(len(ptr) + len(tok) + 1)
	b.WriteString(ptr)
	b.WriteByte('/')
	writeToken(&b, tok)
	return b.String()
}

func writeToken(b *strings.Builder, tok string) {
	if !strings.ContainsAny(tok, "~/") {
		b.WriteString(tok)
		return
	}
	for i := 0; i < len(tok); i++ {
		switch c := tok[i]; c {
		case '~':
			b.WriteString("~0")
		case '/':
			b.WriteString("~1")
		default:
			b.WriteByte(c)
		}
	}
}

// Messages quote values from hostile payloads: they are clipped so that a
// violation stays small enough for a Kafka header or a metadata row.
const (
	maxMsgString = 64
	maxMsgValue  = 80
)

// clip shortens s to at most n runes, marking the cut with an ellipsis.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i, runes := 0, 0
	for i < len(s) && runes < n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		runes++
	}
	if i >= len(s) {
		return s
	}
	return s[:i] + "…"
}

// quote renders a string for a message: Go-quoted (which for printable text
// reads as JSON) and clipped.
func quote(s string) string { return strconv.Quote(clip(s, maxMsgString)) }

// display renders a JSON value for a message.
func display(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(v)
	case string:
		return quote(v)
	case json.Number:
		return clip(string(v), maxMsgString)
	case map[string]any, []any:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprintf("%T", v)
		}
		return clip(string(b), maxMsgValue)
	default:
		return clip(fmt.Sprint(v), maxMsgValue)
	}
}
