// Package logging builds the zap logger every process uses and adapts it to
// the Temporal SDK's logger interface, so the SDK's lines are zap lines too.
package logging

import (
	"fmt"

	"go.temporal.io/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// New builds a logger: format "json" for production, "console" for people.
// The level is one of debug, info, warn, error.
func New(format, level string) (*zap.Logger, error) {
	var cfg zap.Config
	switch format {
	case "json":
		cfg = zap.NewProductionConfig()
	case "console", "":
		cfg = zap.NewDevelopmentConfig()
		cfg.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
		cfg.DisableStacktrace = true
	default:
		return nil, fmt.Errorf("logging: LOG_FORMAT must be json or console, got %q", format)
	}
	if level != "" {
		lvl, err := zapcore.ParseLevel(level)
		if err != nil {
			return nil, fmt.Errorf("logging: LOG_LEVEL: %w", err)
		}
		cfg.Level = zap.NewAtomicLevelAt(lvl)
	}
	return cfg.Build()
}

// Temporal adapts a zap logger to the SDK's log.Logger.
type Temporal struct {
	z *zap.Logger
}

// NewTemporal wraps z for client.Options.Logger and worker logging.
func NewTemporal(z *zap.Logger) *Temporal {
	return &Temporal{z: z.WithOptions(zap.AddCallerSkip(1))}
}

var (
	_ log.Logger          = (*Temporal)(nil)
	_ log.WithLogger      = (*Temporal)(nil)
	_ log.WithSkipCallers = (*Temporal)(nil)
)

func fields(keyvals []any) []zap.Field {
	out := make([]zap.Field, 0, len(keyvals)/2+1)
	for i := 0; i < len(keyvals); i += 2 {
		key, ok := keyvals[i].(string)
		if !ok {
			key = fmt.Sprint(keyvals[i])
		}
		if i+1 >= len(keyvals) {
			out = append(out, zap.Any("EXTRA_VALUE_AT_END", keyvals[i]))
			break
		}
		if err, ok := keyvals[i+1].(error); ok {
			out = append(out, zap.NamedError(key, err))
			continue
		}
		out = append(out, zap.Any(key, keyvals[i+1]))
	}
	return out
}

// Debug implements log.Logger.
func (t *Temporal) Debug(msg string, keyvals ...any) { t.z.Debug(msg, fields(keyvals)...) }

// Info implements log.Logger.
func (t *Temporal) Info(msg string, keyvals ...any) { t.z.Info(msg, fields(keyvals)...) }

// Warn implements log.Logger.
func (t *Temporal) Warn(msg string, keyvals ...any) { t.z.Warn(msg, fields(keyvals)...) }

// Error implements log.Logger.
func (t *Temporal) Error(msg string, keyvals ...any) { t.z.Error(msg, fields(keyvals)...) }

// With implements log.WithLogger.
func (t *Temporal) With(keyvals ...any) log.Logger {
	return &Temporal{z: t.z.With(fields(keyvals)...)}
}

// WithCallerSkip implements log.WithSkipCallers.
func (t *Temporal) WithCallerSkip(depth int) log.Logger {
	return &Temporal{z: t.z.WithOptions(zap.AddCallerSkip(depth))}
}
