package cli

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/app"
	"github.com/dataquarantine/dataquarantine/internal/config"
)

// runningGateway starts a real gateway (embedded broker, free ports, its
// own data dir) for the commands that talk to one, waits until its HTTP
// server answers, and stops it when t ends. It returns the server URL.
func runningGateway(t *testing.T) string {
	t.Helper()
	server, _ := runningGatewayWith(t, nil)
	return server
}

// runningGatewayWith is runningGateway with mutate applied to the config
// (nil: none); it also returns the embedded broker's address.
func runningGatewayWith(t *testing.T, mutate func(*config.Config)) (server, broker string) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Kafka.Embedded.Listen = "127.0.0.1:0"
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Log.Level = "warn"
	if mutate != nil {
		mutate(&cfg)
	}
	require.NoError(t, cfg.Validate())
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, app.Options{Config: cfg})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	server = "http://" + a.HTTPAddr()
	require.Eventually(t, func() bool {
		resp, err := http.Get(server + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond)
	return server, a.KafkaAddr()
}
