package spool

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// tmpMarker is in the name of every temporary and set-aside file; no spool
// file or segment name contains it.
const tmpMarker = "~"

// Suffixes of files set aside by the syncer, kept for an operator.
const (
	corruptSuffix  = tmpMarker + "corrupt"
	rejectedSuffix = tmpMarker + "rejected"
)

// openDir creates dir if missing and removes the temporaries of writes a
// crash interrupted. It returns the absolute path.
func openDir(dir string) (string, error) {
	if dir == "" {
		return "", fmt.Errorf("spool directory is required")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolving spool dir %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return "", fmt.Errorf("creating spool dir: %w", err)
	}
	if err := syncDir(filepath.Dir(abs)); err != nil {
		return "", err
	}
	ents, err := os.ReadDir(abs)
	if err != nil {
		return "", fmt.Errorf("listing spool dir: %w", err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tmpMarker) {
			if err := os.Remove(filepath.Join(abs, e.Name())); err != nil && !os.IsNotExist(err) {
				return "", fmt.Errorf("removing stale temporary spool file: %w", err)
			}
		}
	}
	return abs, nil
}

// writeFileAtomic writes data as dir/name durably: a temporary file,
// fsynced, renamed over name, then the directory fsynced.
func writeFileAtomic(dir, name string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, tmpMarker+name+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp) //nolint:gosec // tmp is the file CreateTemp made in the spool dir
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, filepath.Join(dir, name)); err != nil { //nolint:gosec // name is a validated segment name or a spool file name
		return err
	}
	return syncDir(dir)
}

// removeDurably deletes dir/name and fsyncs dir, so a drained file does not
// come back after a crash (which would only replay it, harmlessly).
func removeDurably(dir, name string) error {
	if err := os.Remove(filepath.Join(dir, name)); err != nil && !os.IsNotExist(err) {
		return err
	}
	return syncDir(dir)
}

// setAside renames dir/name to dir/name+suffix, keeping its bytes for an
// operator while taking it out of the drain.
func setAside(dir, name, suffix string) error {
	if err := os.Rename(filepath.Join(dir, name), filepath.Join(dir, name+suffix)); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening dir %s for sync: %w", dir, err)
	}
	defer d.Close() //nolint:errcheck // read-only handle
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing dir %s: %w", dir, err)
	}
	return nil
}

// drainEvery calls drain now, then every interval and whenever wake
// fires (nil: never), until ctx ends: the syncer loop of both spools.
func drainEvery(ctx context.Context, interval time.Duration, wake <-chan struct{}, drain func(context.Context) bool) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		drain(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-wake:
		}
	}
}
