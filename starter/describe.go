package starter

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/workflows"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// Execution is what the server records of an execution's latest run. It
// needs no worker, unlike the progress query, so it is what can still be
// said of an execution a query cannot reach (no worker running, the query
// timed out) or that has closed.
type Execution struct {
	WorkflowID string
	RunID      string
	Type       string
	// Status is the server's: Running, Completed, Failed, Canceled,
	// Terminated, ContinuedAsNew or TimedOut.
	Status string
	// Running: the run has not closed (Close is zero).
	Running       bool
	Start, Close  time.Time
	HistoryLength int64
	// SearchAttributes are the product's own (workflows.SearchAttributes)
	// that the execution has set, by name; a list is comma-separated.
	SearchAttributes map[string]string
	// Pending are the activities in flight, with their latest failure:
	// what a running execution is retrying.
	Pending []PendingActivity
}

// PendingActivity is an activity the execution is waiting for.
type PendingActivity struct {
	Type        string
	Attempt     int32
	LastFailure string
}

// Describe reads what the server records of an execution's latest run
// (DescribeWorkflow).
func (s Starter) Describe(ctx context.Context, workflowID string) (Execution, error) {
	d, err := s.Client.DescribeWorkflow(ctx, workflowID, "")
	if err != nil {
		return Execution{}, fmt.Errorf("starter: describe %s: %w", workflowID, err)
	}
	info := d.RawResponse.GetWorkflowExecutionInfo()
	e := Execution{
		WorkflowID:    workflowID,
		RunID:         info.GetExecution().GetRunId(),
		Type:          info.GetType().GetName(),
		Status:        info.GetStatus().String(),
		Running:       info.GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_RUNNING,
		HistoryLength: info.GetHistoryLength(),
	}
	if t := info.GetStartTime(); t != nil {
		e.Start = t.AsTime()
	}
	if t := info.GetCloseTime(); t != nil && !e.Running {
		e.Close = t.AsTime()
	}
	e.SearchAttributes = productAttributes(info.GetSearchAttributes().GetIndexedFields())
	for _, pa := range d.RawResponse.GetPendingActivities() {
		e.Pending = append(e.Pending, PendingActivity{
			Type: pa.GetActivityType().GetName(), Attempt: pa.GetAttempt(), LastFailure: s.failureMessage(pa.GetLastFailure()),
		})
	}
	return e, nil
}

// failureMessage is a failure's message, decrypted when the codec moved it
// into the failure's encoded attributes (the server then holds only
// "Encoded failure", which tells an operator nothing).
func (s Starter) failureMessage(f *failurepb.Failure) string {
	if f == nil {
		return ""
	}
	if s.Payloads != nil && f.GetEncodedAttributes() != nil {
		f = proto.Clone(f).(*failurepb.Failure)
		converter.DecodeCommonFailureAttributes(s.Payloads, f)
	}
	return f.GetMessage()
}

// productAttributes decodes the product's search attributes. Search
// attributes are never encrypted (the server indexes them), so the default
// data converter reads them; one that does not decode is left out rather
// than failing the description.
func productAttributes(fields map[string]*commonpb.Payload) map[string]string {
	out := map[string]string{}
	for _, k := range workflows.SearchAttributes() {
		p, ok := fields[k.GetName()]
		if !ok {
			continue
		}
		var v any
		if converter.GetDefaultDataConverter().FromPayload(p, &v) != nil {
			continue
		}
		switch v := v.(type) {
		case []any:
			parts := make([]string, len(v))
			for i, x := range v {
				parts[i] = fmt.Sprint(x)
			}
			out[k.GetName()] = strings.Join(parts, ",")
		default:
			out[k.GetName()] = fmt.Sprint(v)
		}
	}
	return out
}
