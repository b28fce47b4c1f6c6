package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/circuit"
	"github.com/dataquarantine/dataquarantine/internal/httpapi"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/fs"
	"github.com/dataquarantine/dataquarantine/internal/quarantine/sqlite"
)

type pausedTopics struct {
	mu     sync.Mutex
	paused map[string]bool
}

func (p *pausedTopics) PauseFetchTopics(ts ...string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range ts {
		p.paused[t] = true
	}
	return nil
}

func (p *pausedTopics) ResumeFetchTopics(ts ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range ts {
		delete(p.paused, t)
	}
}

type noStats struct{}

func (noStats) Stats() httpapi.Stats { return httpapi.Stats{} }

func circuitServer(t *testing.T, set *circuit.Set) *httptest.Server {
	t.Helper()
	dir := t.TempDir()
	meta, err := sqlite.New(sqlite.Options{Path: filepath.Join(dir, "dq.db")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, meta.Close()) })
	payloads, err := fs.New(fs.Options{Dir: filepath.Join(dir, "p")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, payloads.Close()) })
	opts := httpapi.Options{Quarantine: meta, Payloads: payloads, Stats: noStats{}}
	if set != nil {
		opts.Circuit = set
	}
	h, err := httpapi.New(opts)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func call(t *testing.T, method, url string, wantStatus int, into any) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, wantStatus, resp.StatusCode, string(body))
	require.NoError(t, json.Unmarshal(body, into), string(body))
}

func TestCircuitEndpoints(t *testing.T) {
	t.Parallel()
	p := &pausedTopics{paused: map[string]bool{}}
	set, err := circuit.NewSet(circuit.SetOptions{
		Breaker: circuit.Options{MinRecords: 10, Window: time.Minute},
		Topics:  []string{"raw-events", "orders"}, Pauser: p,
	})
	require.NoError(t, err)
	srv := circuitServer(t, set)

	set.Record("orders", 0, 50)
	var list struct {
		Topics []struct {
			Topic, State  string
			OpenedAt      *string `json:"opened_at"`
			WindowInvalid int64   `json:"window_invalid"`
		} `json:"topics"`
	}
	call(t, http.MethodGet, srv.URL+"/api/v1/circuit", 200, &list)
	require.Len(t, list.Topics, 2)
	require.Equal(t, "orders", list.Topics[0].Topic)
	require.Equal(t, "open", list.Topics[0].State)
	require.NotNil(t, list.Topics[0].OpenedAt)
	require.Equal(t, "raw-events", list.Topics[1].Topic)
	require.Equal(t, "closed", list.Topics[1].State)
	require.Nil(t, list.Topics[1].OpenedAt)
	require.True(t, p.paused["orders"])

	var resumed map[string]string
	call(t, http.MethodPost, srv.URL+"/api/v1/circuit/orders/resume", 200, &resumed)
	require.Equal(t, map[string]string{"topic": "orders", "state": "closed"}, resumed)
	require.False(t, p.paused["orders"])

	var apiErr struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	call(t, http.MethodPost, srv.URL+"/api/v1/circuit/nope/resume", 404, &apiErr)
	require.Equal(t, "not_found", apiErr.Error.Code)
	require.Contains(t, apiErr.Error.Message, "nope")
	call(t, http.MethodGet, srv.URL+"/api/v1/circuit/orders/resume", 405, &apiErr)
}

func TestCircuitDisabled(t *testing.T) {
	t.Parallel()
	srv := circuitServer(t, nil)
	var apiErr struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	call(t, http.MethodGet, srv.URL+"/api/v1/circuit", 404, &apiErr)
	require.Contains(t, apiErr.Error.Message, "disabled")
	call(t, http.MethodPost, srv.URL+"/api/v1/circuit/raw-events/resume", 404, &apiErr)
}
