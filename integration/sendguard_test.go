//go:build integration

package integration

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/internal/specval"
	"github.com/belvo-temporal/backbone/internal/stack"
	"github.com/belvo-temporal/backbone/internal/testenv"
	"github.com/belvo-temporal/backbone/logging"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/worker"
	"github.com/belvo-temporal/backbone/workflows"
)

// stopTemporalOnFirstSend stops the dev server as the first attempt of a
// guarded activity begins, keeps it down for the whole attempt, and starts
// it again before the attempt's outcome is reported: the attempt runs with
// Temporal unreachable from its first line to its last.
type stopTemporalOnFirstSend struct {
	interceptor.WorkerInterceptorBase
	t        *testing.T
	srv      *stack.DevServer
	activity string
	down     *atomic.Bool
	firstErr atomic.Value // the first attempt's error (a string), once it ended
}

func (s *stopTemporalOnFirstSend) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &stopInbound{s: s}
	i.Next = next
	return i
}

type stopInbound struct {
	interceptor.ActivityInboundInterceptorBase
	s *stopTemporalOnFirstSend
}

func (i *stopInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	info := activity.GetInfo(ctx)
	if info.ActivityType.Name != i.s.activity || info.Attempt != 1 {
		return i.Next.ExecuteActivity(ctx, in)
	}
	i.s.down.Store(true)
	if err := i.s.srv.Stop(); err != nil {
		i.s.t.Errorf("stop the dev server: %v", err)
	}
	res, err := i.Next.ExecuteActivity(ctx, in)
	i.s.firstErr.Store(errString(err))
	start, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if serr := i.s.srv.Start(start); serr != nil {
		i.s.t.Errorf("start the dev server again: %v", serr)
	}
	i.s.down.Store(false)
	return res, err
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// A POST Belvo does not make idempotent leaves only once Temporal has
// recorded that it is leaving. With Temporal down for the registration's
// whole first attempt, that attempt ends without sending (before the fix
// the SDK dropped the failed "sending" heartbeat and the POST left
// unrecorded, so a retry sent it again: a second link at Belvo); once
// Temporal is back the retry sends it, and Belvo holds exactly one link.
func TestGuardedPostLeavesOnlyOnceTemporalRecordedIt(t *testing.T) {
	addr, db := freeAddr(t), filepath.Join(t.TempDir(), "temporal.db")
	srv := ownDevServer(t, addr, db)
	t.Cleanup(func() { _ = srv.Stop() })
	log := zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel))
	c, err := client.Dial(client.Options{HostPort: addr, Logger: logging.NewTemporal(log)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// Belvo: the emulator behind the spec check, counting the link POSTs
	// and those that arrived while Temporal was down.
	var down atomic.Bool
	var posts, postsWhileDown atomic.Int64
	emu := sandbox.New(sandbox.Config{})
	t.Cleanup(emu.Close)
	specs := specval.New(t, testenv.SpecDir(t))
	checked := specs.Wrap(emu.Handler())
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/links/" {
			posts.Add(1)
			if down.Load() {
				postsWhileDown.Add(1)
			}
		}
		checked.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	t.Cleanup(func() { specs.AssertNoViolations(t) })
	d := sandbox.Config{}.WithDefaults()
	bc, err := belvo.New(belvo.Options{BaseURL: hs.URL, SecretID: d.SecretID, SecretPassword: d.SecretPassword})
	if err != nil {
		t.Fatal(err)
	}

	stopper := &stopTemporalOnFirstSend{t: t, srv: srv, activity: "RegisterLink", down: &down}
	w := sdkworker.New(c, "send-guard", sdkworker.Options{Interceptors: []interceptor.WorkerInterceptor{stopper}})
	worker.Register(w, &activities.Activities{Belvo: bc, Temporal: c, SendRecordTimeout: 3 * time.Second})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	ext := "guard-" + uuid.NewString()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "register-" + ext, TaskQueue: "send-guard"},
		workflows.LinkRegistrationType, workflows.LinkRegistrationInput{Link: activities.RegisterLinkInput{
			Institution: "erebor_mx_retail", Username: d.BankUsername, Password: d.BankPassword, ExternalID: ext}})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.LinkRegistrationResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("registration: %v", err)
	}

	first, _ := stopper.firstErr.Load().(string)
	if !strings.Contains(first, "SendNotRecorded") && !strings.Contains(first, "not sent") {
		t.Errorf("first attempt (Temporal down) ended with %q, want the guard's not-sent error", first)
	}
	if n := postsWhileDown.Load(); n != 0 {
		t.Errorf("%d POST /api/links/ left while Temporal was down, want 0: nothing recorded it", n)
	}
	if n := posts.Load(); n != 1 {
		t.Errorf("Belvo received %d POST /api/links/, want 1", n)
	}
	links, err := bc.ListLinks(ctx, belvo.LinkFilter{ExternalID: ext})
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 1 || links[0].ID != res.LinkID {
		t.Errorf("Belvo holds %d links with external id %s (want 1, %s)", len(links), ext, res.LinkID)
	}
}
