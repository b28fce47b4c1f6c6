package kafka

import (
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/twmb/franz-go/pkg/kfake"
)

// DefaultEmbeddedListen is where the embedded broker listens by default.
const DefaultEmbeddedListen = "127.0.0.1:9092"

// EmbeddedOptions configure StartEmbedded.
type EmbeddedOptions struct {
	// Listen is the host:port the broker binds and advertises. Default
	// DefaultEmbeddedListen; port 0 picks a free port.
	Listen string
	// DataDir is where the broker's log and group offsets persist, so a
	// restart loses nothing. Required.
	DataDir string
}

// Embedded is a one-node Kafka-protocol broker running in this process. Any
// Kafka client can connect to Addr.
type Embedded struct {
	c    *kfake.Cluster
	addr string
}

// StartEmbedded starts the broker, reloading any state persisted in DataDir.
func StartEmbedded(opts EmbeddedOptions) (*Embedded, error) {
	if opts.DataDir == "" {
		return nil, errors.New("embedded kafka: DataDir is required")
	}
	if opts.Listen == "" {
		opts.Listen = DefaultEmbeddedListen
	}
	if err := os.MkdirAll(opts.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("creating embedded kafka data dir: %w", err)
	}
	listen := func(network, _ string) (net.Listener, error) {
		// kfake asks for 127.0.0.1:<port>; bind what the user configured.
		return net.Listen(network, opts.Listen)
	}
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.ListenFn(listen),
		kfake.DataDir(opts.DataDir),
		kfake.ClusterID("dataquarantine-embedded"),
	)
	if err != nil {
		return nil, fmt.Errorf("starting embedded kafka on %s: %w", opts.Listen, err)
	}
	return &Embedded{c: c, addr: c.ListenAddrs()[0]}, nil
}

// Addr returns the bootstrap address, host:port.
func (e *Embedded) Addr() string { return e.addr }

// Close stops the broker and flushes its state to disk.
func (e *Embedded) Close() { e.c.Close() }
