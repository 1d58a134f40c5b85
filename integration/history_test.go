//go:build integration

package integration

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/belvo-temporal/backbone/internal/testenv"
)

type workflowListRequest = workflowservice.ListWorkflowExecutionsRequest

// searchKeyword reads a keyword search attribute of a listed execution.
func searchKeyword(e interface {
	GetSearchAttributes() *commonpb.SearchAttributes
}, name string) (string, bool) {
	p := e.GetSearchAttributes().GetIndexedFields()[name]
	if p == nil {
		return "", false
	}
	var v string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &v); err != nil {
		return "", false
	}
	return v, true
}

// fetchHistory reads a whole execution history.
func fetchHistory(t *testing.T, c client.Client, workflowID string) *historypb.History {
	t.Helper()
	it := c.GetWorkflowHistory(context.Background(), workflowID, "", false, 0)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	return h
}

// saveReplayHistory refreshes the committed history the workflows package
// replays, when UPDATE_REPLAY_HISTORY=1.
func saveReplayHistory(t *testing.T, h *historypb.History, file string) {
	if os.Getenv("UPDATE_REPLAY_HISTORY") != "1" {
		return
	}
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(testenv.RepoRoot(), "workflows", "testdata", file)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d events)", p, len(h.Events))
}
