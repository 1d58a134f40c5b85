// Package serve runs an HTTP server until SIGINT or SIGTERM, then shuts it
// down gracefully: the commands' shared way to stop accepting, let requests
// in flight finish, and exit within a bound.
package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Run serves srv until a signal (or ctx) ends it, then gives requests in
// flight up to grace to finish. started is called once the server listens.
func Run(ctx context.Context, srv *http.Server, grace time.Duration, started func()) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	if started != nil {
		started()
	}
	select {
	case err := <-errc:
		return fmt.Errorf("listen on %s: %w", srv.Addr, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown within %s: %w", grace, err)
	}
	return nil
}
