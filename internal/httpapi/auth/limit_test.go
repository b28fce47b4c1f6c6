package auth_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/httpapi/auth"
)

// limited is a middleware over echo with a settable clock, its logs and
// its metrics.
type limited struct {
	h    http.Handler
	reg  *prometheus.Registry
	logs *bytes.Buffer
	mu   sync.Mutex
	now  time.Time
}

func newLimited(t *testing.T) *limited {
	t.Helper()
	l := &limited{reg: prometheus.NewRegistry(), logs: &bytes.Buffer{}, now: time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)}
	var logMu sync.Mutex
	m, err := auth.New(auth.Options{
		Tokens:     tokens,
		Now:        func() time.Time { l.mu.Lock(); defer l.mu.Unlock(); return l.now },
		Logger:     slog.New(slog.NewTextHandler(lockedWriter{&logMu, l.logs}, nil)),
		Registerer: l.reg,
	})
	require.NoError(t, err)
	l.h = m.Wrap(echo)
	return l
}

func (l *limited) advance(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.now = l.now.Add(d)
}

// bearer serves one request from remote (host:port) with token, in process.
func (l *limited) bearer(remote, token string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/api/v1/stats", http.NoBody)
	r.RemoteAddr = remote
	r.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	l.h.ServeHTTP(w, r)
	return w
}

func (l *limited) failures(t *testing.T, reason string) float64 {
	t.Helper()
	mfs, err := l.reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "auth_failures_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no auth_failures_total{reason=%q}", reason)
	return 0
}

const wrongTok = "wrong-token-0123456789"

// TestLockoutSurvivesAFlood: a flood of failing clients cannot buy back a
// locked client's guesses (the attack reset the whole table after
// 10,000 addresses). The table keeps every live entry and refuses clients
// it has no room for, until the oldest window ends.
func TestLockoutSurvivesAFlood(t *testing.T) {
	t.Parallel()
	l := newLimited(t)
	const victim = "192.0.2.1:4000"
	for i := range 10 {
		require.Equal(t, http.StatusUnauthorized, l.bearer(victim, wrongTok).Code, "guess %d", i+1)
	}
	w := l.bearer(victim, adminTok)
	require.Equal(t, http.StatusTooManyRequests, w.Code, "locked out, right token or not")
	require.Equal(t, "61", w.Header().Get("Retry-After"))

	// The flood, one second later: 10,500 other clients, one wrong token
	// each. The table holds the victim and 9,999 of them.
	l.advance(time.Second)
	refused := 0
	for i := range 10_500 {
		remote := fmt.Sprintf("10.%d.%d.%d:5000", i>>16&0xff, i>>8&0xff, i&0xff)
		switch w := l.bearer(remote, wrongTok); w.Code {
		case http.StatusUnauthorized:
			require.Zero(t, refused, "client %d answered 401 after the table filled", i)
		case http.StatusTooManyRequests:
			refused++
			require.Equal(t, "60", w.Header().Get("Retry-After"), "until the victim's window, the oldest, ends")
		default:
			t.Fatalf("client %d: %d", i, w.Code)
		}
	}
	require.Equal(t, 501, refused)

	w = l.bearer(victim, adminTok)
	require.Equal(t, http.StatusTooManyRequests, w.Code, "the victim's lockout survived the flood")
	require.Equal(t, "60", w.Header().Get("Retry-After"))
	require.Equal(t, http.StatusTooManyRequests, l.bearer("198.51.100.7:1", adminTok).Code,
		"a new client is refused while the table is full of live windows, right token or not")
	require.Equal(t, http.StatusOK, l.bearer("10.0.0.1:5000", adminTok).Code,
		"a client the table holds, below the limit, is served")

	// Counted by reason, and logged: every failure, the lockout and the
	// full table once each; never a token.
	require.Equal(t, float64(10+9_999), l.failures(t, "invalid_token"))
	require.Equal(t, float64(1+1), l.failures(t, "locked_out"))
	require.Equal(t, float64(501+1), l.failures(t, "table_full"))
	require.Zero(t, l.failures(t, "invalid_login"))
	logs := l.logs.String()
	require.Equal(t, 1, strings.Count(logs, "client locked out"), "one lockout")
	require.Contains(t, logs, "client=192.0.2.1")
	require.Equal(t, 1, strings.Count(logs, "too many clients failing to authenticate"))
	require.Equal(t, 10+9_999, strings.Count(logs, "bearer token refused"))
	require.NotContains(t, logs, wrongTok)
	require.NotContains(t, logs, adminTok)

	// A minute after the victim's window started, every window ended.
	l.advance(time.Minute)
	require.Equal(t, http.StatusOK, l.bearer(victim, adminTok).Code)
	require.Equal(t, http.StatusOK, l.bearer("198.51.100.7:1", adminTok).Code)
	require.Equal(t, http.StatusUnauthorized, l.bearer("10.0.40.1:5000", wrongTok).Code)
}

// TestLockoutClientKey: loopback addresses are one client, and IPv6
// addresses count with their /64; IPv4 addresses each count alone.
func TestLockoutClientKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name              string
		guesser, neighbor string
		shared            bool
	}{
		{"loopback v4", "127.0.0.1:1", "127.200.0.9:2", true},
		{"loopback v4 and v6", "127.0.0.1:1", "[::1]:2", true},
		{"IPv6 /64", "[2001:db8:1:2::1]:1", "[2001:db8:1:2:ffff:ffff:ffff:ffff]:2", true},
		{"IPv6 other /64", "[2001:db8:1:2::1]:1", "[2001:db8:1:3::1]:2", false},
		{"IPv4-mapped", "[::ffff:192.0.2.1]:1", "192.0.2.1:2", true},
		{"IPv4 neighbors", "192.0.2.1:1", "192.0.2.2:1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLimited(t)
			for range 10 {
				require.Equal(t, http.StatusUnauthorized, l.bearer(tc.guesser, wrongTok).Code)
			}
			want := http.StatusOK
			if tc.shared {
				want = http.StatusTooManyRequests
			}
			require.Equal(t, want, l.bearer(tc.neighbor, viewerTok).Code)
		})
	}
}

// TestLockoutOverRealConnections: a guesser on the gateway's own machine
// cannot escape its lockout by connecting from another loopback address,
// and the login form's 429 carries Retry-After like the API's.
func TestLockoutOverRealConnections(t *testing.T) {
	t.Parallel()
	l := newLimited(t)
	srv := httptest.NewServer(l.h)
	t.Cleanup(srv.Close)
	from := func(local string) *http.Client {
		tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}).DialContext}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	postLogin := func(c *http.Client, token string) *http.Response {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/login",
			strings.NewReader(url.Values{"token": {token}}.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	a, b := from("127.0.0.1"), from("127.0.0.2")
	for i := range 10 {
		require.Equal(t, http.StatusSeeOther, postLogin(a, wrongTok).StatusCode, "guess %d", i+1)
	}
	resp := postLogin(b, adminTok)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "127.0.0.2 is the same machine")
	require.Equal(t, "61", resp.Header.Get("Retry-After"), "the login form's 429 says when to come back")
	require.Equal(t, float64(10), l.failures(t, "invalid_login"))
	require.Equal(t, 10, strings.Count(l.logs.String(), "login refused"))
}
