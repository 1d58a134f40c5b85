package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/belvo-temporal/backbone/belvo"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// RegisterLinkInput is what link registration needs. Username and Password
// are bank credentials: issue #6 encrypts them in history; until then, prefer
// the widget flow, where no credential passes through this product.
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
	if err := sendOnce(ctx, "register link at "+in.Institution); err != nil {
		return LinkInfo{}, err
	}
	l, err := a.Belvo.RegisterLink(ctx, belvo.RegisterLinkRequest{
		Institution: in.Institution, Username: in.Username, Password: in.Password,
		ExternalID: in.ExternalID, AccessMode: in.AccessMode, FetchResources: in.FetchResources,
		CredentialsStorage: in.CredentialsStorage,
	})
	if session, expiry, ok := belvo.TokenRequired(err); ok {
		activity.GetLogger(ctx).Info("Belvo asks for an MFA token", "institution", in.Institution, "expiry_seconds", expiry)
		return LinkInfo{MFA: &MFAChallenge{Session: session, ExpirySeconds: expiry}}, nil
	}
	if err != nil {
		return LinkInfo{}, classifyOnce(ctx, fmt.Errorf("register link at %s: %w", in.Institution, err))
	}
	activity.GetLogger(ctx).Info("link registered", "link_id", l.ID, "institution", l.Institution)
	return linkInfo(l), nil
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
	Token   string `json:"token"`
}

// CompleteLink sends the user's MFA token (PATCH /api/links/). A wrong token
// makes Belvo ask again: that comes back as a new MFA challenge, not an
// error. An expired session is a non-retryable MFASessionExpired.
func (a *Activities) CompleteLink(ctx context.Context, in CompleteLinkInput) (LinkInfo, error) {
	l, err := a.Belvo.CompleteLink(ctx, in.Session, in.Token)
	if session, expiry, ok := belvo.TokenRequired(err); ok {
		return LinkInfo{MFA: &MFAChallenge{Session: session, ExpirySeconds: expiry}}, nil
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
