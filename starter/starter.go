// Package starter starts the product's executions programmatically; the
// starter command is a thin shell over it.
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
	id := workflows.HistoricalFetchWorkflowID(linkID)
	sa := []temporal.SearchAttributeUpdate{workflows.LinkIDAttr.ValueSet(linkID), workflows.StatusAttr.ValueSet(workflows.StatusWaiting),
		workflows.ResourcesAttr.ValueSet(belvo.Names(req.Resources))}
	if req.Institution != "" {
		sa = append(sa, workflows.InstitutionAttr.ValueSet(req.Institution))
	}
	_, err := s.Client.SignalWithStartWorkflow(ctx, id, workflows.FetchRequestSignal, req, client.StartWorkflowOptions{
		ID: id, TaskQueue: s.TaskQueue, TypedSearchAttributes: temporal.NewSearchAttributes(sa...),
		StaticSummary: workflows.HistoricalFetchSummary(linkID), Memo: workflows.FetchMemo("starter", req),
	}, workflows.HistoricalFetchType, workflows.HistoricalFetchInput{LinkID: linkID, Timeout: s.FetchTimeout, WebhookGrace: s.FetchGrace})
	if err != nil {
		return "", fmt.Errorf("starter: signal-with-start %s: %w", id, err)
	}
	return id, nil
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

// WaitAsync waits for the execution of a Belvo request_id to end.
func (s Starter) WaitAsync(ctx context.Context, belvoRequestID string) (workflows.AsyncProgress, error) {
	var p workflows.AsyncProgress
	err := s.Client.GetWorkflow(ctx, workflows.AsyncRequestWorkflowID(belvoRequestID), "").Get(ctx, &p)
	return p, err
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
// final progress.
func (s Starter) WaitFetch(ctx context.Context, linkID string) (workflows.Progress, error) {
	var p workflows.Progress
	err := s.Client.GetWorkflow(ctx, workflows.HistoricalFetchWorkflowID(linkID), "").Get(ctx, &p)
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
	d, err := s.Client.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		return "", fmt.Errorf("starter: describe %s: %w", workflowID, err)
	}
	return d.GetWorkflowExecutionInfo().GetExecution().GetRunId(), nil
}
