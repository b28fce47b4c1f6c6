package kafka

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"

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
	// AllowRemote lets Listen bind an address other machines can reach.
	// The broker has no authentication: whoever reaches it reads every
	// topic and writes to any, the clean topic included. Default false:
	// StartEmbedded refuses a listener that is not on a loopback address.
	AllowRemote bool
	// Advertise is the host:port the broker tells clients to connect to
	// (Kafka's advertised.listeners): a client bootstraps from any address
	// that reaches the broker, then connects to this one. Default: the
	// address bound, with a wildcard host (0.0.0.0, ::) advertised as
	// localhost, as Apache Kafka's container image does, which suits
	// clients on the same machine or behind a published container port;
	// clients on other machines need a name or address they can reach.
	// Port 0 advertises the port bound.
	Advertise string
	// Logger receives the warning of a remote listener. Default
	// slog.Default().
	Logger *slog.Logger
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
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	listen := func(network, _ string) (net.Listener, error) {
		// kfake asks for 127.0.0.1:<port>; bind what the user configured.
		ln, err := net.Listen(network, opts.Listen)
		if err != nil {
			return nil, err
		}
		if err := checkReach(ln.Addr(), opts.AllowRemote, opts.Logger); err != nil {
			_ = ln.Close()
			return nil, err
		}
		adv, err := advertised(ln.Addr(), opts.Advertise)
		if err != nil {
			_ = ln.Close()
			return nil, err
		}
		return advertisingListener{ln, adv}, nil
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

// advertisingListener reports the advertised address as its own: kfake
// tells clients the address of its listener.
type advertisingListener struct {
	net.Listener
	addr net.Addr
}

func (l advertisingListener) Addr() net.Addr { return l.addr }

// hostPort is a net.Addr of a host name and port.
type hostPort string

func (h hostPort) Network() string { return "tcp" }
func (h hostPort) String() string  { return string(h) }

// advertised returns the address to advertise for a listener bound to
// bound: advertise, its port 0 the bound port, or by default the bound
// address with a wildcard host as localhost.
func advertised(bound net.Addr, advertise string) (net.Addr, error) {
	t, ok := bound.(*net.TCPAddr)
	if !ok {
		return bound, nil
	}
	port := strconv.Itoa(t.Port)
	if advertise == "" {
		if t.IP.IsUnspecified() {
			return hostPort(net.JoinHostPort("localhost", port)), nil
		}
		return bound, nil
	}
	host, p, err := net.SplitHostPort(advertise)
	if err != nil || host == "" {
		return nil, fmt.Errorf("advertised address %q: want host:port", advertise)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return nil, fmt.Errorf("advertised address %q: %s is not an address a client can connect to", advertise, host)
	}
	if p != "0" {
		port = p
	}
	return hostPort(net.JoinHostPort(host, port)), nil
}

// checkReach refuses a bound address other machines can reach unless
// allowRemote, and warns when it is allowed: the broker has no
// authentication. It judges the address actually bound, whatever name
// the configuration gave.
func checkReach(a net.Addr, allowRemote bool, log *slog.Logger) error {
	if t, ok := a.(*net.TCPAddr); ok && t.IP.IsLoopback() {
		return nil
	}
	if !allowRemote {
		return fmt.Errorf("%s is reachable from other machines and the embedded broker has no authentication; "+
			"listen on a loopback address, or allow it explicitly (kafka.embedded.allow_remote)", a)
	}
	log.Warn("the embedded Kafka broker listens on an address other machines can reach, with no authentication: "+
		"anyone who reaches it can read every topic and produce to any, the clean topic included, bypassing validation; "+
		"keep it behind a firewall, or use an external Kafka cluster with SASL and TLS (kafka.brokers)",
		"listen", a.String())
	return nil
}

// Addr returns the bootstrap address, host:port.
func (e *Embedded) Addr() string { return e.addr }

// Close stops the broker and flushes its state to disk.
func (e *Embedded) Close() { e.c.Close() }
