package fs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dataquarantine/dataquarantine/internal/retry"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		err  error
		want bool
	}{
		"disk full":     {fmt.Errorf("writing segment s: %w", &os.PathError{Op: "write", Path: "/d/s", Err: syscall.ENOSPC}), true},
		"quota":         {&os.PathError{Op: "write", Path: "/d/s", Err: syscall.EDQUOT}, true},
		"I/O error":     {&os.PathError{Op: "fsync", Path: "/d/s", Err: syscall.EIO}, true},
		"too many open": {&os.PathError{Op: "open", Path: "/d/s", Err: syscall.EMFILE}, true},
		"missing":       {&os.PathError{Op: "open", Path: "/d/s", Err: fs.ErrNotExist}, false},
		"other":         {errors.New("something odd"), false},
	} {
		err := tc.err
		classify(&err)
		require.Equal(t, tc.want, errors.Is(err, retry.ErrUnavailable), name)
		require.Equal(t, tc.err.Error(), err.Error(), name)
	}
}
