package main

import (
	"context"
	"errors"
	"io"
	"os"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/codec"
	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/logging"
	"github.com/belvo-temporal/backbone/starter"
	"github.com/belvo-temporal/backbone/tracing"
	"github.com/belvo-temporal/backbone/workflows"
	"github.com/google/uuid"
	"github.com/spf13/cobra"
)

// backbone is what the commands ask of the product. starter.Starter
// implements it in production; tests give a fake, so that the command line,
// the messages and the exit statuses are tested without a Temporal server.
type backbone interface {
	RegisterLink(ctx context.Context, key string, in activities.RegisterLinkInput) (workflows.LinkRegistrationResult, error)
	FetchLink(ctx context.Context, linkID string, req workflows.FetchRequest) (string, error)
	StartAsync(ctx context.Context, key string, req belvo.AsyncRequest) (workflows.AsyncPostResult, error)
	Refresh(ctx context.Context, key, linkID string, resources []belvo.Resource) (workflows.AsyncPostResult, error)
	SendMFAToken(ctx context.Context, registrationKey, token string) error
	RetryFailedSteps(ctx context.Context, linkID string) error
	Relist(ctx context.Context, key, linkID string, resources []belvo.Resource) (string, error)

	WaitFetch(ctx context.Context, linkID string) (workflows.Progress, error)
	WaitAsync(ctx context.Context, belvoRequestID string) (workflows.AsyncProgress, error)
	WaitLinkUpdates(ctx context.Context, linkID string) (workflows.LinkUpdatesProgress, error)
	Progress(ctx context.Context, linkID string) (workflows.Progress, error)
	AsyncProgress(ctx context.Context, belvoRequestID string) (workflows.AsyncProgress, error)
	LinkUpdatesProgress(ctx context.Context, linkID string) (workflows.LinkUpdatesProgress, error)
	Describe(ctx context.Context, workflowID string) (starter.Execution, error)
	LatestRunID(ctx context.Context, workflowID string) (string, error)
}

var _ backbone = starter.Starter{}

// app is what every command shares. Its fields are the command's contact
// with the outside world, so tests replace them: the environment (the bank
// password and the MFA token are read from it, never from flags), the
// source of default idempotency keys, and the connection to Temporal.
type app struct {
	getenv  func(string) string
	newKey  func() string
	connect func() (*session, error)
}

// newApp is the production app: the process environment, random keys,
// Temporal as configured by the environment.
func newApp() *app { return &app{getenv: os.Getenv, newKey: uuid.NewString, connect: dial} }

// session is one connection to Temporal. It is opened only once the command
// line was accepted, so -h and usage errors never need a server.
type session struct {
	api       backbone
	uiBase    string
	namespace string
	close     func()
}

// dial connects as config.FromEnv says, as the worker and the bridge do.
func dial() (*session, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return nil, &failure{err: err} // "config: …" says it
	}
	log, err := logging.New(cfg.LogFormat, "warn")
	if err != nil {
		return nil, &failure{what: "set up logging", err: err}
	}
	ring, err := cfg.KeyRing()
	if err != nil {
		return nil, &failure{err: err} // "codec: …" says it; checked apart from the dial so it is not blamed on the network
	}
	tp, err := tracing.Setup(context.Background(), "belvo-starter", log)
	if err != nil {
		return nil, &failure{err: err} // "tracing: …" says it
	}
	c, err := cfg.DialTemporal(log)
	if err != nil {
		tp.Close(log)
		return nil, &failure{what: "connect to Temporal at " + cfg.TemporalAddress, err: err}
	}
	return &session{
		api: starter.Starter{Client: c, TaskQueue: cfg.TaskQueue, FetchTimeout: cfg.HistoricalFetchTimeout,
			FetchGrace: cfg.HistoricalWebhookGrace, AsyncTimeout: cfg.AsyncTimeout, Payloads: codec.DataConverter(ring)},
		uiBase: cfg.TemporalUIURL, namespace: cfg.TemporalNamespace,
		// The command's spans are flushed before it exits.
		close: func() { c.Close(); tp.Close(log) },
	}, nil
}

// askTimeout bounds each call made to say what is known after a wait was
// interrupted or a query failed: a query nobody answers (no worker) would
// otherwise hang the command.
const askTimeout = 5 * time.Second

// uiURL is the web UI page of an execution's latest run. The run id is
// looked up best-effort, even after Ctrl-C: without it the page of the
// latest run opens anyway.
func (s *session) uiURL(ctx context.Context, workflowID string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), askTimeout)
	defer cancel()
	runID, _ := s.api.LatestRunID(ctx, workflowID)
	return starter.UIURL(s.uiBase, s.namespace, workflowID, runID)
}

// fail is the failure of what the command was doing with an execution. It
// links the execution's web UI page unless the server has no such
// execution, and says "interrupted" rather than the cancellation's error
// when the user pressed Ctrl-C.
func (s *session) fail(ctx context.Context, what, workflowID string, err error) *failure {
	f := &failure{what: what, workflowID: workflowID, err: err}
	if workflowID != "" {
		// Asked rather than read from err: a signal to a closed execution
		// fails with NotFound too, and its page is worth linking.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), askTimeout)
		defer cancel()
		runID, derr := s.api.LatestRunID(lctx, workflowID)
		if !notFound(derr) {
			f.uiURL = starter.UIURL(s.uiBase, s.namespace, workflowID, runID)
		}
	}
	if ctx.Err() != nil {
		f.cause = "interrupted (Ctrl-C); what Temporal already accepted keeps running"
	}
	return f
}

// run connects and runs a command's body once its flags were checked. Any
// error the body returns that is not already a usage error or a failure
// becomes a failure, so report can tell the command line's errors (exit
// 2) from the rest (exit 1).
func (a *app) run(cmd *cobra.Command, body func(ctx context.Context, s *session, out io.Writer) error) error {
	s, err := a.connect()
	if err != nil {
		return asFailure(err)
	}
	defer s.close()
	if err := body(cmd.Context(), s, cmd.OutOrStdout()); err != nil {
		var u *usageError
		if errors.As(err, &u) {
			return err
		}
		return asFailure(err)
	}
	return nil
}

// asFailure marks an error the command's body returned as a failure (exit
// 1), keeping one that already says what failed.
func asFailure(err error) error {
	var f *failure
	if errors.As(err, &f) {
		return err
	}
	return &failure{err: err}
}

// newRoot builds the command tree. Errors are printed by execute, once:
// cobra's own printing (the error, then the whole usage) is silenced.
func newRoot(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "starter",
		Short: "Start and inspect the backbone's executions on Temporal",
		Long: `starter starts and inspects the executions of the durable backbone between your
backend and Belvo: link registrations, historical fetches, async requests, refreshes
and a recurrent link's updates. Every execution it starts is printed with its workflow
id and its web UI link.

The Temporal connection comes from the environment (TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE, TEMPORAL_UI_URL, PAYLOAD_ENCRYPTION_KEYS…).
Exit status: 0 done, 1 failed, 2 wrong command line.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// The commands are listed in the order of a link's life, not sorted.
	cobra.EnableCommandSorting = false
	root.CompletionOptions.DisableDefaultCmd = true
	root.InitDefaultHelpCmd() // listed from the start, also in the usage of a bare "starter"
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(newRegisterCmd(a), newFetchCmd(a), newAsyncCmd(a), newRefreshCmd(a),
		newStatusCmd(a), newMFACmd(a), newRetryFailedCmd(a), newRelistCmd(a))
	return root
}

// execute runs one command line and returns the process's exit status.
func execute(ctx context.Context, a *app, args []string, stdout, stderr io.Writer) int {
	root := newRoot(a)
	if len(args) == 0 {
		// A bare "starter" is a usage error, as an unknown command is;
		// cobra would print the help and succeed.
		return report(stderr, root, usagef("a command is required"))
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	return report(stderr, cmd, err)
}
