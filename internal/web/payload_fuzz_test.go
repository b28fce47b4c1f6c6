package web

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/record"
)

// FuzzPayloadView: any payload and error field gives a view without
// panicking, and a JSON view reads back as the same document.
func FuzzPayloadView(f *testing.F) {
	for _, seed := range []string{
		`{"a":1,"b":[true,null,{"c":"<x>"}],"d":{}}`, `[]`, `"s"`, `1e400`, `{"a/b~c":[[]]}`,
		`not json`, "\x00\xff", ``, `{"a":"\u2028<\/script>"}`,
	} {
		f.Add([]byte(seed), "/b/2/c")
	}
	f.Fuzz(func(t *testing.T, payload []byte, field string) {
		v := newPayloadView(payload, []record.Violation{{Field: field}, {Field: ""}})
		marks := len(v.Unplaced)
		for _, l := range v.Lines {
			marks += len(l.Errors)
		}
		if marks != 2 {
			t.Fatalf("%d marks for 2 errors", marks)
		}
		if v.Kind != "json" || v.Truncated {
			return
		}
		var b strings.Builder
		for _, l := range v.Lines {
			if l.Key != "" {
				b.WriteString(l.Key + ":")
			}
			b.WriteString(l.Value)
			if l.Comma {
				b.WriteString(",")
			}
		}
		if !reflect.DeepEqual(decode(t, payload), decode(t, []byte(b.String()))) {
			t.Fatalf("view %q of %q reads back differently", b.String(), payload)
		}
	})
}

func decode(t *testing.T, doc []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decoding %q: %v", doc, err)
	}
	return v
}
