package workflows

import (
	"encoding/json"
	"fmt"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
)

// FetchStart is the SignalWithStart of a link's historical fetch, the one
// way every caller starts or joins it (the starter, a registration's
// hand-over, the bridge on a webhook): the same id, input, search
// attributes, summary and memo. signal is what the caller brings: a
// FetchRequest (FetchRequestSignal) or a WebhookEvent (WebhookSignal).
// startedBy says who, in the memo. The search attributes carry what req
// knows (institution, external id, resources); the fetch adds the rest when
// it learns it.
func FetchStart(linkID, taskQueue string, req FetchRequest, d RouteDefaults, startedBy string, signal any) (activities.SignalWithStartInput, error) {
	name := FetchRequestSignal
	if _, ok := signal.(WebhookEvent); ok {
		name = WebhookSignal
	}
	sig, err := json.Marshal(signal)
	if err != nil {
		return activities.SignalWithStartInput{}, fmt.Errorf("encode the signal to %s: %w", HistoricalFetchWorkflowID(linkID), err)
	}
	input, err := json.Marshal(HistoricalFetchInput{LinkID: linkID, Timeout: d.FetchTimeout, WebhookGrace: d.FetchGrace})
	if err != nil {
		return activities.SignalWithStartInput{}, fmt.Errorf("encode the input of %s: %w", HistoricalFetchWorkflowID(linkID), err)
	}
	keywords := map[string]string{LinkIDAttr.GetName(): linkID, StatusAttr.GetName(): StatusWaiting}
	if req.Institution != "" {
		keywords[InstitutionAttr.GetName()] = req.Institution
	}
	if req.ExternalID != "" {
		keywords[ExternalIDAttr.GetName()] = req.ExternalID
	}
	var lists map[string][]string
	if len(req.Resources) > 0 {
		lists = map[string][]string{ResourcesAttr.GetName(): belvo.Names(req.Resources)}
	}
	return activities.SignalWithStartInput{
		WorkflowID: HistoricalFetchWorkflowID(linkID), WorkflowType: HistoricalFetchType, TaskQueue: taskQueue,
		SignalName: name, Signal: sig, Input: input, Keywords: keywords, KeywordLists: lists,
		Summary: HistoricalFetchSummary(linkID), Memo: FetchMemo(startedBy, req),
	}, nil
}
