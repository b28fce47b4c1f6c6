package audit

import (
	"context"
	"sync/atomic"
)

type auditedKey struct{}

// WithScope returns ctx in which the code handling a change can report,
// with Recorded, that it recorded the change in the audit log itself (or
// that it changed nothing), and a function telling whether it did. The
// HTTP auth middleware opens a scope for every change and records a
// generic http.request event only for changes nothing recorded more
// precisely.
func WithScope(ctx context.Context) (context.Context, func() bool) {
	done := new(atomic.Bool)
	return context.WithValue(ctx, auditedKey{}, done), done.Load
}

// Recorded reports, to the scope in ctx if any, that the change was
// recorded (or that there was none to record).
func Recorded(ctx context.Context) {
	if done, ok := ctx.Value(auditedKey{}).(*atomic.Bool); ok {
		done.Store(true)
	}
}
