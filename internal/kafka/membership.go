package kafka

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// staticMembership returns the options that make a group client the static
// member id (KIP-345, group.instance.id), none for "". A static member that
// restarts within the session timeout gets its partitions back with no
// rebalance: the broker hands the rejoining id its old assignment instead
// of waiting for the dead session to expire. In exchange a static member
// does not leave the group when it closes (franz-go sends no LeaveGroup),
// so a process that stops for good holds its partitions until its session
// times out, and a second process with the same id fences the first:
// onFenced (when set) is then called, since the fenced process consumes
// nothing more until it rejoins.
func staticMembership(id string, onFenced func(error)) []kgo.Opt {
	if id == "" {
		return nil
	}
	opts := []kgo.Opt{kgo.InstanceID(id)}
	if onFenced != nil {
		opts = append(opts, kgo.WithHooks(fenceHook(onFenced)))
	}
	return opts
}

// fenceHook calls itself when the group session ends because another
// member took this one's instance id (FENCED_INSTANCE_ID).
type fenceHook func(error)

var _ kgo.HookGroupManageError = fenceHook(nil)

func (h fenceHook) OnGroupManageError(err error) {
	if errors.Is(err, kerr.FencedInstanceID) {
		h(err)
	}
}
