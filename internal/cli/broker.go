package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/dataquarantine/dataquarantine/internal/kafka"
)

func runBroker(ctx context.Context, env Env) int {
	fs := newFlagSet(env, "broker", "[flags]", `
Run a standalone Kafka-protocol broker (franz-go's kfake, the one 'serve'
embeds) in this process until interrupted, and print its address on stdout:

  broker listening on 127.0.0.1:9092

Any Kafka client can use it. It is what 'dataquarantine bench' starts as a
separate process so that the gateway is measured against a broker outside
its own process, and a quick way to try the gateway's production wiring
('serve --brokers ADDR') on one machine. It has no authentication, no
replication and no quotas: not for production data.`)
	var (
		listen      = fs.String("listen", kafka.DefaultEmbeddedListen, "`host:port` to listen on (port 0 picks a free one)")
		dataDir     = fs.String("data-dir", "./data/kafka", "`dir` where the log and the group offsets persist across restarts")
		allowRemote = fs.Bool("allow-remote", false, "listen on a non-loopback address (anyone who reaches it can read and write every topic)")
		advertise   = fs.String("advertise", "", "`host:port` clients are told to connect to after bootstrapping (default: the listen address, 0.0.0.0 as localhost; port 0: the port bound)")
	)
	fs.exitStatus(`0  stopped by an interrupt
2  bad flags, or the broker could not start (the address in use, the data dir not writable)`)
	if code := fs.parse(); code >= 0 {
		return code
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		fmt.Fprintf(env.Stderr, "broker: --listen %q: %v\n", *listen, err)
		return exitUsage
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) && !*allowRemote {
		fmt.Fprintf(env.Stderr, "broker: --listen %s is not a loopback address; the broker has no authentication, so pass --allow-remote to listen there anyway\n", *listen)
		return exitUsage
	}
	b, err := kafka.StartEmbedded(kafka.EmbeddedOptions{
		Listen: *listen, DataDir: *dataDir, AllowRemote: *allowRemote, Advertise: *advertise,
		Logger: slog.New(slog.NewTextHandler(env.Stderr, nil)),
	})
	if err != nil {
		fmt.Fprintf(env.Stderr, "broker: %v\n", err)
		return exitUsage
	}
	defer b.Close()
	fmt.Fprintf(env.Stdout, "broker listening on %s\n", b.Addr())
	<-ctx.Done()
	return exitOK
}
