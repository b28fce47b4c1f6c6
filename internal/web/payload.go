package web

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// Bounds of the pretty-printed view, so a hostile payload cannot make a
// huge page: lines beyond maxPayloadLines are cut; a document nested deeper
// than maxPayloadDepth is shown as text instead; a JSON pointer longer than
// maxPathAttr is not put on its line (marks do not need it).
const (
	maxPayloadLines = 5000
	maxPayloadDepth = 64
	maxPathAttr     = 512
	// maxTextBytes bounds a payload shown as text, maxBinaryBytes one shown
	// as a hex dump (four times as long on the page).
	maxTextBytes   = 256 << 10
	maxBinaryBytes = 64 << 10
)

var errTooDeep = errors.New("nested too deep to lay out")

// payloadView is a payload ready for the page: JSON pretty-printed line by
// line with each line's JSON pointer, or text, or a hex dump.
type payloadView struct {
	Kind      string // "json", "text", "binary", "empty"
	Lines     []payloadLine
	Text      string
	Truncated bool
	// Unplaced are errors whose field is in no line (the whole payload, or
	// a parse error).
	Unplaced []int
}

// payloadLine is one line of pretty-printed JSON. Every part is plain text
// for the template to escape.
type payloadLine struct {
	Indent string
	Path   string // JSON pointer of the value this line opens or holds
	// PathAttr is Path for the page's data-path attribute, "" when long.
	PathAttr string
	Key      string // the member name, quoted as in the payload; "" in arrays
	Value    string // scalar text, or "{", "[", "}", "]"
	Class    string // "str", "num", "lit", "punct": for colouring
	Comma    bool
	// Errors are the 1-based numbers of the errors marked on this line.
	Errors []int
	// Offset is where the line's key (or value) ends in the document.
	Offset int64
}

// newPayloadView builds the view of value, marking each error on the line of
// its field, or of the nearest enclosing value present (a missing field
// marks its object).
func newPayloadView(value []byte, errs []record.Violation) payloadView {
	switch {
	case len(value) == 0:
		return payloadView{Kind: "empty", Unplaced: allErrors(errs)}
	case json.Valid(value):
		lines, truncated, err := prettyJSON(value)
		if err == nil {
			v := payloadView{Kind: "json", Lines: lines, Truncated: truncated}
			v.mark(errs)
			for i := range v.Lines {
				if len(v.Lines[i].Path) <= maxPathAttr {
					v.Lines[i].PathAttr = v.Lines[i].Path
				}
			}
			return v
		}
	}
	if utf8.Valid(value) && printable(value) {
		text, truncated := value, false
		if len(text) > maxTextBytes {
			// Cut at a rune boundary.
			n := maxTextBytes
			for n > 0 && n < len(text) && !utf8.RuneStart(text[n]) {
				n--
			}
			text, truncated = text[:n], true
		}
		return payloadView{Kind: "text", Text: string(text), Truncated: truncated, Unplaced: allErrors(errs)}
	}
	dump := value
	truncated := false
	if len(dump) > maxBinaryBytes {
		dump, truncated = dump[:maxBinaryBytes], true
	}
	return payloadView{Kind: "binary", Text: hex.Dump(dump), Truncated: truncated, Unplaced: allErrors(errs)}
}

func allErrors(errs []record.Violation) []int {
	out := make([]int, len(errs))
	for i := range errs {
		out[i] = i + 1
	}
	return out
}

func printable(b []byte) bool {
	for _, r := range string(b) {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
	}
	return true
}

func (v *payloadView) mark(errs []record.Violation) {
	byPath := make(map[string]int, len(v.Lines))
	for i, l := range v.Lines {
		if _, ok := byPath[l.Path]; !ok && !isClose(l.Value) {
			byPath[l.Path] = i
		}
	}
	for n, e := range errs {
		p := e.Field
		for {
			if i, ok := byPath[p]; ok {
				v.Lines[i].Errors = append(v.Lines[i].Errors, n+1)
				break
			}
			if p == "" {
				v.Unplaced = append(v.Unplaced, n+1)
				break
			}
			p = p[:max(0, strings.LastIndexByte(p, '/'))]
		}
	}
}

func isClose(s string) bool { return s == "}" || s == "]" }

// prettyJSON lays out a valid JSON document one member or element per line,
// keeping the payload's member order (a map would lose it) and numbers as
// written.
func prettyJSON(doc []byte) ([]payloadLine, bool, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	type frame struct {
		path  string
		array bool
		index int
		count int
	}
	var (
		stack     []frame
		lines     []payloadLine
		key       *string
		keyOffset int64
	)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, false, err
		}
		if len(lines) >= maxPayloadLines {
			return lines, true, nil
		}
		// A string in an object where a key is due is the key.
		if s, ok := tok.(string); ok && key == nil && len(stack) > 0 && !stack[len(stack)-1].array {
			key, keyOffset = &s, dec.InputOffset()
			continue
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if f.count > 0 {
				lines = append(lines, payloadLine{Indent: indent(len(stack)), Path: f.path, Value: string(d), Class: "punct"})
			} else {
				// An empty container closes on its opening line.
				lines[len(lines)-1].Value += string(d)
			}
			continue
		}
		l := payloadLine{Indent: indent(len(stack)), Offset: dec.InputOffset()}
		if len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.count > 0 {
				lines[len(lines)-1].Comma = true
			}
			top.count++
			if top.array {
				l.Path = top.path + "/" + strconv.Itoa(top.index)
				top.index++
			} else {
				l.Path = top.path + "/" + escapePointer(*key)
				l.Key = quote(*key)
				l.Offset = keyOffset
				key = nil
			}
		}
		switch t := tok.(type) {
		case json.Delim:
			if len(stack) == maxPayloadDepth {
				return nil, false, errTooDeep
			}
			l.Value, l.Class = string(t), "punct"
			stack = append(stack, frame{path: l.Path, array: t == '['})
		case string:
			l.Value, l.Class = quote(t), "str"
		case json.Number:
			l.Value, l.Class = string(t), "num"
		case bool:
			l.Value, l.Class = strconv.FormatBool(t), "lit"
		case nil:
			l.Value, l.Class = "null", "lit"
		}
		lines = append(lines, l)
	}
	return lines, false, nil
}

// quote writes s as a JSON string the way the payload would, without
// json.Marshal's \u003c for <, > and &: the page shows the text as sent,
// and html/template escapes it for HTML.
func quote(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// maxIndent caps the indentation, so lines nested deep (up to
// maxPayloadDepth) stay on screen.
const maxIndent = 32

func indent(depth int) string { return strings.Repeat("  ", min(depth, maxIndent)) }

// escapePointer escapes a member name as a JSON pointer token (RFC 6901).
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// bytesView shows a key or header value: as text when it is printable
// UTF-8, else as hex.
type bytesView struct {
	Text   string
	Binary bool
	Null   bool
}

func newBytesView(b []byte) bytesView {
	switch {
	case b == nil:
		return bytesView{Null: true}
	case utf8.Valid(b) && printable(b):
		return bytesView{Text: string(b)}
	default:
		return bytesView{Text: hex.EncodeToString(b), Binary: true}
	}
}
