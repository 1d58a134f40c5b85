package stack

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/belvo-temporal/backbone/logging"
	"github.com/belvo-temporal/backbone/workflows"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.uber.org/zap"
)

// DevServerOptions configure a Temporal dev server (the pinned CLI's
// `server start-dev`, started through the SDK's testsuite.StartDevServer).
type DevServerOptions struct {
	// CLI is the path of the pinned Temporal CLI (EnsureCLI installs it).
	CLI string
	// Port fixes the frontend's port (0: a free one). A fixed port and a
	// DBFile let a stopped server start again as the same cluster.
	Port int
	// DBFile keeps the cluster in a SQLite file ("" : in memory).
	DBFile string
	// UIPort serves the web UI on this port (0: no UI).
	UIPort int
	// MetricsPort serves the server's Prometheus metrics at /metrics on
	// this port (0: none): the benchmarks read its persistence counters.
	MetricsPort int
	// CodecEndpoint makes the web UI decode payloads through this codec
	// server ("" : none).
	CodecEndpoint string
	// LogLevel of the server (default "error").
	LogLevel string
	// Log receives the server's output (nil: discarded).
	Log io.Writer
}

// searchAttributeCacheSetting keeps the search-attribute cache on. The
// CLI makes its dev server reread the search attributes from its
// database on every use (system.forceSearchAttributesCacheRefreshOnRead,
// so that one created at run time shows at once; Temporal's own words:
// "should not be turned on in production"). The product's attributes
// are created with the server (--search-attribute flags, Start), so it may
// cache them as a production server does: otherwise every start,
// signal and upsert of an execution carrying them costs two more reads
// of the one SQLite connection the dev server serialises all its
// persistence on. An attribute an operator creates later shows within
// the server's cache period (60 s), as in production.
const searchAttributeCacheSetting = "system.forceSearchAttributesCacheRefreshOnRead=false"

// sqliteJournal puts a dev server's database file in write-ahead-log mode.
// SQLite's default rollback journal creates, syncs and deletes a journal
// file around every transaction, and the dev server serialises all its
// persistence on one connection, so those syncs bound how fast it moves
// executions. In WAL mode a commit is one append and one sync of the log;
// synchronous stays FULL (SQLite's default), so a committed transaction
// survives a power loss as before, and the mode is recorded in the file,
// which another server version opens as it is.
const sqliteJournal = "journal_mode=WAL"

// DevServer is a running dev server with the product's search attributes
// registered.
type DevServer struct {
	o   DevServerOptions
	srv *testsuite.DevServer
	pid int
}

// StartDevServer starts a dev server and waits until it answers.
func StartDevServer(ctx context.Context, o DevServerOptions) (*DevServer, error) {
	d := &DevServer{o: o}
	return d, d.Start(ctx)
}

// Start (re)starts the server: on the same port and database file as
// before when those were fixed.
func (d *DevServer) Start(ctx context.Context) error {
	args := append([]string{}, workflows.DevServerSearchAttributeFlags()...)
	args = append(args, "--dynamic-config-value", searchAttributeCacheSetting)
	if d.o.MetricsPort != 0 {
		args = append(args, "--metrics-port", strconv.Itoa(d.o.MetricsPort))
	}
	if d.o.DBFile != "" {
		args = append(args, "--sqlite-pragma", sqliteJournal)
	}
	if d.o.CodecEndpoint != "" {
		args = append(args, "--ui-codec-endpoint", d.o.CodecEndpoint)
	}
	level := d.o.LogLevel
	if level == "" {
		level = "error"
	}
	out := d.o.Log
	if out == nil {
		out = io.Discard
	}
	opts := testsuite.DevServerOptions{ExistingPath: d.o.CLI, DBFilename: d.o.DBFile, LogLevel: level, ExtraArgs: args,
		Stdout: out, Stderr: out, ClientOptions: &client.Options{Logger: logging.NewTemporal(zap.NewNop())}}
	if d.o.Port != 0 {
		opts.ClientOptions.HostPort = "127.0.0.1:" + strconv.Itoa(d.o.Port)
	}
	if d.o.UIPort != 0 {
		opts.EnableUI, opts.UIPort = true, strconv.Itoa(d.o.UIPort)
	}
	srv, err := testsuite.StartDevServer(ctx, opts)
	if err != nil {
		return fmt.Errorf("start the Temporal dev server (%s): %w", d.o.CLI, err)
	}
	d.srv = srv
	// The SDK does not expose its child; found once, now that it serves.
	d.pid = childOf(d.o.CLI)
	return nil
}

// PID is the server process's id, for its processor time and memory
// (CPUOf, RSSOf); 0 when it could not be found (not Linux).
func (d *DevServer) PID() int { return d.pid }

// Address is the frontend's host:port.
func (d *DevServer) Address() string { return d.srv.FrontendHostPort() }

// MetricsURL is the server's /metrics page ("" unless MetricsPort was set).
func (d *DevServer) MetricsURL() string {
	if d.o.MetricsPort == 0 {
		return ""
	}
	return "http://127.0.0.1:" + strconv.Itoa(d.o.MetricsPort) + "/metrics"
}

// Stop stops the server; Start brings it back.
func (d *DevServer) Stop() error { return d.srv.Stop() }
