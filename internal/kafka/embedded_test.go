package kafka

import (
	"bytes"
	"log/slog"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
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
