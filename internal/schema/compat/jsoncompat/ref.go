package jsoncompat

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/dataquarantine/dataquarantine/internal/schema/jsonschema"
)

// refNode makes a reference to a schema elsewhere in the document, queued
// for loading if nothing referred to it before.
func (l *loader) refNode(v any, ptr string) (*node, error) {
	ref, ok := v.(string)
	if !ok {
		return nil, l.errorf(ptr+"/$ref", "$ref must be a string, not %s", jsonKind(v))
	}
	target, err := l.resolve(ref, ptr)
	if err != nil {
		return nil, err
	}
	t, ok := l.targets[target]
	if !ok {
		if _, found := lookupPointer(l.doc, target); !found {
			return nil, l.errorf(ptr+"/$ref", "$ref %q names nothing in the document", ref)
		}
		t = &node{kind: kindEmpty}
		l.targets[target] = t
		l.pending = append(l.pending, target)
	}
	return &node{kind: kindRef, ref: "#" + target, target: t}, nil
}

// resolve turns a $ref into a JSON pointer within the document. A reference
// to another document is refused: offline there is nothing to compare it
// with, and the gateway's validator refuses them too.
func (l *loader) resolve(ref, ptr string) (string, error) {
	doc, frag, _ := strings.Cut(ref, "#")
	if unescaped, err := url.PathUnescape(frag); err == nil {
		frag = unescaped
	}
	if doc != "" {
		u, err := url.Parse(doc)
		if err != nil || !l.isSelf(u) {
			return "", l.errorf(ptr+"/$ref", "$ref %q names another document (%v)", ref, jsonschema.ErrRemoteRef)
		}
	}
	if frag == "" || strings.HasPrefix(frag, "/") {
		return frag, nil
	}
	p, ok := l.anchor(frag)
	if !ok {
		return "", l.errorf(ptr+"/$ref", "$ref %q names an anchor the document does not define", ref)
	}
	return p, nil
}

// isSelf reports whether u (without fragment) names this document: its own
// $id, absolute or relative to itself.
func (l *loader) isSelf(u *url.URL) bool {
	if l.base == nil {
		return false
	}
	base := *l.base
	base.Fragment, base.RawFragment = "", ""
	return base.ResolveReference(u).String() == base.String()
}

// anchor finds a plain-name fragment: "$anchor" (2019-09 and later) or an
// "$id" ("id" in draft 4) of the form "#name".
func (l *loader) anchor(name string) (string, bool) {
	if l.anchors == nil {
		l.anchors = map[string]string{}
		l.collectAnchors(l.doc, "")
	}
	p, ok := l.anchors[name]
	return p, ok
}

func (l *loader) collectAnchors(v any, ptr string) {
	switch v := v.(type) {
	case map[string]any:
		if a, ok := v["$anchor"].(string); ok && l.dialect.modern() {
			if _, dup := l.anchors[a]; !dup {
				l.anchors[a] = ptr
			}
		}
		idKey := "$id"
		if l.dialect == draft4 {
			idKey = "id"
		}
		if id, ok := v[idKey].(string); ok && strings.HasPrefix(id, "#") && len(id) > 1 {
			if _, dup := l.anchors[id[1:]]; !dup {
				l.anchors[id[1:]] = ptr
			}
		}
		for _, k := range sortedKeys(v) {
			l.collectAnchors(v[k], ptr+"/"+escapePointer(k))
		}
	case []any:
		for i, e := range v {
			l.collectAnchors(e, ptr+"/"+strconv.Itoa(i))
		}
	}
}

// lookupPointer evaluates a JSON pointer ("" is the whole document).
func lookupPointer(doc any, ptr string) (any, bool) {
	if ptr == "" {
		return doc, true
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, false
	}
	cur := doc
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) || (len(tok) > 1 && tok[0] == '0') {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
