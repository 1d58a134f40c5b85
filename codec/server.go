package codec

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"

	"github.com/belvo-temporal/backbone/internal/loopback"
	"go.temporal.io/sdk/converter"
)

// ServerOptions configure the codec server the Temporal web UI calls.
type ServerOptions struct {
	// AllowedOrigins are the web UI's origins (e.g. http://127.0.0.1:8233
	// and http://localhost:8233); CORS lets in no other.
	AllowedOrigins []string
	// Authorization, when set, must be the request's Authorization header
	// exactly (e.g. the bearer token the UI passes). When empty, only
	// loopback peers are served: fit for the local stack only.
	Authorization string
}

// Handler serves POST /encode and POST /decode as the Temporal web UI and CLI
// expect, behind CORS and an authorization check.
func Handler(ring *KeyRing, o ServerOptions) http.Handler {
	inner := converter.NewPayloadCodecHTTPHandler(New(ring))
	want := sha256.Sum256([]byte(o.Authorization))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" {
			if !slices.Contains(o.AllowedOrigins, origin) {
				http.Error(w, "origin not allowed", http.StatusForbidden)
				return
			}
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization")
			w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			w.Header().Set("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.Method != http.MethodPost || (!strings.HasSuffix(r.URL.Path, "/encode") && !strings.HasSuffix(r.URL.Path, "/decode")) {
			http.Error(w, "POST /encode or /decode", http.StatusNotFound)
			return
		}
		if o.Authorization != "" {
			got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
			if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
				http.Error(w, "missing or invalid Authorization", http.StatusUnauthorized)
				return
			}
		} else if !loopback.Addr(r.RemoteAddr) {
			// An Origin header proves nothing (any client can send one):
			// without a token only this machine is served.
			http.Error(w, "set CODEC_AUTHORIZATION to serve clients off this machine", http.StatusUnauthorized)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 4<<20)
		inner.ServeHTTP(w, r)
	})
}
