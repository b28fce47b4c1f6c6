package auth_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/httpapi/auth"
)

// FuzzSafeNext: whatever a login form's next says, the redirect stays on
// this site.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/a?b=c", "//evil", "/\\evil", "https://x", "/%2F%2Fx", "\x00", "/a#b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := auth.SafeNext(next)
		if got != "/" && got != next {
			t.Fatalf("SafeNext(%q) = %q: neither the input nor /", next, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(got, "/") ||
			strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") {
			t.Fatalf("SafeNext(%q) = %q leaves the site", next, got)
		}
	})
}

// FuzzSessionCookie: a forged session cookie never authenticates.
func FuzzSessionCookie(f *testing.F) {
	m, err := auth.New(auth.Options{Tokens: tokens})
	if err != nil {
		f.Fatal(err)
	}
	h := m.Wrap(echo)
	for _, s := range []string{"", "a.b.c", "dmVyYS52.99999999999.00", "b3R0bw.4102444800." + strings.Repeat("0", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/stats", http.NoBody)
		req.Header.Set("Cookie", "dq_session="+v)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("cookie %q: status %d, want 401", v, rec.Code)
		}
	})
}
