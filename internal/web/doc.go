// Package web owns the operator web UI: server-rendered pages from
// html/template, with their templates, stylesheet and vendored htmx embedded
// in the binary (go:embed), so nothing is built with Node and nothing is
// fetched from elsewhere.
//
// Like httpapi it knows nothing of storage: it reads through small
// interfaces. Payloads, keys, headers and messages are hostile input: they
// reach the page only through html/template's contextual escaping, never as
// template.HTML, JS or URL values, and every response carries a strict
// Content-Security-Policy (scripts only from this origin, no inline script
// or style), so even a gap in escaping would run nothing.
package web
