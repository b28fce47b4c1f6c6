package cli

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// 'broker' serves the Kafka protocol until interrupted: a client produces
// and consumes through the address it prints.
func TestBrokerCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	addr, stop := startBroker(t, "--listen", "127.0.0.1:0")

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("t"),
		kgo.ConsumeTopics("t"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cl.Close()
	_, err = kadm.NewClient(cl).CreateTopic(ctx, 1, -1, nil, "t")
	require.NoError(t, err)
	require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Value: []byte("hello")}).FirstErr())
	pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
	defer pcancel()
	recs := cl.PollFetches(pctx).Records()
	require.Len(t, recs, 1)
	require.Equal(t, "hello", string(recs[0].Value))
	require.Equal(t, exitOK, stop())
}

// startBroker runs 'broker' with args until stop, which returns its exit
// code; addr is the address it printed.
func startBroker(t *testing.T, args ...string) (addr string, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, Env{Args: append([]string{"broker", "--data-dir", t.TempDir()}, args...), Stdout: outW, Stderr: io.Discard})
		_ = outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, outR) }()
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "broker listening on ")
	require.True(t, ok, "first line: %q", line)
	return addr, func() int { cancel(); return <-done }
}

func TestBrokerRefusesARemoteListenWithoutConsent(t *testing.T) {
	t.Parallel()
	code, _, errOut := runCLI(t, "", nil, "broker", "--listen", "0.0.0.0:0", "--data-dir", t.TempDir())
	require.Equal(t, exitUsage, code)
	require.Contains(t, errOut, "--allow-remote")
}

// --advertise is the address printed and told to clients.
func TestBrokerAdvertise(t *testing.T) {
	t.Parallel()
	addr, stop := startBroker(t, "--listen", "127.0.0.1:0", "--advertise", "localhost:0")
	port, ok := strings.CutPrefix(addr, "localhost:")
	require.True(t, ok, "printed %q", addr)
	cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:" + port))
	require.NoError(t, err)
	defer cl.Close()
	meta, err := kadm.NewClient(cl).BrokerMetadata(context.Background())
	require.NoError(t, err)
	require.Equal(t, "localhost", meta.Brokers[0].Host)
	require.Equal(t, exitOK, stop())
}
