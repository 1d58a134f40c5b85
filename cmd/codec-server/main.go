// Command codec-server decodes (and encodes) the product's encrypted payloads
// for the Temporal web UI and CLI: set the UI's codec endpoint to its
// address (the local stack does) and an authorized person sees inputs,
// results and errors in the clear. It reads the same key ring as the worker.
//
//	codec-server                      # serve on CODEC_LISTEN_ADDR
//	codec-server -generate-key FILE   # write a new key ring file (0600)
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/codec"
	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/loopback"
	"github.com/belvo-temporal/backbone/internal/serve"
	"go.uber.org/zap"
)

func main() {
	gen := flag.String("generate-key", "", "write a key ring file with one new key to this path and exit")
	flag.Parse()
	if *gen != "" {
		created, err := codec.EnsureKeyFile(*gen)
		switch {
		case err != nil:
			fmt.Fprintln(os.Stderr, "codec-server:", err)
			os.Exit(1)
		case !created:
			fmt.Fprintf(os.Stderr, "codec-server: %s exists; not overwriting a key ring\n", *gen)
			os.Exit(1)
		}
		fmt.Printf("wrote %s\n", *gen)
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "codec-server:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, log, err := config.Load("codec-server")
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck
	ring, err := cfg.KeyRing()
	if err != nil {
		return err
	}
	addr := envOr("CODEC_LISTEN_ADDR", "127.0.0.1:8081")
	o := codec.ServerOptions{AllowedOrigins: strings.Split(envOr("CODEC_ALLOWED_ORIGINS", cfg.TemporalUIURL), ","), Authorization: os.Getenv("CODEC_AUTHORIZATION")}
	if o.Authorization == "" {
		if !loopback.Addr(addr) {
			return fmt.Errorf("CODEC_LISTEN_ADDR=%s is not a loopback address: set CODEC_AUTHORIZATION before serving decoded payloads off this machine", addr)
		}
	}
	srv := &http.Server{Addr: addr, Handler: codec.Handler(ring, o), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second, MaxHeaderBytes: 16 << 10}
	return serve.Run(context.Background(), srv, 5*time.Second, func() {
		log.Info("codec server listening", zap.String("addr", addr), zap.Strings("allowed_origins", o.AllowedOrigins),
			zap.Bool("authorization_required", o.Authorization != ""), zap.String("current_key", ring.CurrentID()))
	})
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
