package cli

import (
	"testing"

	"github.com/dataquarantine/dataquarantine/internal/app/apptest"
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
	cfg.Log.Level = "warn"
	if mutate != nil {
		mutate(&cfg)
	}
	g := apptest.Start(t, cfg)
	return g.URL, g.Kafka
}
