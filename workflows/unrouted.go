package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// DefaultUnroutedKeep is how long UnroutedWebhooks keeps waiting for more
// webhooks after the last one; its result then holds them all.
const DefaultUnroutedKeep = 30 * 24 * time.Hour

// UnroutedWebhooksInput starts the keeper of one link's unrouted webhooks.
type UnroutedWebhooksInput struct {
	// Key is the link id (or "request-<request_id>" for a webhook without
	// one), see UnroutedKey.
	Key  string        `json:"key"`
	Keep time.Duration `json:"keep,omitempty"`
	// Kept are the webhooks a previous run held (continue-as-new).
	Kept []WebhookEvent `json:"kept,omitempty"`
}

// UnroutedWebhooksProgress is the keeper's query answer and result: every
// webhook it holds, whole (Data included), in arrival order.
type UnroutedWebhooksProgress struct {
	Key        string         `json:"key"`
	Webhooks   []WebhookEvent `json:"webhooks"`
	Duplicates int            `json:"duplicates"`
}

// UnroutedKey groups unrouted webhooks by link, or by request when a
// webhook names no link.
func UnroutedKey(ev WebhookEvent) string {
	if ev.LinkID != "" {
		return ev.LinkID
	}
	return "request-" + ev.RequestID
}

// UnroutedWebhooks keeps webhooks no route handles (a webhook_code Belvo
// added after this release) instead of dropping them: the bridge has
// acknowledged them, so Belvo will not send them again. Each is kept whole,
// in workflow history (encrypted like every payload), visible in the web UI
// and by the progress query, until DefaultUnroutedKeep after the last one;
// a later version that handles the code replays them from here
// (docs: operations).
func UnroutedWebhooks(ctx workflow.Context, in UnroutedWebhooksInput) (UnroutedWebhooksProgress, error) {
	if in.Keep <= 0 {
		in.Keep = DefaultUnroutedKeep
	}
	p := UnroutedWebhooksProgress{Key: in.Key, Webhooks: in.Kept}
	if in.Key == "" {
		return p, temporal.NewNonRetryableApplicationError("unrouted webhooks need a key", "InvalidInput", nil)
	}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (UnroutedWebhooksProgress, error) { return p, nil }); err != nil {
		return p, err
	}
	webhooks := workflow.GetSignalChannel(ctx, WebhookSignal)
	seen := map[string]bool{}
	for _, ev := range in.Kept {
		seen[ev.DedupeKey()] = true
	}
	for {
		var ev WebhookEvent
		ok, err := workflow.AwaitWithTimeout(ctx, in.Keep, func() bool { return webhooks.Len() > 0 })
		if err != nil {
			return p, err
		}
		if !ok {
			return p, nil
		}
		for webhooks.ReceiveAsync(&ev) {
			if seen[ev.DedupeKey()] {
				p.Duplicates++
				continue
			}
			seen[ev.DedupeKey()] = true
			p.Webhooks = append(p.Webhooks, ev)
			workflow.GetLogger(ctx).Warn("webhook kept: no route handles its code yet", "webhook_type", ev.Type, "webhook_code", ev.Code)
		}
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return p, workflow.NewContinueAsNewError(ctx, UnroutedWebhooksType, UnroutedWebhooksInput{Key: in.Key, Keep: in.Keep, Kept: p.Webhooks})
		}
	}
}
