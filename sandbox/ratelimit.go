package sandbox

import (
	"net/http"

	"go.uber.org/zap"
)

// limitPosts refuses, on purpose, the 1st, (1+N)th, (1+2N)th… POST that makes
// Belvo work (RateLimitPosts = N), the way Belvo's rate limiter refuses a
// burst: 429 too_many_requests with Retry-After and Belvo's error list, and
// nothing else happens (no link, no request, no webhook). Refusing the first
// POST proves the product retries a write it cannot know Belvo never saw;
// every retry right after a refusal is accepted, so a product that retries
// always gets through.
func (s *Server) limitPosts(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if n := int64(s.cfg.RateLimitPosts); n > 0 && (s.posts.Add(1)-1)%n == 0 {
			s.log.Info("sandbox rate-limits a POST on purpose", zap.String("path", r.URL.Path))
			w.Header().Set("Retry-After", "1")
			// Belvo's specs document no 429 body for these POSTs: this is
			// Django REST framework's throttle message, as the emulator's
			// other generic errors ("Not found.") are DRF's wording.
			writeErrors(w, http.StatusTooManyRequests, "too_many_requests", "Request was throttled. Expected available in 1 second.", "")
			return
		}
		next(w, r)
	}
}
