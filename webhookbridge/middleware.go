package webhookbridge

import (
	"net/http"
	"time"

	"github.com/belvo-temporal/backbone/logging"
	"github.com/google/uuid"
	"go.uber.org/zap"
)

// RequestIDHeader carries a per-request id: the caller's when it sent a sane
// one, otherwise a new UUID. It is echoed in the answer and logged, so one
// delivery can be followed across logs.
const RequestIDHeader = "X-Request-ID"

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// middleware wraps every endpoint: a request id, panic recovery (a bug
// answers 500, which Belvo retries, instead of killing the process), and a
// zap access log line that never includes headers, so the Authorization
// value cannot leak.
func (b *Bridge) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rid := r.Header.Get(RequestIDHeader)
		if !validID(rid) {
			rid = uuid.NewString()
		}
		w.Header().Set(RequestIDHeader, rid)
		log := logging.WithTrace(r.Context(), b.log) // the webhook's span (tracing.go), none for probes
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p) // net/http's own way to abort a response: not a bug
				}
				log.Error("panic while handling a request; answered 500", zap.Any("panic", p), zap.String("http_request_id", rid))
				if sw.status == 0 {
					writeJSON(sw, http.StatusInternalServerError, problem{Error: "internal error"})
				}
			}
			if r.URL.Path == webhookPath {
				b.metrics.status(sw.status)
			}
			log.Info("http", zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Int("status", sw.status),
				zap.Duration("duration", time.Since(start)), zap.String("remote", r.RemoteAddr), zap.String("http_request_id", rid))
		}()
		next.ServeHTTP(sw, r)
	})
}
