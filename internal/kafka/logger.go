package kafka

import (
	"context"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"
)

// clientLogger adapts slog to franz-go's logger one level quieter: the
// client's "info" lines (every join, sync, metadata refresh) are debug
// detail for a gateway operator, while its warnings and errors stay as they
// are.
type clientLogger struct{ l *slog.Logger }

var _ kgo.Logger = clientLogger{}

func (c clientLogger) Level() kgo.LogLevel {
	ctx := context.Background()
	switch {
	case c.l.Enabled(ctx, slog.LevelDebug):
		return kgo.LogLevelInfo
	case c.l.Enabled(ctx, slog.LevelWarn):
		return kgo.LogLevelWarn
	case c.l.Enabled(ctx, slog.LevelError):
		return kgo.LogLevelError
	default:
		return kgo.LogLevelNone
	}
}

func (c clientLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	l := slog.LevelDebug
	switch level {
	case kgo.LogLevelError:
		l = slog.LevelError
	case kgo.LogLevelWarn:
		l = slog.LevelWarn
	}
	c.l.Log(context.Background(), l, msg, keyvals...)
}
