package app_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

func TestUIMountedBesideTheAPI(t *testing.T) {
	t.Parallel()
	r := start(t, t.TempDir())
	for path, want := range map[string]string{
		"/":                    "text/html; charset=utf-8",
		"/quarantine":          "text/html; charset=utf-8",
		"/schemas":             "text/html; charset=utf-8",
		"/api/v1/openapi.json": "application/json; charset=utf-8",
		"/api/v1/nope":         "application/json; charset=utf-8",
		"/healthz":             "application/json; charset=utf-8",
		"/registry/subjects":   "application/vnd.schemaregistry.v1+json",
	} {
		resp, err := http.Get(r.base + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, want, resp.Header.Get("Content-Type"), path)
	}
}

// A quarantined record has its page. (Its history section appears once
// App.audit is set: auditHistory is tested on its own.)
func TestUIRecordPage(t *testing.T) {
	t.Parallel()
	r := start(t, t.TempDir())
	produce(t, r.app.KafkaAddr(), &kgo.Record{Value: []byte(`{"event_type":"view"}`)})
	var list struct {
		Items []struct{ ID string } `json:"items"`
	}
	testwait.For(t, 20*time.Second, "one quarantined record", func() error {
		r.getJSON("/api/v1/quarantine", &list)
		if len(list.Items) != 1 {
			return fmt.Errorf("%d records", len(list.Items))
		}
		return nil
	})
	resp, err := http.Get(r.base + "/quarantine/" + list.Items[0].ID)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), `<li id="error-2" data-field="/user_id">`)
	require.Contains(t, string(body), `<span class="ln marked" data-path="">`, "missing fields mark the object")
}

// An open event stream and a connection with no request on it (a browser's
// preconnect) do not turn a shutdown into an error.
func TestShutdownWithOpenBrowserConnections(t *testing.T) {
	t.Parallel()
	r := start(t, t.TempDir())
	idle, err := net.Dial("tcp", strings.TrimPrefix(r.base, "http://"))
	require.NoError(t, err)
	defer idle.Close()

	resp, err := http.Get(r.base + "/api/v1/events")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	require.True(t, sc.Scan())
	require.Equal(t, "event: snapshot", sc.Text())

	stopped := make(chan struct{})
	go func() {
		r.stop() // fails the test if Run returns an error
		close(stopped)
	}()
	for sc.Scan() { // the stream ends with the server
	}
	testwait.Recv(t, 20*time.Second, "the gateway to stop", stopped)
}
