// Package apptest runs a real gateway (app.New, then Run) inside a test,
// for the tests of the packages around it (app, cli, web): on free
// 127.0.0.1 ports, with its data in a temporary directory unless the
// config names one, and stopped at cleanup, failing the test unless it
// stops cleanly. It also produces and consumes records through the
// gateway's embedded broker.
package apptest

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/app"
	"github.com/dataquarantine/dataquarantine/internal/config"
	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// Gateway is a running gateway.
type Gateway struct {
	// App is the running application.
	App *app.App
	// URL is its HTTP server's base URL, "http://127.0.0.1:port".
	URL string
	// Kafka is its broker's bootstrap address.
	Kafka string

	t       testing.TB
	cancel  context.CancelFunc
	done    chan error
	stopped bool
}

// Start runs a gateway with cfg, its embedded broker and HTTP server on
// free ports, and returns once it is ready (its partitions assigned). The
// default data dir ("./data") becomes a fresh temporary directory; any
// other is kept, so a test can restart a gateway on the same data.
func Start(t testing.TB, cfg config.Config) *Gateway {
	t.Helper()
	if cfg.DataDir == config.Default().DataDir {
		cfg.DataDir = t.TempDir()
	}
	cfg.Kafka.Embedded.Listen = "127.0.0.1:0"
	cfg.HTTP.Listen = "127.0.0.1:0"
	require.NoError(t, cfg.Validate())
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, app.Options{Config: cfg})
	if err != nil {
		cancel()
		require.NoError(t, err)
	}
	g := &Gateway{App: a, URL: "http://" + a.HTTPAddr(), Kafka: a.KafkaAddr(), t: t, cancel: cancel, done: make(chan error, 1)}
	go func() { g.done <- a.Run(ctx) }()
	t.Cleanup(g.Stop)
	testwait.For(t, 20*time.Second, "the gateway to be ready", func() error {
		resp, err := http.Get(g.URL + "/readyz")
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz answers %s", resp.Status)
		}
		return nil
	})
	return g
}

// Stop stops the gateway and checks that it stopped cleanly. It is safe to
// call more than once.
func (g *Gateway) Stop() {
	if g.stopped {
		return
	}
	g.stopped = true
	g.cancel()
	require.NoError(g.t, <-g.done)
}

// Produce writes recs to the broker at addr (to topic, for records that name
// none) and waits until every one is acknowledged.
func Produce(t testing.TB, addr, topic string, recs ...*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic))
	require.NoError(t, err)
	defer cl.Close()
	require.NoError(t, cl.ProduceSync(context.Background(), recs...).FirstErr())
}

// ConsumeExactly reads topic from the start until n records arrived, then
// checks for half a second that no more come, and returns them.
func ConsumeExactly(t testing.TB, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		f := cl.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "%s: got %d of %d records", topic, len(out), n)
		out = append(out, f.Records()...)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancelShort()
	out = append(out, cl.PollFetches(short).Records()...)
	require.Len(t, out, n, "records in %s", topic)
	return out
}
