package kafka

import "github.com/twmb/franz-go/pkg/kgo"

// staticMembership returns the options that make a group client the static
// member id (KIP-345, group.instance.id), none for "". A static member that
// restarts within the session timeout gets its partitions back with no
// rebalance: the broker hands the rejoining id its old assignment instead
// of waiting for the dead session to expire. In exchange a static member
// does not leave the group when it closes (franz-go sends no LeaveGroup),
// so a process that stops for good holds its partitions until its session
// times out, and a second process with the same id fences the first.
func staticMembership(id string) []kgo.Opt {
	if id == "" {
		return nil
	}
	return []kgo.Opt{kgo.InstanceID(id)}
}
