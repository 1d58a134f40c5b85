//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.uber.org/zap/zapcore"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/codec"
	"github.com/belvo-temporal/backbone/internal/testenv"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/workflows"
)

// Every secret set to a distinctive value: the API registration, the fetch,
// an async request, a refused registration and a refused webhook run; then
// no log line of any component, and no byte of the raw histories (read
// without the codec), holds a secret, a bank credential or the owner's name,
// while the codec server decodes the credentials for an authorized reader.
func TestSecretsStayOutOfHistoryAndLogs(t *testing.T) {
	secrets := map[string]string{
		"Belvo secret id":       "SECRETID-7f3a9c",
		"Belvo secret password": "SECRETPW-4d81e2",
		"bank username":         "BANKUSER-99b0c4",
		"bank password":         "BANKPASS-c0ffee",
	}
	s := newStack(t, sandbox.Config{Transactions: 1200, SecretID: secrets["Belvo secret id"], SecretPassword: secrets["Belvo secret password"],
		BankUsername: secrets["bank username"], BankPassword: secrets["bank password"]}, 0)
	secrets["webhook Authorization"] = webhookAuth

	reg, p, err := s.registerLink("it-secrets")
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	s.assertStored(reg.LinkID)
	_, ap, err := s.runAsync(belvo.AsyncRequest{Op: belvo.OpTransactions, LinkID: reg.LinkID, DateFrom: "2026-10-01", DateTo: "2026-10-31"})
	if err != nil || ap.Status != workflows.StatusCompleted {
		t.Fatalf("async: %+v, %v", ap, err)
	}
	// Error paths log too: a refused registration and a refused webhook.
	if _, err := s.belvo.RegisterLink(context.Background(), belvo.RegisterLinkRequest{Institution: "erebor_mx_retail",
		Username: secrets["bank username"], Password: "wrong-" + secrets["bank password"]}); err == nil {
		t.Fatal("wrong bank password accepted")
	}
	req, _ := http.NewRequest(http.MethodPost, s.bridgeURL+"/webhooks/belvo", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+secrets["bank password"])
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Fatalf("webhook with a wrong Authorization: %v %v", err, resp)
	}

	// The owner's name and document number, as stored (they came from Belvo).
	ownerID := ownerRowID(t, s, reg.LinkID)
	row, _ := s.store.Row(context.Background(), belvo.Owners, reg.LinkID, ownerID)
	var owner struct {
		DisplayName string `json:"display_name"`
		DocumentID  struct {
			Number string `json:"document_number"`
		} `json:"document_id"`
	}
	if err := json.Unmarshal(row, &owner); err != nil || owner.DisplayName == "" {
		t.Fatalf("owner row %s: %v", row, err)
	}
	secrets["owner name"], secrets["owner document"] = owner.DisplayName, owner.DocumentID.Number

	// The encryption key itself must not show either.
	secrets["payload key"] = strings.TrimSpace(strings.SplitN(codec.FormatKeys(testKey(t)), ":", 2)[1])

	// 1. Logs: every line of the in-process worker, SDK client, bridge and
	// sandbox (the local stack's process logs are searched by scripts/test.sh).
	enc := zapcore.NewJSONEncoder(zapcore.EncoderConfig{MessageKey: "msg"})
	lines := 0
	for _, e := range s.logs.All() {
		buf, err := enc.EncodeEntry(e.Entry, e.Context)
		if err != nil {
			t.Fatal(err)
		}
		lines++
		for what, v := range secrets {
			if bytes.Contains(buf.Bytes(), []byte(v)) {
				t.Errorf("a log line holds the %s: %s", what, buf.String())
			}
		}
	}
	if lines < 20 {
		t.Fatalf("only %d log lines captured: the check would prove nothing", lines)
	}

	// 2. Raw histories, read without the codec.
	histories := map[string][]byte{}
	for _, id := range []string{reg.FetchWorkflowID, workflows.LinkRegistrationWorkflowID(regRequestID(t, s, reg.LinkID)), workflows.AsyncRequestWorkflowID(ap.RequestID)} {
		raw, err := proto.Marshal(fetchHistory(t, s.client, id))
		if err != nil {
			t.Fatal(err)
		}
		histories[id] = raw
		for what, v := range secrets {
			if bytes.Contains(raw, []byte(v)) {
				t.Errorf("history of %s holds the %s in the clear", id, what)
			}
		}
	}

	// 3. The codec server gives an authorized reader the clear input.
	regID := workflows.LinkRegistrationWorkflowID(regRequestID(t, s, reg.LinkID))
	start := fetchHistory(t, s.client, regID).GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetInput()
	body, _ := protojson.Marshal(start)
	cs := httptest.NewServer(codec.Handler(s.ring, codec.ServerOptions{AllowedOrigins: []string{"http://127.0.0.1:8233"}, Authorization: "Bearer reader"}))
	defer cs.Close()
	dreq, _ := http.NewRequest(http.MethodPost, cs.URL+"/decode", bytes.NewReader(body))
	dreq.Header.Set("Content-Type", "application/json")
	dreq.Header.Set("Authorization", "Bearer reader")
	resp, err := http.DefaultClient.Do(dreq)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("decode: %v %v", err, resp)
	}
	var decoded commonpb.Payloads
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if err := protojson.Unmarshal(buf.Bytes(), &decoded); err != nil || len(decoded.Payloads) != 1 ||
		!bytes.Contains(decoded.Payloads[0].Data, []byte(secrets["bank password"])) {
		t.Fatalf("the codec server did not decode the registration input: %v", err)
	}
	_ = p
}

// ownerRowID is the id of the link's only owner.
func ownerRowID(t *testing.T, s *testStack, linkID string) string {
	t.Helper()
	next, _ := s.belvo.FirstPageURL(belvo.Owners, linkID, nil)
	page, err := s.belvo.ListPage(context.Background(), next)
	if err != nil || len(page.Results) == 0 {
		t.Fatalf("list owners: %v", err)
	}
	id, _ := belvo.RowID(page.Results[0])
	return id
}

// regRequestID finds the registration request id of a link from the
// registration execution's search attributes.
func regRequestID(t *testing.T, s *testStack, linkID string) string {
	t.Helper()
	var id string
	waitFor(t, 10*time.Second, func() bool {
		resp, err := s.client.ListWorkflow(context.Background(), &workflowListRequest{
			Query: "BelvoLinkID = '" + linkID + "' AND WorkflowType = '" + workflows.LinkRegistrationType + "'"})
		if err != nil || len(resp.Executions) != 1 {
			return false
		}
		id = strings.TrimPrefix(resp.Executions[0].GetExecution().GetWorkflowId(), "link-registration-")
		return true
	})
	return id
}

// testKey is the first key of the test-only ring.
func testKey(t *testing.T) codec.Key {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "workflows", "testdata", "replay-keys"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := codec.ParseKeys(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return keys[0]
}
