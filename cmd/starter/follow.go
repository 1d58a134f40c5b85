package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/starter"
	"github.com/belvo-temporal/backbone/workflows"
	"go.temporal.io/api/serviceerror"
)

// view is one kind of execution the starter shows: how to ask it for its
// progress, how to read its end once it has closed, whether an answer holds
// anything, how to print it. One show for all three kinds keeps their
// fallbacks alike.
type view[T any] struct {
	kind       string // "historical fetch"
	what       string // "historical fetch of link L"
	workflowID string
	query      func(context.Context) (T, error)
	// result reads a closed execution's result (or the progress its
	// failure carries); nil when the caller already has it.
	result func(context.Context) (T, error)
	known  func(T) bool
	format func(io.Writer, T)
}

// fetchView is a link's historical fetch. A progress always has a status
// (the workflow starts it at "waiting"), so an empty one is no answer.
func fetchView(s *session, linkID string) view[workflows.Progress] {
	return view[workflows.Progress]{
		kind:       "historical fetch",
		what:       "historical fetch of link " + linkID,
		workflowID: workflows.HistoricalFetchWorkflowID(linkID),
		query:      func(ctx context.Context) (workflows.Progress, error) { return s.api.Progress(ctx, linkID) },
		result:     func(ctx context.Context) (workflows.Progress, error) { return s.api.WaitFetch(ctx, linkID) },
		known:      func(p workflows.Progress) bool { return p.Status != "" },
		format:     starter.FormatProgress,
	}
}

// asyncView is the execution of one Belvo request_id (async request or
// refresh).
func asyncView(s *session, requestID string) view[workflows.AsyncProgress] {
	return view[workflows.AsyncProgress]{
		kind:       "async request",
		what:       "async request " + requestID,
		workflowID: workflows.AsyncRequestWorkflowID(requestID),
		query:      func(ctx context.Context) (workflows.AsyncProgress, error) { return s.api.AsyncProgress(ctx, requestID) },
		result:     func(ctx context.Context) (workflows.AsyncProgress, error) { return s.api.WaitAsync(ctx, requestID) },
		known:      func(p workflows.AsyncProgress) bool { return p.Status != "" },
		format:     starter.FormatAsync,
	}
}

// updatesView is a link's recurrent updates; it closes only when the link
// is deleted, so its result is rarely what show prints.
func updatesView(s *session, linkID string) view[workflows.LinkUpdatesProgress] {
	return view[workflows.LinkUpdatesProgress]{
		kind:       "recurrent updates",
		what:       "recurrent updates of link " + linkID,
		workflowID: workflows.LinkUpdatesWorkflowID(linkID),
		query: func(ctx context.Context) (workflows.LinkUpdatesProgress, error) {
			return s.api.LinkUpdatesProgress(ctx, linkID)
		},
		result: func(ctx context.Context) (workflows.LinkUpdatesProgress, error) {
			return s.api.WaitLinkUpdates(ctx, linkID)
		},
		known:  func(p workflows.LinkUpdatesProgress) bool { return p.Status != "" },
		format: starter.FormatLinkUpdates,
	}
}

// show prints what is known of an execution, from the best source that
// answers: its progress query (a worker's answer, now); else, once the
// execution has closed, its result or the progress its failure carries;
// else what the server records of it (status, times, search attributes).
// A query fails without a worker, after the wait it was part of was
// interrupted, or for a closed execution whose code cannot replay, and
// returns empty fields before the execution has started; each fallback says
// which source it prints, and a table of empty fields is never printed. It
// fails only when nothing is known, e.g. there is no such execution. Every
// call runs even after Ctrl-C, each bounded by askTimeout.
func show[T any](ctx context.Context, out io.Writer, s *session, v view[T]) error {
	ctx = context.WithoutCancel(ctx)
	qctx, cancel := context.WithTimeout(ctx, askTimeout)
	p, qerr := v.query(qctx)
	cancel()
	if qerr == nil && v.known(p) {
		v.format(out, p)
		return nil
	}
	why := "the progress query returned nothing yet"
	if qerr != nil {
		why = "the progress query failed: " + queryCause(qerr)
	}
	dctx, cancel := context.WithTimeout(ctx, askTimeout)
	defer cancel()
	e, derr := s.api.Describe(dctx, v.workflowID)
	if derr != nil {
		return derr // the server knows nothing either: that is the answer
	}
	var rerr error
	if !e.Running && v.result != nil {
		var r T
		r, rerr = v.result(dctx)
		if v.known(r) {
			fmt.Fprintf(out, "(%s; showing the result of the execution, %s at %s)\n", why, strings.ToLower(e.Status), e.Close.Local().Format(time.DateTime))
			v.format(out, r)
			if rerr != nil {
				fmt.Fprintf(out, "failure: %s\n", describeCause(rerr))
			}
			return nil
		}
	}
	fmt.Fprintf(out, "(%s; showing what the server records of the execution)\n", why)
	starter.FormatExecution(out, e)
	if rerr != nil {
		fmt.Fprintf(out, "failure: %s\n", describeCause(rerr))
	}
	return nil
}

// queryCause says why a query failed, naming the likely reason when nobody
// answered in time.
func queryCause(err error) string {
	var dl *serviceerror.DeadlineExceeded
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &dl) {
		return fmt.Sprintf("no answer within %s (is a worker running?)", askTimeout)
	}
	return describeCause(err)
}

// settle ends a wait: the final progress when the execution completed; when
// it failed, the progress its failure carries or else what show finds; when
// the wait was interrupted (Ctrl-C), the latest known progress. It prints
// once in every case, and returns the failure to report.
func settle[T any](ctx context.Context, out io.Writer, s *session, v view[T], p T, err error) error {
	switch {
	case err == nil:
		v.format(out, p)
		return nil
	case ctx.Err() != nil:
		fmt.Fprintln(out, "stopped waiting; the latest known progress:")
		if serr := show(ctx, out, s, v); serr != nil {
			fmt.Fprintf(out, "(nothing known: %s)\n", describeCause(serr))
		}
		f := s.fail(ctx, "wait for the "+v.what, v.workflowID, err)
		f.cause = "interrupted (Ctrl-C); the execution keeps running"
		return f
	default:
		if v.known(p) {
			v.format(out, p)
		} else {
			v.result = nil // it just failed: show would only read the same failure again
			_ = show(ctx, out, s, v)
		}
		// The execution's own failure names its link or request already.
		return s.fail(ctx, "the "+v.kind+" failed", v.workflowID, err)
	}
}

// followFetch prints where a link's historical fetch runs and, with wait,
// waits for it to end and prints its progress: register and fetch end the
// same way.
func followFetch(ctx context.Context, out io.Writer, s *session, linkID string, wait bool) error {
	wfID := workflows.HistoricalFetchWorkflowID(linkID)
	fmt.Fprintf(out, "workflow id:  %s\nweb UI:       %s\n", wfID, s.uiURL(ctx, wfID))
	if !wait {
		return nil
	}
	fmt.Fprintln(out, "waiting for the historical fetch to end… (Ctrl-C stops waiting, not the fetch)")
	p, err := s.api.WaitFetch(ctx, linkID)
	return settle(ctx, out, s, fetchView(s, linkID), p, err)
}

// followRequest prints an accepted async request (Belvo's request_id, the
// execution that waits for its webhooks, its web UI link) and, with wait,
// waits for it and prints its progress: async and refresh end the same way.
func followRequest(ctx context.Context, out io.Writer, s *session, res workflows.AsyncPostResult, wait bool) error {
	fmt.Fprintf(out, "belvo request id: %s\nworkflow id:      %s\nweb UI:           %s\n", res.RequestID, res.RequestWorkflowID,
		s.uiURL(ctx, res.RequestWorkflowID))
	if !wait {
		return nil
	}
	fmt.Fprintln(out, "waiting for Belvo's webhooks and the data… (Ctrl-C stops waiting, not the request)")
	p, err := s.api.WaitAsync(ctx, res.RequestID)
	return settle(ctx, out, s, asyncView(s, res.RequestID), p, err)
}
