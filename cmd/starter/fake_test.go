package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/starter"
	"github.com/belvo-temporal/backbone/workflows"
)

// fake is the backbone of the tests: it records each call and answers what
// the test set, so the command line is tested without Temporal. Calls made
// with a cancelled context fail as the SDK's would: the commands must ask
// for the latest progress with a fresh one after Ctrl-C.
type fake struct {
	calls []string

	registerErr error
	fetchErr    error
	asyncErr    error
	refreshErr  error
	mfaErr      error
	retryErr    error

	waitFetch  func() (workflows.Progress, error)
	waitAsync  func() (workflows.AsyncProgress, error)
	waitUpd    func() (workflows.LinkUpdatesProgress, error)
	progress   workflows.Progress
	queryErr   error
	asyncProg  workflows.AsyncProgress
	updates    workflows.LinkUpdatesProgress
	exec       starter.Execution
	execErr    error
	regResult  workflows.LinkRegistrationResult
	postResult workflows.AsyncPostResult
}

func (f *fake) record(ctx context.Context, format string, args ...any) error {
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
	return ctx.Err()
}

func (f *fake) RegisterLink(ctx context.Context, key string, in activities.RegisterLinkInput) (workflows.LinkRegistrationResult, error) {
	if err := f.record(ctx, "RegisterLink key=%s institution=%s username=%s password=%s external=%s mode=%s resources=%v",
		key, in.Institution, in.Username, in.Password, in.ExternalID, in.AccessMode, in.FetchResources); err != nil {
		return workflows.LinkRegistrationResult{}, err
	}
	if f.registerErr != nil {
		return workflows.LinkRegistrationResult{}, f.registerErr
	}
	if f.regResult.LinkID == "" {
		return workflows.LinkRegistrationResult{LinkID: "link-1"}, nil
	}
	return f.regResult, nil
}

func (f *fake) FetchLink(ctx context.Context, linkID string, req workflows.FetchRequest) (string, error) {
	if err := f.record(ctx, "FetchLink link=%s resources=%v external=%s institution=%s", linkID, req.Resources, req.ExternalID, req.Institution); err != nil {
		return "", err
	}
	return workflows.HistoricalFetchWorkflowID(linkID), f.fetchErr
}

func (f *fake) post(key string) workflows.AsyncPostResult {
	if f.postResult.RequestID != "" {
		return f.postResult
	}
	return workflows.AsyncPostResult{RequestID: "rid-1", RequestWorkflowID: workflows.AsyncRequestWorkflowID("rid-1")}
}

func (f *fake) StartAsync(ctx context.Context, key string, req belvo.AsyncRequest) (workflows.AsyncPostResult, error) {
	if err := f.record(ctx, "StartAsync key=%s op=%s link=%s account=%s from=%s to=%s type=%s",
		key, req.Op, req.LinkID, req.Account, req.DateFrom, req.DateTo, req.Type); err != nil {
		return workflows.AsyncPostResult{}, err
	}
	if f.asyncErr != nil {
		return workflows.AsyncPostResult{}, f.asyncErr
	}
	return f.post(key), nil
}

func (f *fake) Refresh(ctx context.Context, key, linkID string, resources []belvo.Resource) (workflows.AsyncPostResult, error) {
	if err := f.record(ctx, "Refresh key=%s link=%s resources=%v", key, linkID, resources); err != nil {
		return workflows.AsyncPostResult{}, err
	}
	if f.refreshErr != nil {
		return workflows.AsyncPostResult{}, f.refreshErr
	}
	return f.post(key), nil
}

func (f *fake) SendMFAToken(ctx context.Context, key, token string) error {
	if err := f.record(ctx, "SendMFAToken registration=%s token=%s", key, token); err != nil {
		return err
	}
	return f.mfaErr
}

func (f *fake) RetryFailedSteps(ctx context.Context, linkID string) error {
	if err := f.record(ctx, "RetryFailedSteps link=%s", linkID); err != nil {
		return err
	}
	return f.retryErr
}

func (f *fake) Relist(ctx context.Context, key, linkID string, resources []belvo.Resource) (string, error) {
	if err := f.record(ctx, "Relist key=%s link=%s resources=%v", key, linkID, resources); err != nil {
		return "", err
	}
	return workflows.LinkUpdatesWorkflowID(linkID), nil
}

func (f *fake) WaitFetch(ctx context.Context, linkID string) (workflows.Progress, error) {
	if err := f.record(ctx, "WaitFetch link=%s", linkID); err != nil {
		return workflows.Progress{}, err
	}
	if f.waitFetch == nil {
		return f.progress, nil
	}
	return f.waitFetch()
}

func (f *fake) WaitAsync(ctx context.Context, rid string) (workflows.AsyncProgress, error) {
	if err := f.record(ctx, "WaitAsync rid=%s", rid); err != nil {
		return workflows.AsyncProgress{}, err
	}
	if f.waitAsync == nil {
		return f.asyncProg, nil
	}
	return f.waitAsync()
}

func (f *fake) WaitLinkUpdates(ctx context.Context, linkID string) (workflows.LinkUpdatesProgress, error) {
	if err := f.record(ctx, "WaitLinkUpdates link=%s", linkID); err != nil {
		return workflows.LinkUpdatesProgress{}, err
	}
	if f.waitUpd == nil {
		return f.updates, nil
	}
	return f.waitUpd()
}

func (f *fake) Progress(ctx context.Context, linkID string) (workflows.Progress, error) {
	if err := f.record(ctx, "Progress link=%s", linkID); err != nil {
		return workflows.Progress{}, err
	}
	return f.progress, f.queryErr
}

func (f *fake) AsyncProgress(ctx context.Context, rid string) (workflows.AsyncProgress, error) {
	if err := f.record(ctx, "AsyncProgress rid=%s", rid); err != nil {
		return workflows.AsyncProgress{}, err
	}
	return f.asyncProg, f.queryErr
}

func (f *fake) LinkUpdatesProgress(ctx context.Context, linkID string) (workflows.LinkUpdatesProgress, error) {
	if err := f.record(ctx, "LinkUpdatesProgress link=%s", linkID); err != nil {
		return workflows.LinkUpdatesProgress{}, err
	}
	return f.updates, f.queryErr
}

func (f *fake) Describe(ctx context.Context, workflowID string) (starter.Execution, error) {
	if err := f.record(ctx, "Describe %s", workflowID); err != nil {
		return starter.Execution{}, err
	}
	return f.exec, f.execErr
}

// LatestRunID is not recorded: every printed web UI link asks for it.
func (f *fake) LatestRunID(ctx context.Context, workflowID string) (string, error) {
	if f.execErr != nil {
		return "", f.execErr
	}
	return "run-1", nil
}

// result is one run of the command line.
type result struct {
	code           int
	stdout, stderr string
	calls          []string
}

// runCLI runs the command line against f with env as the environment.
func runCLI(ctx context.Context, t *testing.T, f *fake, env map[string]string, args ...string) result {
	t.Helper()
	a := &app{
		getenv: func(k string) string { return env[k] },
		newKey: func() string { return "key-1" },
		connect: func() (*session, error) {
			return &session{api: f, uiBase: "http://ui", namespace: "ns", close: func() {}}, nil
		},
	}
	var out, errOut bytes.Buffer
	code := execute(ctx, a, args, &out, &errOut)
	return result{code: code, stdout: out.String(), stderr: errOut.String(), calls: f.calls}
}

// lines splits output into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
