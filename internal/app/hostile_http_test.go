package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// hostileSend makes a request to the gateway at base, naming host in its
// Host header (the connection goes to base whatever the name, as after DNS
// rebinding), with hdr added.
func hostileSend(t *testing.T, method, base, path, host string, hdr map[string]string) (int, string) {
	t.Helper()
	var body io.Reader = http.NoBody
	if method != http.MethodGet {
		body = strings.NewReader(`{"reason":"hostile"}`)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, base+path, body)
	require.NoError(t, err)
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := noRedirects.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// TestHostileWebRequests: a real gateway with auth off (the loopback
// default) answers neither a page that reached it through DNS rebinding
// (Host and Origin the attacker's) nor a change a page on another origin
// makes with the browser's help; the loopback names and the allowed host
// still work, and so do curl-like clients.
func TestHostileWebRequests(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.HTTP.AllowedHosts = []string{"dq.test"}
	gw := startWith(t, cfg)
	u, err := url.Parse(gw.base)
	require.NoError(t, err)
	port := u.Port()

	produce(t, gw.app.KafkaAddr(), &kgo.Record{Key: []byte("bad"), Value: []byte(`{"secret_payload":"s3cr3t"}`)})
	var list struct {
		Items []quarantineItem `json:"items"`
	}
	testwait.For(t, 20*time.Second, "the record quarantined", func() error {
		if code := gw.getJSON("/api/v1/quarantine", &list); code != 200 || len(list.Items) != 1 {
			return fmt.Errorf("status %d, %d records", code, len(list.Items))
		}
		return nil
	})
	id := list.Items[0].ID
	discard := "/api/v1/quarantine/" + id + "/discard"

	attacker := "attacker.example:" + port
	rebound := map[string]string{"Origin": "http://" + attacker, "Sec-Fetch-Site": "same-origin"}
	for _, path := range []string{"/api/v1/quarantine", "/api/v1/quarantine/" + id, "/api/v1/quarantine/" + id + "/payload", "/", "/registry/subjects", "/metrics"} {
		code, body := hostileSend(t, http.MethodGet, gw.base, path, attacker, rebound)
		require.Equal(t, http.StatusForbidden, code, "GET %s under the attacker's name", path)
		require.Contains(t, body, `"host_not_allowed"`, path)
		require.NotContains(t, body, "s3cr3t", path)
	}
	code, body := hostileSend(t, http.MethodPost, gw.base, discard, attacker, rebound)
	require.Equal(t, http.StatusForbidden, code, body)
	require.Contains(t, body, `"host_not_allowed"`)
	code, _ = hostileSend(t, http.MethodGet, gw.base, "/healthz", attacker, nil)
	require.Equal(t, http.StatusOK, code, "probes answer under any name")

	// A page on another origin, talking to the gateway under its real
	// name: the browser says where the request comes from.
	for name, hdr := range map[string]map[string]string{
		"foreign Origin":          {"Origin": "http://evil.example"},
		"foreign Origin, no sfs":  {"Origin": "https://evil.example:443"},
		"opaque Origin":           {"Origin": "null"},
		"another port, same host": {"Origin": "http://127.0.0.1:1", "Sec-Fetch-Site": "same-site"},
		"cross-site, no Origin":   {"Sec-Fetch-Site": "cross-site"},
	} {
		code, body := hostileSend(t, http.MethodPost, gw.base, discard, "", hdr)
		require.Equal(t, http.StatusForbidden, code, name)
		require.Contains(t, body, `"csrf"`, name)
	}
	var detail quarantineItem
	require.Equal(t, 200, gw.getJSON("/api/v1/quarantine/"+id, &detail))
	require.Equal(t, "quarantined", detail.Status, "no hostile request changed the record")

	// The names the gateway answers to.
	for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "dq.test:" + port, "DQ.TEST"} {
		code, body := hostileSend(t, http.MethodGet, gw.base, "/api/v1/quarantine/"+id, host, nil)
		require.Equal(t, http.StatusOK, code, "Host %s: %s", host, body)
	}
	code, body = hostileSend(t, http.MethodPost, gw.base, discard, "localhost:"+port,
		map[string]string{"Origin": "http://localhost:" + port, "Sec-Fetch-Site": "same-origin"})
	require.Equal(t, http.StatusOK, code, "the gateway's own page: %s", body)
	require.Equal(t, 200, gw.getJSON("/api/v1/quarantine/"+id, &detail))
	require.Equal(t, "discarded", detail.Status)
}
