package workflows

import (
	"fmt"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// LinkRegistrationInput registers a link by the API and hands it over to its
// historical fetch.
type LinkRegistrationInput struct {
	Link         activities.RegisterLinkInput `json:"link"`
	FetchTimeout time.Duration                `json:"fetch_timeout,omitempty"`
	FetchGrace   time.Duration                `json:"fetch_grace,omitempty"`
}

// LinkRegistrationResult names the link and its historical fetch execution.
type LinkRegistrationResult struct {
	LinkID          string `json:"link_id"`
	FetchWorkflowID string `json:"fetch_workflow_id"`
}

// LinkRegistration registers a link at Belvo, then starts (or signals, when an
// early webhook already started it) the link's HistoricalFetch with what was
// asked. The hand-over is an activity doing SignalWithStart, so it survives a
// crash between the two steps.
func LinkRegistration(ctx workflow.Context, in LinkRegistrationInput) (LinkRegistrationResult, error) {
	return (&linkRegistration{in: in}).run(ctx)
}

type linkRegistration struct {
	in LinkRegistrationInput
}

// MFATokenSignal carries the user's MFA token (a string) to a registration
// Belvo paused with 428 token_required.
const MFATokenSignal = "mfa-token"

// StatusMFARequired is BelvoStatus while a registration waits for a token.
const StatusMFARequired = "mfa_required"

// mfa waits for the user's token (starter mfa) and completes the
// registration; a wrong token makes Belvo ask again, and a session that
// expires ends the registration with MFASessionExpired, visibly.
func (r *linkRegistration) mfa(ctx, actx workflow.Context, ch activities.MFAChallenge) (activities.LinkInfo, error) {
	log := workflow.GetLogger(ctx)
	tokens := workflow.GetSignalChannel(ctx, MFATokenSignal)
	var a *activities.Activities
	for {
		if err := workflow.UpsertTypedSearchAttributes(ctx, StatusAttr.ValueSet(StatusMFARequired)); err != nil {
			log.Warn("status search attribute not set", "error", err)
		}
		log.Info("waiting for the user's MFA token", "expiry_seconds", ch.ExpirySeconds)
		wait := time.Duration(max(ch.ExpirySeconds, 1)) * time.Second
		var token string
		got := false
		timerCtx, cancel := workflow.WithCancel(ctx)
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(tokens, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, &token); got = true })
		sel.AddFuture(workflow.NewTimer(timerCtx, wait), func(workflow.Future) {})
		sel.Select(ctx)
		cancel()
		if !got {
			got = tokens.ReceiveAsync(&token) // one that came with the deadline
		}
		if !got {
			_ = workflow.UpsertTypedSearchAttributes(ctx, StatusAttr.ValueSet("mfa_expired"))
			return activities.LinkInfo{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("no MFA token within the %s Belvo keeps the session: register again", wait), "MFASessionExpired", nil)
		}
		var info activities.LinkInfo
		if err := workflow.ExecuteActivity(actx, a.CompleteLink, activities.CompleteLinkInput{Session: ch.Session, Link: ch.Link, Token: token}).Get(ctx, &info); err != nil {
			_ = workflow.UpsertTypedSearchAttributes(ctx, StatusAttr.ValueSet("mfa_expired"))
			return activities.LinkInfo{}, fmt.Errorf("complete registration with the MFA token: %w", err)
		}
		if info.MFA == nil {
			return info, nil
		}
		log.Warn("Belvo refused the MFA token; waiting for another")
		ch = *info.MFA
	}
}

func (r *linkRegistration) run(ctx workflow.Context) (LinkRegistrationResult, error) {
	if r.in.Link.Institution == "" || r.in.Link.Username == "" {
		return LinkRegistrationResult{}, temporal.NewNonRetryableApplicationError("link registration needs an institution and a username", "InvalidInput", nil)
	}
	var a *activities.Activities
	// The call is not idempotent at Belvo: the activity lets only failures
	// that prove nothing happened be retried (activities.classifyOnce).
	regCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: SendTimeout,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 3 * time.Second, BackoffCoefficient: 2, MaximumAttempts: 5},
		Summary:             "POST /api/links/ at " + r.in.Link.Institution,
	})
	var info activities.LinkInfo
	if err := workflow.ExecuteActivity(regCtx, a.RegisterLink, r.in.Link).Get(ctx, &info); err != nil {
		return LinkRegistrationResult{}, fmt.Errorf("register link: %w", err)
	}
	if info.MFA != nil {
		var err error
		if info, err = r.mfa(ctx, regCtx, *info.MFA); err != nil {
			return LinkRegistrationResult{}, err
		}
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, LinkIDAttr.ValueSet(info.LinkID), InstitutionAttr.ValueSet(info.Institution)); err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not set", "error", err)
	}
	if len(r.in.Link.FetchResources) == 0 {
		// Nothing was asked: Belvo sends no historical_update, so there is
		// no fetch to wait for.
		return LinkRegistrationResult{LinkID: info.LinkID}, nil
	}
	fetchID := HistoricalFetchWorkflowID(info.LinkID)
	req := FetchRequest{Resources: r.in.Link.FetchResources, ExternalID: r.in.Link.ExternalID, Institution: info.Institution}
	handOver, err := FetchStart(info.LinkID, workflow.GetInfo(ctx).TaskQueueName, req,
		RouteDefaults{FetchTimeout: r.in.FetchTimeout, FetchGrace: r.in.FetchGrace},
		"link registration "+workflow.GetInfo(ctx).WorkflowExecution.ID, req)
	if err != nil {
		return LinkRegistrationResult{}, err
	}
	// Once: a retry of this hand-over whose first answer was lost (its
	// worker died) must not start a second fetch after the first one
	// completed; found by the multi-replica run.
	handOver.Once = true
	local := workflow.GetVersion(ctx, localHandOverVersion, workflow.DefaultVersion, 1) >= 1
	if _, err := signalWithStart(ctx, local, "hand link "+info.LinkID+" over to "+fetchID, handOver); err != nil {
		return LinkRegistrationResult{}, fmt.Errorf("start historical fetch %s: %w", fetchID, err)
	}
	return LinkRegistrationResult{LinkID: info.LinkID, FetchWorkflowID: fetchID}, nil
}
