package kafka

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
)

// TestFenceHook: OnFenced hears of FENCED_INSTANCE_ID, however wrapped, and
// of no other group error; a dynamic member, or one without OnFenced,
// installs no hook.
func TestFenceHook(t *testing.T) {
	t.Parallel()
	var got []error
	hook := fenceHook(func(err error) { got = append(got, err) })
	fenced := fmt.Errorf("joining group: %w", kerr.FencedInstanceID)
	for _, err := range []error{
		kerr.UnknownMemberID, kerr.RebalanceInProgress, errors.New("connection reset"), fenced,
	} {
		hook.OnGroupManageError(err)
	}
	require.Equal(t, []error{fenced}, got)

	require.Len(t, staticMembership("gw-1", hook), 2)
	require.Len(t, staticMembership("gw-1", nil), 1)
	require.Empty(t, staticMembership("", hook))
}
