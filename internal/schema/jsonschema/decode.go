package jsonschema

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// Defaults of Limits.
const (
	DefaultMaxDepth          = 64
	DefaultMaxNumberLen      = 1000
	DefaultMaxNumberExponent = 1000
)

// MaxDepthCap caps MaxDepth: the decoder and the validator recurse once per
// level (a goroutine that overflows its stack kills the process), and the
// validator's errors for an invalid record under a recursive schema take
// ~8·depth² bytes (8 MB at this cap).
const MaxDepthCap = 1000

// Limits bound what Decode accepts. Zero values mean the defaults.
type Limits struct {
	// MaxDepth bounds the nesting depth of objects and arrays: in
	// {"a":[1]} the object is at depth 1 and the array at depth 2.
	// Default 64; at most 10000.
	MaxDepth int
	// AllowDuplicateKeys accepts an object that repeats a key, keeping the
	// last value. Default false: a duplicate key is a PARSE_ERROR, because
	// downstream consumers disagree on which value wins.
	AllowDuplicateKeys bool
	// MaxNumberLen bounds the length of one number literal, in bytes.
	// Default 1000. Numbers are validated with math/big, whose cost grows
	// faster than linearly with the number of digits.
	MaxNumberLen int
	// MaxNumberExponent bounds the absolute value of a number's exponent (the
	// part after "e"). Default 1000: 1e308 and 1e400 are accepted; 1e999999,
	// eight bytes that cost math/big about 30 ms, is not.
	MaxNumberExponent int
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	l.MaxDepth = min(l.MaxDepth, MaxDepthCap)
	if l.MaxNumberLen <= 0 {
		l.MaxNumberLen = DefaultMaxNumberLen
	}
	if l.MaxNumberExponent <= 0 {
		l.MaxNumberExponent = DefaultMaxNumberExponent
	}
	return l
}

// Decode parses payload as exactly one JSON value (RFC 8259). It returns the
// value in the form the validator takes (map[string]any, []any, json.Number
// for numbers, string, bool, nil), or ok=false and a PARSE_ERROR violation
// saying what is wrong and where: empty payload, syntax error, invalid UTF-8,
// a lone UTF-16 surrogate in a \u escape, a duplicate key, nesting deeper
// than MaxDepth, a number beyond MaxNumberLen or MaxNumberExponent, or data
// after the value. The violation's Field is the JSON pointer of the innermost
// value being decoded when the problem was found ("" for the whole payload),
// its Keyword is "" and its Message gives the byte offset.
//
// Strings and numbers in the result share one copy of payload, so the caller
// may reuse payload's buffer once Decode returns.
func Decode(payload []byte, lim Limits) (v any, bad record.Violation, ok bool) {
	if len(payload) == 0 {
		return nil, parseViolation("", "empty payload"), false
	}
	d := decoderPool.Get().(*decoder)
	defer d.release()
	d.reset(payload, lim.withDefaults())

	d.skipWS()
	switch {
	case d.pos == len(payload):
		return nil, parseViolation("", "payload contains only whitespace"), false
	case strings.HasPrefix(d.str, "\xef\xbb\xbf"):
		d.fail(0, "unexpected UTF-8 byte order mark")
	default:
		if v, ok = d.value(); ok {
			d.skipWS()
			if d.pos == len(payload) {
				return v, record.Violation{}, true
			}
			d.fail(d.pos, "unexpected "+describeAt(payload, d.pos)+" after the top-level value")
		}
	}
	return nil, d.violation(), false
}

func parseViolation(field, msg string) record.Violation {
	return record.Violation{Type: record.ParseError, Field: field, Message: msg}
}

var decoderPool = sync.Pool{New: func() any { return new(decoder) }}

// decoder is a recursive-descent JSON parser. Members and elements of the
// containers being parsed are collected on shared stacks (kvs, elems) so that
// each map and slice is allocated once at its final size.
type decoder struct {
	data  []byte
	str   string // string(data): strings without escapes and numbers are slices of it
	pos   int
	depth int
	lim   Limits
	kvs   []member
	elems []any
	buf   []byte // scratch for unescaping
	err   parseErr
}

type member struct {
	key string
	val any
	off int // byte offset of the key
}

// parseErr describes the first problem found. path holds the reference
// tokens of the innermost value outwards; each container appends its own
// token while the error unwinds, so the success path pays nothing for it.
type parseErr struct {
	off    int
	msg    string
	dupKey string
	dup    bool
	depth  bool
	path   []string
}

// maxPooledScratch keeps one huge payload from pinning large stacks in the
// pool forever.
const maxPooledScratch = 4096

func (d *decoder) reset(payload []byte, lim Limits) {
	d.data, d.str, d.pos, d.depth, d.lim = payload, string(payload), 0, 0, lim
	d.err = parseErr{path: d.err.path[:0]}
}

func (d *decoder) release() {
	clear(d.kvs)
	clear(d.elems)
	clear(d.err.path)
	d.kvs, d.elems, d.err.path = d.kvs[:0], d.elems[:0], d.err.path[:0]
	d.data, d.str = nil, ""
	if cap(d.kvs) > maxPooledScratch || cap(d.elems) > maxPooledScratch || cap(d.buf) > 64*maxPooledScratch {
		return
	}
	decoderPool.Put(d)
}

// fail records a problem at byte offset off and returns false, for use as
// `return nil, d.fail(...)`.
func (d *decoder) fail(off int, msg string) bool {
	d.err.off, d.err.msg = off, msg
	return false
}

func (d *decoder) violation() record.Violation {
	e := &d.err
	var ptr strings.Builder
	for i := len(e.path) - 1; i >= 0; i-- {
		ptr.WriteByte('/')
		writeToken(&ptr, e.path[i])
	}
	field := ptr.String()
	var msg string
	switch {
	case e.dup:
		where := "the top-level object"
		if field != "" {
			where = "the object at " + clip(field, maxMsgPointer)
		}
		msg = fmt.Sprintf("duplicate key %s in %s at byte offset %d", quote(e.dupKey), where, e.off)
	case e.depth:
		msg = fmt.Sprintf("nesting deeper than %d levels at byte offset %d", d.lim.MaxDepth, e.off)
	default:
		msg = fmt.Sprintf("%s at byte offset %d", e.msg, e.off)
		if field != "" {
			msg += " (in " + clip(field, maxMsgPointer) + ")"
		}
	}
	return parseViolation(field, msg)
}

// maxMsgPointer bounds a JSON pointer quoted inside a message; the Field
// always carries the whole pointer.
const maxMsgPointer = 200

func (d *decoder) skipWS() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\n', '\r', '\t':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value() (any, bool) {
	if d.pos >= len(d.data) {
		return nil, d.fail(d.pos, "unexpected end of input, expected a value")
	}
	switch c := d.data[d.pos]; c {
	case '{':
		return d.object()
	case '[':
		return d.array()
	case '"':
		s, ok := d.string()
		if !ok {
			return nil, false
		}
		return s, true
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	default:
		if c == '-' || isDigit(c) {
			return d.number()
		}
		return nil, d.fail(d.pos, "unexpected "+describeAt(d.data, d.pos)+", expected a value")
	}
}

func (d *decoder) literal(lit string) bool {
	if strings.HasPrefix(d.str[d.pos:], lit) {
		d.pos += len(lit)
		return true
	}
	i := 0
	for d.pos+i < len(d.data) && i < len(lit) && d.data[d.pos+i] == lit[i] {
		i++
	}
	if d.pos+i == len(d.data) {
		return d.fail(d.pos+i, "unexpected end of input in literal "+lit)
	}
	return d.fail(d.pos+i, "unexpected "+describeAt(d.data, d.pos+i)+" in literal "+lit)
}

func (d *decoder) enter() bool {
	d.depth++
	if d.depth > d.lim.MaxDepth {
		d.err.depth = true
		return d.fail(d.pos, "")
	}
	return true
}

func (d *decoder) object() (any, bool) {
	if !d.enter() {
		return nil, false
	}
	d.pos++ // '{'
	d.skipWS()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return map[string]any{}, true
	}
	base := len(d.kvs)
	for {
		if d.pos >= len(d.data) {
			return nil, d.fail(d.pos, "unexpected end of input in object, expected a key")
		}
		if d.data[d.pos] != '"' {
			what := "expected a string key"
			if d.data[d.pos] == '}' {
				what = "expected a key after ','"
			}
			return nil, d.fail(d.pos, "unexpected "+describeAt(d.data, d.pos)+" in object, "+what)
		}
		koff := d.pos
		k, ok := d.string()
		if !ok {
			return nil, false
		}
		d.skipWS()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.fail(d.pos, "unexpected "+describeAt(d.data, d.pos)+" after object key, expected ':'")
		}
		d.pos++
		d.skipWS()
		v, ok := d.value()
		if !ok {
			d.err.path = append(d.err.path, k)
			return nil, false
		}
		d.kvs = append(d.kvs, member{key: k, val: v, off: koff})
		d.skipWS()
		if d.pos >= len(d.data) {
			return nil, d.fail(d.pos, "unexpected end of input in object, expected ',' or '}'")
		}
		c := d.data[d.pos]
		d.pos++
		if c == '}' {
			break
		}
		if c != ',' {
			return nil, d.fail(d.pos-1, "unexpected "+describeAt(d.data, d.pos-1)+" after object member, expected ',' or '}'")
		}
		d.skipWS()
	}
	ms := d.kvs[base:]
	m := make(map[string]any, len(ms))
	for i := range ms {
		n := len(m)
		m[ms[i].key] = ms[i].val
		if len(m) == n && !d.lim.AllowDuplicateKeys {
			d.err.dup, d.err.dupKey = true, ms[i].key
			return nil, d.fail(ms[i].off, "")
		}
	}
	clear(ms)
	d.kvs = d.kvs[:base]
	d.depth--
	return m, true
}

func (d *decoder) array() (any, bool) {
	if !d.enter() {
		return nil, false
	}
	d.pos++ // '['
	d.skipWS()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return []any{}, true
	}
	base := len(d.elems)
	for {
		v, ok := d.value()
		if !ok {
			d.err.path = append(d.err.path, strconv.Itoa(len(d.elems)-base))
			return nil, false
		}
		d.elems = append(d.elems, v)
		d.skipWS()
		if d.pos >= len(d.data) {
			return nil, d.fail(d.pos, "unexpected end of input in array, expected ',' or ']'")
		}
		c := d.data[d.pos]
		d.pos++
		if c == ']' {
			break
		}
		if c != ',' {
			return nil, d.fail(d.pos-1, "unexpected "+describeAt(d.data, d.pos-1)+" after array element, expected ',' or ']'")
		}
		d.skipWS()
		if d.pos < len(d.data) && d.data[d.pos] == ']' {
			return nil, d.fail(d.pos, "unexpected ']' after ',' in array, expected a value")
		}
	}
	es := d.elems[base:]
	a := make([]any, len(es))
	copy(a, es)
	clear(es)
	d.elems = d.elems[:base]
	d.depth--
	return a, true
}

// strSafe marks the ASCII bytes that stand for themselves inside a string.
var strSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func (d *decoder) string() (string, bool) {
	data := d.data
	start := d.pos + 1
	i := start
	for i < len(data) {
		c := data[i]
		if c < utf8.RuneSelf {
			if strSafe[c] {
				i++
				continue
			}
			switch c {
			case '"':
				d.pos = i + 1
				return d.str[start:i], true
			case '\\':
				return d.escaped(start, i)
			}
			return "", d.fail(i, fmt.Sprintf("invalid control character 0x%02x in string", c))
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return "", d.fail(i, fmt.Sprintf("invalid UTF-8 byte 0x%02x in string", c))
		}
		i += size
	}
	return "", d.fail(d.pos, "unterminated string")
}

// escaped finishes a string whose first escape is at data[i].
func (d *decoder) escaped(start, i int) (string, bool) {
	data := d.data
	buf := d.buf[:0]
	buf = append(buf, data[start:i]...)
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			d.buf = buf
			return string(buf), true
		case c == '\\':
			if i+1 >= len(data) {
				return "", d.fail(i+1, "unexpected end of input in escape sequence")
			}
			switch e := data[i+1]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := d.hex4(i)
				if !ok {
					return "", false
				}
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if r < 0xdc00 && i+1 < len(data) && data[i] == '\\' && data[i+1] == 'u' {
						if r2, ok = d.hex4(i); !ok {
							return "", false
						}
					}
					if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
						return "", d.fail(i-6, "invalid escape "+string(data[i-6:i])+" in string: lone UTF-16 surrogate")
					}
					i += 6
				}
				buf = utf8.AppendRune(buf, r)
				continue
			default:
				return "", d.fail(i, "invalid escape sequence "+describeAt(data, i+1)+" after '\\' in string")
			}
			i += 2
		case c < 0x20:
			return "", d.fail(i, fmt.Sprintf("invalid control character 0x%02x in string", c))
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				return "", d.fail(i, fmt.Sprintf("invalid UTF-8 byte 0x%02x in string", c))
			}
			buf = append(buf, data[i:i+size]...)
			i += size
		}
	}
	return "", d.fail(d.pos, "unterminated string")
}

// hex4 decodes the \uXXXX escape at data[i].
func (d *decoder) hex4(i int) (rune, bool) {
	if i+6 > len(d.data) {
		return 0, d.fail(i, "unexpected end of input in \\u escape")
	}
	var r rune
	for _, c := range d.data[i+2 : i+6] {
		switch {
		case isDigit(c):
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, d.fail(i, "invalid escape "+strconv.QuoteToASCII(string(d.data[i:i+6]))+" in string: want \\u and 4 hex digits")
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

func (d *decoder) number() (any, bool) {
	data := d.data
	start := d.pos
	i := start
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
		if i < len(data) && isDigit(data[i]) {
			return nil, d.fail(start, "invalid number: leading zero")
		}
	case i < len(data) && isDigit(data[i]):
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	default:
		return nil, d.failDigit(i, "after '-'")
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !isDigit(data[i]) {
			return nil, d.failDigit(i, "after the decimal point")
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		expStart := i
		if i >= len(data) || !isDigit(data[i]) {
			return nil, d.failDigit(i, "in the exponent")
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
		if exp := strings.TrimLeft(d.str[expStart:i], "0"); len(exp) > 9 || atoi(exp) > d.lim.MaxNumberExponent {
			return nil, d.fail(start, fmt.Sprintf("number %s has an exponent beyond the limit of %d",
				clip(d.str[start:i], 40), d.lim.MaxNumberExponent))
		}
	}
	if i-start > d.lim.MaxNumberLen {
		return nil, d.fail(start, fmt.Sprintf("number of %d bytes exceeds the limit of %d", i-start, d.lim.MaxNumberLen))
	}
	d.pos = i
	return json.Number(d.str[start:i]), true
}

func (d *decoder) failDigit(i int, where string) bool {
	if i >= len(d.data) {
		return d.fail(i, "unexpected end of input in number, expected a digit "+where)
	}
	return d.fail(i, "unexpected "+describeAt(d.data, i)+" in number, expected a digit "+where)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// atoi parses at most 9 decimal digits.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// describeAt names the byte at data[off] for a message: a printable
// character in quotes, otherwise its hex value.
func describeAt(data []byte, off int) string {
	if off >= len(data) {
		return "end of input"
	}
	c := data[off]
	switch {
	case c >= 0x20 && c < 0x7f:
		return "character " + strconv.QuoteRune(rune(c))
	case c >= utf8.RuneSelf:
		if r, size := utf8.DecodeRune(data[off:]); size > 1 && strconv.IsPrint(r) {
			return "character " + strconv.QuoteRune(r)
		}
	}
	return fmt.Sprintf("byte 0x%02x", c)
}
