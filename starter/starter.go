// Package starter starts and inspects the product's executions from Go: link
// registration and its MFA token, a link's historical fetch, async requests
// and refreshes, retries of failed link updates, and their progress; the
// starter command (cmd/starter) is a thin shell over it.
package starter

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/workflows"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
)

// Starter starts executions on one task queue.
type Starter struct {
	Client    client.Client
	TaskQueue string
	// FetchTimeout and FetchGrace are given to historical fetches it starts
	// (0: the defaults).
	FetchTimeout time.Duration
	FetchGrace   time.Duration
	// AsyncTimeout is given to async requests it starts (0: the default).
	AsyncTimeout time.Duration
	// Payloads decodes what the codec encrypted: Describe's failure
	// messages, which the server holds as "Encoded failure" (nil: they are
	// shown as the server holds them).
	Payloads converter.DataConverter
}

// FetchLink starts (or, if a webhook already started it, signals) the
// historical fetch of an existing link, e.g. one the Connect Widget created.
// It returns the execution's workflow id. Calling it twice is harmless.
func (s Starter) FetchLink(ctx context.Context, linkID string, req workflows.FetchRequest) (string, error) {
	if linkID == "" {
		return "", errors.New("starter: link id is required")
	}
	if len(req.Resources) == 0 {
		return "", errors.New("starter: at least one resource to fetch is required")
	}
	in, err := workflows.FetchStart(linkID, s.TaskQueue, req, workflows.RouteDefaults{FetchTimeout: s.FetchTimeout, FetchGrace: s.FetchGrace}, "starter", req)
	if err != nil {
		return "", fmt.Errorf("starter: %w", err)
	}
	if _, err := activities.SignalWithStart(ctx, s.Client, in); err != nil {
		return "", fmt.Errorf("starter: %w", err)
	}
	return in.WorkflowID, nil
}

// RegisterLink registers a link by the API and hands it to its historical
// fetch, waiting for the registration (not the fetch) to finish. requestID is
// the idempotency key: the same id twice registers one link and returns the
// first result.
func (s Starter) RegisterLink(ctx context.Context, requestID string, in activities.RegisterLinkInput) (workflows.LinkRegistrationResult, error) {
	var res workflows.LinkRegistrationResult
	if requestID == "" {
		return res, errors.New("starter: a request id (idempotency key) is required")
	}
	err := s.once(ctx, workflows.LinkRegistrationWorkflowID(requestID), workflows.LinkRegistrationType,
		temporal.NewSearchAttributes(workflows.InstitutionAttr.ValueSet(in.Institution), workflows.ResourcesAttr.ValueSet(belvo.Names(in.FetchResources))),
		workflows.LinkRegistrationSummary(in), workflows.LinkRegistrationMemo(in),
		workflows.LinkRegistrationInput{Link: in, FetchTimeout: s.FetchTimeout, FetchGrace: s.FetchGrace}, &res)
	return res, err
}

// StartAsync sends an async Belvo request (transactions, invoices, … see
// belvo.AsyncOps) and returns Belvo's request_id and the execution that waits
// for its webhook. clientRequestID is the idempotency key: the same key twice
// sends one request and returns the first result.
func (s Starter) StartAsync(ctx context.Context, clientRequestID string, req belvo.AsyncRequest) (workflows.AsyncPostResult, error) {
	var res workflows.AsyncPostResult
	if clientRequestID == "" {
		return res, errors.New("starter: a client request id (idempotency key) is required")
	}
	if err := req.Validate(); err != nil {
		return res, fmt.Errorf("starter: %w", err)
	}
	err := s.once(ctx, workflows.AsyncPostWorkflowID(clientRequestID), workflows.AsyncPostType,
		temporal.NewSearchAttributes(workflows.LinkIDAttr.ValueSet(req.LinkID)),
		workflows.AsyncPostSummary(req), workflows.AsyncMemo(req),
		workflows.AsyncPostInput{ClientRequestID: clientRequestID, Request: req, Timeout: s.AsyncTimeout,
			Routing: workflows.RouteDefaults{FetchTimeout: s.FetchTimeout, FetchGrace: s.FetchGrace}}, &res)
	return res, err
}

// Refresh asks Belvo to fetch a link's history again (POST
// /api/links/{id}/refresh/) for the resources named, or the link's own
// fetch_resources when none are, and relists each into the store when its
// webhook comes. It returns like StartAsync; Belvo's 10-minute cooldown
// fails it with the non-retryable type BelvoLinkRefreshCooldown, whose
// details (workflows.RefreshCooldown) say when Belvo takes the next one.
func (s Starter) Refresh(ctx context.Context, clientRequestID, linkID string, resources []belvo.Resource) (workflows.AsyncPostResult, error) {
	return s.StartAsync(ctx, clientRequestID, belvo.AsyncRequest{Op: belvo.OpLinkRefresh, LinkID: linkID, Resources: resources})
}

// RetryFailedSteps asks a link's LinkUpdates to apply again, now, the
// webhooks whose steps failed after the engine's retries (they are also
// retried by themselves, an hour later, then less and less often).
func (s Starter) RetryFailedSteps(ctx context.Context, linkID string) error {
	if linkID == "" {
		return errors.New("starter: link id is required")
	}
	if err := s.Client.SignalWorkflow(ctx, workflows.LinkUpdatesWorkflowID(linkID), "", workflows.RetryFailedSignal, nil); err != nil {
		return fmt.Errorf("starter: ask the link updates of %s to retry failed steps: %w", linkID, err)
	}
	return nil
}

// LinkUpdatesProgress queries a link's recurrent-update handler: its status,
// counts and the steps that failed.
func (s Starter) LinkUpdatesProgress(ctx context.Context, linkID string) (workflows.LinkUpdatesProgress, error) {
	var p workflows.LinkUpdatesProgress
	v, err := s.Client.QueryWorkflow(ctx, workflows.LinkUpdatesWorkflowID(linkID), "", workflows.ProgressQuery)
	if err != nil {
		return p, fmt.Errorf("starter: query link updates of %s: %w", linkID, err)
	}
	return p, v.Get(&p)
}

// WaitAsync waits for the execution of a Belvo request_id to end. When it
// ended in failure, the progress is the one its error details carry, if they
// carry one (AsyncRequestTimedOut does), and empty otherwise.
func (s Starter) WaitAsync(ctx context.Context, belvoRequestID string) (workflows.AsyncProgress, error) {
	var p workflows.AsyncProgress
	err := s.Client.GetWorkflow(ctx, workflows.AsyncRequestWorkflowID(belvoRequestID), "").Get(ctx, &p)
	if err != nil {
		p, _ = failureDetails[workflows.AsyncProgress](err, func(p workflows.AsyncProgress) bool { return p.Status != "" })
	}
	return p, err
}

// WaitLinkUpdates waits for a link's LinkUpdates to end (it runs until the
// link is deleted) and returns its final progress: for an execution that
// has closed, it is the result without a worker to answer a query.
func (s Starter) WaitLinkUpdates(ctx context.Context, linkID string) (workflows.LinkUpdatesProgress, error) {
	var p workflows.LinkUpdatesProgress
	err := s.Client.GetWorkflow(ctx, workflows.LinkUpdatesWorkflowID(linkID), "").Get(ctx, &p)
	if err != nil {
		p = workflows.LinkUpdatesProgress{}
	}
	return p, err
}

// failureDetails reads the progress a failed execution put in its own
// error's details (a timed-out or failed fetch, a timed-out async request
// do), so a caller can say how far it got. Only the workflow's own failure
// is read, never an activity's deeper in the chain: those carry other
// details that could decode into a mostly empty T. valid rejects a T that
// decoded but is not a progress.
func failureDetails[T any](err error, valid func(T) bool) (T, bool) {
	var zero, v T
	var exec *temporal.WorkflowExecutionError
	if !errors.As(err, &exec) {
		return zero, false
	}
	appErr, ok := errors.Unwrap(exec).(*temporal.ApplicationError)
	if !ok || !appErr.HasDetails() || appErr.Details(&v) != nil || !valid(v) {
		return zero, false
	}
	return v, true
}

// once starts a workflow under an idempotency-derived id and waits for its
// result: a second call with the same id joins the running execution or
// reads the result of the finished one instead of starting another.
func (s Starter) once(ctx context.Context, id, workflowType string, sa temporal.SearchAttributes, summary string, memo map[string]any, input, out any) error {
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: s.TaskQueue,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes:    sa,
		StaticSummary:            summary,
		Memo:                     memo,
	}, workflowType, input)
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(err, &already):
		run = s.Client.GetWorkflow(ctx, id, "") // finished earlier: read its result
	case err != nil:
		return fmt.Errorf("starter: start %s: %w", id, err)
	}
	if err := run.Get(ctx, out); err != nil {
		return fmt.Errorf("starter: %s: %w", id, err)
	}
	return nil
}

// SendMFAToken gives a registration that Belvo paused for MFA (BelvoStatus
// mfa_required) the user's token.
func (s Starter) SendMFAToken(ctx context.Context, requestID, token string) error {
	if token == "" {
		return errors.New("starter: an MFA token is required")
	}
	if err := s.Client.SignalWorkflow(ctx, workflows.LinkRegistrationWorkflowID(requestID), "", workflows.MFATokenSignal, token); err != nil {
		return fmt.Errorf("starter: send MFA token to registration %s: %w", requestID, err)
	}
	return nil
}

// WaitFetch waits for a link's historical fetch to end and returns its
// final progress. When it ended in failure (HistoricalFetchTimedOut,
// HistoricalFetchFailed), the progress is the one its error details carry,
// so the caller can still say which resources were stored.
func (s Starter) WaitFetch(ctx context.Context, linkID string) (workflows.Progress, error) {
	var p workflows.Progress
	err := s.Client.GetWorkflow(ctx, workflows.HistoricalFetchWorkflowID(linkID), "").Get(ctx, &p)
	if err != nil {
		p, _ = failureDetails[workflows.Progress](err, func(p workflows.Progress) bool { return p.Status != "" })
	}
	return p, err
}

// Progress queries a running (or finished) historical fetch.
func (s Starter) Progress(ctx context.Context, linkID string) (workflows.Progress, error) {
	var p workflows.Progress
	v, err := s.Client.QueryWorkflow(ctx, workflows.HistoricalFetchWorkflowID(linkID), "", workflows.ProgressQuery)
	if err != nil {
		return p, fmt.Errorf("starter: query progress of link %s: %w", linkID, err)
	}
	return p, v.Get(&p)
}

// AsyncProgress queries the execution of a Belvo request_id.
func (s Starter) AsyncProgress(ctx context.Context, belvoRequestID string) (workflows.AsyncProgress, error) {
	var p workflows.AsyncProgress
	v, err := s.Client.QueryWorkflow(ctx, workflows.AsyncRequestWorkflowID(belvoRequestID), "", workflows.ProgressQuery)
	if err != nil {
		return p, fmt.Errorf("starter: query progress of request %s: %w", belvoRequestID, err)
	}
	return p, v.Get(&p)
}

// UIURL is the web UI page of an execution's run (its latest run when runID
// is empty).
func UIURL(uiBase, namespace, workflowID, runID string) string {
	u := fmt.Sprintf("%s/namespaces/%s/workflows/%s", uiBase, url.PathEscape(namespace), url.PathEscape(workflowID))
	if runID != "" {
		u += "/" + url.PathEscape(runID) + "/history"
	}
	return u
}

// LatestRunID is the run id of an execution's latest run.
func (s Starter) LatestRunID(ctx context.Context, workflowID string) (string, error) {
	d, err := s.Client.DescribeWorkflow(ctx, workflowID, "")
	if err != nil {
		return "", fmt.Errorf("starter: describe %s: %w", workflowID, err)
	}
	return d.WorkflowExecution.RunID, nil
}
