package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dataquarantine/dataquarantine/internal/kafka"
)

// newKafkaClient returns the group client, or with kafka.exactly_once the
// transact session's client (a.txn set to the session).
func (a *App) newKafkaClient(ctx context.Context, opts kafka.GroupOptions) (*kgo.Client, error) {
	if !a.cfg.Kafka.ExactlyOnce {
		return kafka.NewGroupClient(opts)
	}
	id, err := transactionalID(a.cfg.DataDir, a.cfg.Kafka.GroupID)
	if err != nil {
		return nil, err
	}
	s, err := kafka.NewTransactSession(opts, id)
	if err != nil {
		return nil, err
	}
	// Initialise the producer id now: that fences and aborts the open
	// transaction a crashed predecessor left under the same id, whose
	// pending offsets would otherwise keep the consumer from starting
	// (UNSTABLE_OFFSET_COMMIT) until the transaction timed out.
	initCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	_, _, err = s.Client().ProducerID(initCtx)
	cancel()
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("initialising the transactional producer %s: %w", id, err)
	}
	a.txn = s
	a.log.Info("exactly-once: producing in transactions", "transactional_id", id)
	return s.Client(), nil
}

// transactionalID returns this gateway's transactional id, kept in the data
// dir: unique to the process (each has its own data dir), and the same after
// a restart, so the restarted process fences its predecessor's open
// transaction at once rather than waiting for the transaction timeout.
func transactionalID(dataDir, group string) (string, error) {
	path := filepath.Join(dataDir, "transactional-id")
	b, err := os.ReadFile(path)
	if err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("reading the transactional id: %w", err)
	}
	r := make([]byte, 8)
	_, _ = rand.Read(r) // never fails (crypto/rand panics instead)
	id := group + "-" + hex.EncodeToString(r)
	tmp := path + "~"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("writing the transactional id: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("writing the transactional id: %w", err)
	}
	return id, nil
}

// replayPublisher returns the client reprocess jobs publish with: the
// pipeline's, or with exactly-once, whose client produces only inside the
// pipeline's transactions, an idempotent producer of their own (acks=all,
// records keep their source partition as the pipeline's do).
func (a *App) replayPublisher() (*kgo.Client, error) {
	if a.txn == nil {
		return a.client, nil
	}
	cl, err := kafka.NewProducer(kafka.ProducerOptions{
		Brokers:     a.brokers,
		ClientID:    a.cfg.Kafka.ClientID + "-reprocess",
		Limits:      a.limits,
		Compression: a.cfg.Kafka.Compression,
	})
	if err != nil {
		return nil, fmt.Errorf("creating the reprocess producer: %w", err)
	}
	a.replayCl = cl
	return cl, nil
}
