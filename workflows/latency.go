package workflows

import (
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"go.temporal.io/sdk/workflow"
)

// Webhook-to-data latency: from the moment the bridge received a webhook
// (WebhookEvent.ReceivedAt, the bridge's clock) to the moment the rows it
// announced were committed in the store (FetchResourceResult.CommittedAt,
// the worker's clock). It is what an app waiting for data feels.
//
// The workflow records it, not the activity: a workflow sees each
// activity's result exactly once whatever the activity's retries, drops a
// duplicate webhook before any listing, and its metrics handler and logger
// stay silent during replay, so one webhook is one sample. The two
// timestamps come from different hosts: the figure assumes their clocks
// agree to NTP level (milliseconds), and a negative difference (skew) is
// recorded as 0.

// Flows of the belvo_webhook_to_data_seconds metric's flow tag.
const (
	FlowHistorical = "historical"
	FlowRecurrent  = "recurrent"
	FlowAsync      = "async"
)

// WebhookToDataMetric is the timer's name; the Prometheus exporter adds
// the unit: belvo_webhook_to_data_seconds, a histogram.
const WebhookToDataMetric = "belvo_webhook_to_data"

// WebhookToDataLog is the message of the worker's Info log line that
// carries each sample exactly (benchmarks read it; the metric's histogram
// buckets are coarser).
const WebhookToDataLog = "webhook to data"

// webhookToData is the latency of one webhook's data, clamped at 0; ok is
// false when either end is unknown (a webhook recorded before the bridge
// stamped it, a listing that ran without a webhook, or an activity of an
// older worker).
func webhookToData(receivedAt, committedAt time.Time) (time.Duration, bool) {
	if receivedAt.IsZero() || committedAt.IsZero() {
		return 0, false
	}
	return max(committedAt.Sub(receivedAt), 0), true
}

// observeWebhookToData records one sample on the worker's metrics and in
// its log; id is the link's id or the async request's.
func observeWebhookToData(ctx workflow.Context, flow string, r belvo.Resource, id string, receivedAt, committedAt time.Time) {
	d, ok := webhookToData(receivedAt, committedAt)
	if !ok {
		return
	}
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"flow": flow, "resource": string(r)}).
		Timer(WebhookToDataMetric).Record(d)
	workflow.GetLogger(ctx).Info(WebhookToDataLog, "flow", flow, "resource", string(r), "id", id, "seconds", d.Seconds())
}
