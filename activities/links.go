package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// RegisterLinkInput is what link registration needs. Username and Password
// are bank credentials: they reach history only encrypted (codec), and the
// widget flow keeps them out of this product altogether.
type RegisterLinkInput struct {
	Institution        string           `json:"institution"`
	Username           string           `json:"username"`
	Password           string           `json:"password"`
	ExternalID         string           `json:"external_id,omitempty"`
	AccessMode         string           `json:"access_mode,omitempty"`
	FetchResources     []belvo.Resource `json:"fetch_resources"`
	CredentialsStorage string           `json:"credentials_storage,omitempty"`
}

// MFAChallenge is Belvo's 428 token_required: the registration waits for
// the user's token, to be sent with this session before it expires.
type MFAChallenge struct {
	Session string `json:"session"`
	// Link is the link Belvo created and will resume with the token.
	Link string `json:"link,omitempty"`
	// ExpirySeconds is how long Belvo keeps the session open.
	ExpirySeconds int `json:"expiry_seconds"`
}

// LinkInfo is the non-sensitive part of a Belvo link.
type LinkInfo struct {
	// MFA is set instead of the rest when Belvo asks for a token first.
	MFA *MFAChallenge `json:"mfa,omitempty"`

	LinkID         string           `json:"link_id"`
	Institution    string           `json:"institution"`
	ExternalID     string           `json:"external_id,omitempty"`
	AccessMode     string           `json:"access_mode"`
	Status         string           `json:"status"`
	FetchResources []belvo.Resource `json:"fetch_resources"`
}

func linkInfo(l belvo.Link) LinkInfo {
	info := LinkInfo{LinkID: l.ID, Institution: l.Institution, AccessMode: l.AccessMode, Status: l.Status, FetchResources: l.FetchResources}
	if l.ExternalID != nil {
		info.ExternalID = *l.ExternalID
	}
	return info
}

// RegisterLink creates the link at Belvo (POST /api/links/) and returns its id.
func (a *Activities) RegisterLink(ctx context.Context, in RegisterLinkInput) (LinkInfo, error) {
	g := a.guardSend(ctx, "register link at "+in.Institution)
	var done LinkInfo
	if g.answered(&done) {
		return done, nil
	}
	if g.uncertain() {
		// An earlier attempt sent the POST and its answer was lost (its
		// worker died). With an external id, Belvo can say what it made of
		// it: adopt the link it created, or send again if it created none.
		if in.ExternalID == "" {
			return LinkInfo{}, g.uncertainError()
		}
		info, found, rerr := a.reconcile(ctx, in)
		if rerr != nil {
			return LinkInfo{}, rerr
		}
		if found {
			activity.GetLogger(ctx).Info("link registered by an earlier attempt found at Belvo", "link_id", info.LinkID, "institution", info.Institution)
			return info, nil
		}
		activity.GetLogger(ctx).Warn("an earlier attempt's registration is not at Belvo: sending it again", "institution", in.Institution)
	}
	if err := g.sending(); err != nil {
		return LinkInfo{}, err
	}
	l, err := a.Belvo.RegisterLink(ctx, belvo.RegisterLinkRequest{
		Institution: in.Institution, Username: in.Username, Password: in.Password,
		ExternalID: in.ExternalID, AccessMode: in.AccessMode, FetchResources: in.FetchResources,
		CredentialsStorage: in.CredentialsStorage,
	})
	if err == nil {
		g.result(linkInfo(l), nil)
	} else {
		g.result(nil, err)
	}
	if ch, ok := belvo.TokenRequired(err); ok {
		activity.GetLogger(ctx).Info("Belvo asks for an MFA token", "institution", in.Institution, "expiry_seconds", ch.Expiry)
		return LinkInfo{MFA: &MFAChallenge{Session: ch.Session, Link: ch.Link, ExpirySeconds: ch.Expiry}}, nil
	}
	if err != nil {
		err = fmt.Errorf("register link at %s: %w", in.Institution, err)
		if in.ExternalID != "" && outcomeUnknown(ctx, err) {
			// The POST may have reached Belvo (a connection reset or a
			// timeout after it left). With an external id the next attempt
			// can ask Belvo what it made of it (reconcile) instead of
			// giving up: it runs once Belvo has had as long as this client
			// ever waits, so a request Belvo was still processing has
			// ended and its link, if any, is listed.
			return LinkInfo{}, temporal.NewApplicationErrorWithOptions(
				err.Error()+" (outcome unknown: the next attempt looks the link up by its external id before sending again)",
				"BelvoUncertainReconcile", temporal.ApplicationErrorOptions{Cause: err, NextRetryDelay: a.Belvo.Timeout()})
		}
		return LinkInfo{}, classifyOnce(ctx, err)
	}
	activity.GetLogger(ctx).Info("link registered", "link_id", l.ID, "institution", l.Institution)
	return linkInfo(l), nil
}

// reconcile asks Belvo for links with the registration's external id and
// institution created since the activity was first scheduled: one is the
// earlier attempt's link; none means Belvo never created it (the earlier
// POST ended long before this retry: its client timeout is shorter than the
// activity's start-to-close timeout); several stay uncertain.
func (a *Activities) reconcile(ctx context.Context, in RegisterLinkInput) (LinkInfo, bool, error) {
	since := activity.GetInfo(ctx).ScheduledTime.Add(-time.Minute) // clock skew between us and Belvo
	links, err := a.Belvo.ListLinks(ctx, belvo.LinkFilter{ExternalID: in.ExternalID, Institution: in.Institution, CreatedAtOrAfter: since})
	if err != nil {
		return LinkInfo{}, false, classify(ctx, fmt.Errorf("look up the earlier attempt's link at %s: %w", in.Institution, err))
	}
	switch len(links) {
	case 0:
		return LinkInfo{}, false, nil
	case 1:
		return linkInfo(links[0]), true, nil
	default:
		return LinkInfo{}, false, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"register link at %s: an earlier attempt's outcome is unknown and Belvo has %d links with this external id since it started; not sending again (check them, then retry with a new idempotency key)",
			in.Institution, len(links)), "BelvoUncertain", nil)
	}
}

// GetLink reads a link (GET /api/links/{id}/): a fetch started by a webhook
// learns from it which resources Belvo will send.
func (a *Activities) GetLink(ctx context.Context, linkID string) (LinkInfo, error) {
	l, err := a.Belvo.GetLink(ctx, linkID)
	if err != nil {
		return LinkInfo{}, classify(ctx, fmt.Errorf("get link %s: %w", linkID, err))
	}
	return linkInfo(l), nil
}

// CompleteLinkInput resumes an MFA-paused registration.
type CompleteLinkInput struct {
	Session string `json:"session"`
	Link    string `json:"link"`
	Token   string `json:"token"`
}

// CompleteLink sends the user's MFA token (PATCH /api/links/). A wrong token
// makes Belvo ask again: that comes back as a new MFA challenge, not an
// error. An expired session is a non-retryable MFASessionExpired.
func (a *Activities) CompleteLink(ctx context.Context, in CompleteLinkInput) (LinkInfo, error) {
	l, err := a.Belvo.CompleteLink(ctx, belvo.TokenChallenge{Session: in.Session, Link: in.Link}, in.Token)
	if ch, ok := belvo.TokenRequired(err); ok {
		return LinkInfo{MFA: &MFAChallenge{Session: ch.Session, Link: ch.Link, ExpirySeconds: ch.Expiry}}, nil
	}
	var api *belvo.APIError
	if errors.As(err, &api) && api.Code() == "session_expired" {
		return LinkInfo{}, temporal.NewNonRetryableApplicationError(api.Error(), "MFASessionExpired", api)
	}
	if err != nil {
		return LinkInfo{}, classifyOnce(ctx, fmt.Errorf("complete link registration: %w", err))
	}
	return linkInfo(l), nil
}
