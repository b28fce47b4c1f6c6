package auth_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/httpapi/auth"
)

// withHost makes a request naming host in its Host header (the connection
// goes to srv whatever the name, as after DNS rebinding).
func withHost(t *testing.T, srv *httptest.Server, method, path, host, token string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, srv.URL+path, http.NoBody)
	require.NoError(t, err)
	req.Host = host
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func hostServer(t *testing.T, toks []auth.Token, allowed ...string) *httptest.Server {
	t.Helper()
	m, err := auth.New(auth.Options{Tokens: toks, AllowedHosts: allowed, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	srv := httptest.NewServer(m.Wrap(echo))
	t.Cleanup(srv.Close)
	return srv
}

// TestHostCheckAuthOff: with auth off the gateway answers only under
// loopback names and the allowed ones, so a page on a rebound name
// (attacker.example now resolving to 127.0.0.1) can neither read nor
// change anything; the probes answer under any name.
func TestHostCheckAuthOff(t *testing.T) {
	t.Parallel()
	srv := hostServer(t, nil, "gateway.internal", ".corp.example", "10.1.0.0/16", "192.0.2.7")
	for _, tc := range []struct {
		host string
		ok   bool
	}{
		{"127.0.0.1:8080", true},
		{"127.0.0.1", true},
		{"127.45.6.7:1", true},
		{"localhost:8080", true},
		{"LocalHost", true},
		{"localhost.:8080", true},
		{"[::1]:8080", true},
		{"[::ffff:127.0.0.1]:8080", true},
		{"gateway.internal:443", true},
		{"GATEWAY.INTERNAL", true},
		{"corp.example", true},
		{"ui.corp.example:8080", true},
		{"10.1.255.3:8080", true},
		{"192.0.2.7:9", true},

		{"attacker.example:8080", false},
		{"attacker.example", false},
		{"localhost.attacker.example", false},
		{"127.0.0.1.attacker.example", false},
		{"evilcorp.example", false},
		{"corp.example.attacker.example", false},
		{"gateway.internal.attacker.example", false},
		{"10.2.0.1", false},
		{"192.0.2.8", false},
		{"0.0.0.0:8080", false},
		{"[::]:8080", false},
	} {
		resp, body := withHost(t, srv, "GET", "/api/v1/quarantine", tc.host, "", nil)
		if tc.ok {
			require.Equal(t, http.StatusOK, resp.StatusCode, "Host %s: %s", tc.host, body)
			continue
		}
		require.Equal(t, http.StatusForbidden, resp.StatusCode, "Host %s", tc.host)
		require.JSONEq(t, `"host_not_allowed"`, jsonField(t, body, "code"), "Host %s", tc.host)
		require.Contains(t, body, "http.allowed_hosts")
		require.NotContains(t, body, "anonymous", "nothing of the handler's answer leaks")
	}

	// The case: Host and Origin both the attacker's, which the
	// CSRF rule alone takes for the gateway's own page.
	resp, body := withHost(t, srv, "POST", "/api/v1/quarantine/x/discard", "attacker.example:8080", "",
		map[string]string{"Origin": "http://attacker.example:8080", "Sec-Fetch-Site": "same-origin"})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.JSONEq(t, `"host_not_allowed"`, jsonField(t, body, "code"))
	resp, _ = withHost(t, srv, "POST", "/login", "attacker.example", "", nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	for _, p := range []string{"/healthz", "/readyz"} {
		resp, _ := withHost(t, srv, "GET", p, "10.9.8.7:8080", "", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s answers probes under any name", p)
	}
}

// TestHostCheckAuthOn: with auth on and no list every Host is answered
// (tokens protect; proxies and registry clients use names nobody listed);
// with a list, only loopback and the listed names, even with a token.
func TestHostCheckAuthOn(t *testing.T) {
	t.Parallel()
	open := hostServer(t, tokens)
	resp, _ := withHost(t, open, "GET", "/api/v1/quarantine", "schema-registry.kafka.svc:8081", viewerTok, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = withHost(t, open, "GET", "/api/v1/quarantine", "attacker.example", "", nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a rebinding page has no token")

	listed := hostServer(t, tokens, "dq.example.com")
	resp, _ = withHost(t, listed, "GET", "/api/v1/quarantine", "dq.example.com", viewerTok, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = withHost(t, listed, "GET", "/api/v1/quarantine", "localhost:8080", viewerTok, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, body := withHost(t, listed, "GET", "/api/v1/quarantine", "other.example.com", adminTok, nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.JSONEq(t, `"host_not_allowed"`, jsonField(t, body, "code"))

	star := hostServer(t, tokens, "*")
	resp, _ = withHost(t, star, "GET", "/api/v1/quarantine", "whatever.example", viewerTok, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestHostCheckNoHost: an HTTP/1.0 request without a Host header names no
// loopback host: refused with auth off.
func TestHostCheckNoHost(t *testing.T) {
	t.Parallel()
	srv := hostServer(t, nil)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = io.WriteString(conn, "GET /api/v1/quarantine HTTP/1.0\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
}

func TestAllowedHostsRefusedPatterns(t *testing.T) {
	t.Parallel()
	_, err := auth.New(auth.Options{AllowedHosts: []string{"*"}})
	require.ErrorContains(t, err, "DNS rebinding", `"*" with auth off`)
	_, err = auth.New(auth.Options{AllowedHosts: []string{"10.0.0.0/33"}})
	require.ErrorContains(t, err, "CIDR")
}

// FuzzHostCheck: with auth off and no allowed hosts, whatever the Host
// header, the gateway answers only when it names localhost or a loopback
// address.
func FuzzHostCheck(f *testing.F) {
	for _, h := range []string{"127.0.0.1:8080", "localhost", "[::1]:1", "attacker.example", "localhost.evil", "127.0.0.1.evil", "[::ffff:127.0.0.1]", "0.0.0.0", "", "LOCALHOST.:80"} {
		f.Add(h)
	}
	m, err := auth.New(auth.Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(f, err)
	h := m.Wrap(echo)
	f.Fuzz(func(t *testing.T, host string) {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/stats", http.NoBody)
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			return
		}
		name := host
		if n, _, err := net.SplitHostPort(host); err == nil {
			name = n
		}
		name = strings.TrimSuffix(strings.ToLower(strings.Trim(name, "[]")), ".")
		a, err := netip.ParseAddr(name)
		if name != "localhost" && (err != nil || !a.IsLoopback()) {
			t.Fatalf("answered Host %q", host)
		}
	})
}
