package faulttest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/testwait"
)

// A gateway with kafka.instance_id is a static group member (KIP-345):
// SIGKILLed and restarted with the same id, it takes its partitions back
// while its old session is still alive, instead of waiting for the session
// to expire. The session timeout here is five minutes and the restarted
// gateway must commit within two: a dynamic member could not (the group
// would wait for the dead member until its session ends).
func TestStaticMemberTakesPartitionsBack(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	k := newCluster(t)
	in := newInput()
	k.produce(in, 0, 500)

	env := k.gatewayEnv(t.TempDir())
	env["DQ_KAFKA_SESSION_TIMEOUT"] = "5m"
	env["DQ_KAFKA_INSTANCE_ID"] = "gateway-0"
	gw := startGateway(t, bin, "gateway", env)
	k.waitCommitted(500, gw)
	k.requireStaticMembers("gateway-0")
	gw.kill()

	k.produce(in, 500, 1000)
	gw = startGateway(t, bin, "gateway-restarted", env)
	k.waitCommitted(1000, gw) // within 2 minutes, the dead session's 5 still running
	k.requireStaticMembers("gateway-0")
	gw.stop()
	k.checkTopics(in)
}

// Two processes given one instance id: the newer fences the older, which
// can no longer commit and says so (not ready, naming the id); the newer
// consumes everything, and nothing is lost.
func TestStaticMemberSharedID(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	k := newCluster(t)
	in := newInput()
	k.produce(in, 0, 500)
	env := k.gatewayEnv(t.TempDir())
	env["DQ_KAFKA_INSTANCE_ID"] = "twin"
	older := startGateway(t, bin, "older", env)
	k.waitCommitted(500, older)

	env2 := k.gatewayEnv(t.TempDir())
	env2["DQ_KAFKA_INSTANCE_ID"] = "twin"
	newer := startGateway(t, bin, "newer", env2)
	k.produce(in, 500, 1000)
	k.waitCommitted(1000, newer)
	k.requireStaticMembers("twin")
	testwait.For(t, 30*time.Second, "the fenced gateway to say it is not ready", func() error {
		resp, err := http.Get(older.base + "/readyz")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `fenced: another process joined the group with kafka.instance_id \"twin\"`) {
			return fmt.Errorf("/readyz answers %s: %s", resp.Status, body)
		}
		return nil
	})
	require.Contains(t, string(older.log()), "fenced: another process joined the consumer group with this kafka.instance_id")
	newer.stop()
	k.checkTopics(in)
}

// requireStaticMembers requires the group to be stable with exactly the
// static members ids, each holding input partitions.
func (k *cluster) requireStaticMembers(ids ...string) {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	groups, err := k.adm.DescribeGroups(ctx, group)
	require.NoError(k.t, err)
	g := groups[group]
	require.Equal(k.t, "Stable", g.State)
	var got []string
	for _, m := range g.Members {
		require.NotNil(k.t, m.InstanceID, "member %s is not static", m.MemberID)
		c, ok := m.Assigned.AsConsumer()
		require.True(k.t, ok && len(c.Topics) > 0, "member %s holds no partition", m.MemberID)
		got = append(got, *m.InstanceID)
	}
	slices.Sort(got)
	require.Equal(k.t, ids, got)
}

// BenchmarkRestartToFirstCommit measures how long a SIGKILLed gateway
// takes, once restarted, to commit again: from starting the new process to
// the broker holding the commit of a record produced while it was dead.
// The gateway runs as a child process against a kfake broker in the
// benchmark's process, with the default kafka.session_timeout (45s), as a
// dynamic member and as a static one (kafka.instance_id). Each iteration
// is one kill and restart; the figures are the median, min and max over
// b.N of them:
//
//	go test -run '^$' -bench RestartToFirstCommit -benchtime 5x ./internal/faulttest
func BenchmarkRestartToFirstCommit(b *testing.B) {
	bin := buildBinary(b)
	for _, mode := range []struct{ name, id string }{{"dynamic", ""}, {"static", "gateway-0"}} {
		b.Run(mode.name, func(b *testing.B) {
			k := newCluster(b)
			in := newInput()
			env := k.gatewayEnv(b.TempDir())
			env["DQ_KAFKA_SESSION_TIMEOUT"] = "45s"
			if mode.id != "" {
				env["DQ_KAFKA_INSTANCE_ID"] = mode.id
			}
			k.produce(in, 0, 100)
			gw := startGateway(b, bin, "gateway", env)
			k.waitCommitted(100, gw)
			var took []time.Duration
			b.ResetTimer()
			for i := range b.N {
				gw.kill()
				next := 100 * (i + 2)
				k.produce(in, next-100, next)
				start := time.Now()
				gw = startGateway(b, bin, fmt.Sprintf("gateway-%d", i+1), env)
				k.waitCommitted(next, gw)
				took = append(took, time.Since(start))
			}
			b.StopTimer()
			gw.stop()
			k.checkTopics(in)
			slices.Sort(took)
			b.ReportMetric(took[len(took)/2].Seconds(), "s-median")
			b.ReportMetric(took[0].Seconds(), "s-min")
			b.ReportMetric(took[len(took)-1].Seconds(), "s-max")
			b.Logf("%s: restart to first commit %v", mode.name, took)
		})
	}
}
