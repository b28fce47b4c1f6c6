package kafka

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestEmbeddedReach: the embedded broker has no authentication, so an
// address other machines can reach is refused unless allowed, and warned
// about when it is. Judged on fabricated addresses: the tests bind nothing
// but loopback.
func TestEmbeddedReach(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr          net.Addr
		allow, remote bool
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9092}, false, false},
		{&net.TCPAddr{IP: net.IPv4(127, 9, 9, 9), Port: 9092}, false, false},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 9092}, false, false},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 9092}, false, true},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 9092}, false, true},
		{&net.TCPAddr{IP: net.IPv4(192, 168, 1, 5), Port: 9092}, false, true},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 9092}, true, true},
		{&net.UnixAddr{Name: "/tmp/x", Net: "unix"}, false, true},
	} {
		var logs bytes.Buffer
		err := checkReach(tc.addr, tc.allow, slog.New(slog.NewTextHandler(&logs, nil)))
		switch {
		case !tc.remote:
			require.NoError(t, err, "%s", tc.addr)
			require.Empty(t, logs.String())
		case tc.allow:
			require.NoError(t, err, "%s", tc.addr)
			require.Contains(t, logs.String(), "level=WARN")
			require.Contains(t, logs.String(), "no authentication")
			require.Contains(t, logs.String(), "listen="+tc.addr.String())
		default:
			require.ErrorContains(t, err, "reachable from other machines", "%s", tc.addr)
			require.ErrorContains(t, err, "kafka.embedded.allow_remote")
			require.Empty(t, logs.String())
		}
	}
}

// TestEmbeddedOnLoopback: the default listener starts, without a warning.
func TestEmbeddedOnLoopback(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	e, err := StartEmbedded(EmbeddedOptions{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	defer e.Close()
	host, _, err := net.SplitHostPort(e.Addr())
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1", host)
	require.NotContains(t, logs.String(), "no authentication")
}

// TestEmbeddedAdvertised: the address clients are told to connect to. A
// wildcard bind is advertised as localhost (a client cannot connect to
// 0.0.0.0 from another machine, nor anywhere on some systems); a given
// advertise wins, its port 0 standing for the bound port.
func TestEmbeddedAdvertised(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		bound     net.Addr
		advertise string
		want      string
		err       string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9092}, "", "127.0.0.1:9092", ""},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 9092}, "", "localhost:9092", ""},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 9092}, "", "localhost:9092", ""},
		{&net.TCPAddr{IP: net.ParseIP("fd00::5"), Port: 9092}, "", "[fd00::5]:9092", ""},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 9092}, "broker.example:19092", "broker.example:19092", ""},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 40001}, "10.1.2.3:0", "10.1.2.3:40001", ""},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 9092}, "0.0.0.0:9092", "", "not an address a client can connect to"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 9092}, "broker.example", "", "want host:port"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 9092}, ":9092", "", "want host:port"},
	} {
		got, err := advertised(tc.bound, tc.advertise)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, "%s advertising %q", tc.bound, tc.advertise)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.want, got.String(), "%s advertising %q", tc.bound, tc.advertise)
	}
}

// TestEmbeddedAdvertisesToClients: a client bootstrapping from the bound
// address is told the advertised one, and produces through it.
func TestEmbeddedAdvertisesToClients(t *testing.T) {
	t.Parallel()
	e, err := StartEmbedded(EmbeddedOptions{Listen: "127.0.0.1:0", Advertise: "localhost:0", DataDir: t.TempDir()})
	require.NoError(t, err)
	defer e.Close()
	host, port, err := net.SplitHostPort(e.Addr())
	require.NoError(t, err)
	require.Equal(t, "localhost", host)
	cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:" + port))
	require.NoError(t, err)
	defer cl.Close()
	ctx := context.Background()
	meta, err := kadm.NewClient(cl).BrokerMetadata(ctx)
	require.NoError(t, err)
	require.Len(t, meta.Brokers, 1)
	require.Equal(t, "localhost", meta.Brokers[0].Host)
	require.Equal(t, port, strconv.Itoa(int(meta.Brokers[0].Port)))
	_, err = kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, "t")
	require.NoError(t, err)
	require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("v")}).FirstErr())
}
