package webhookbridge

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
)

// gatedStarts holds every SignalWithStart until the test lets it go, and
// records how many calls per workflow id were inside at once.
type gatedStarts struct {
	recorder
	mu      sync.Mutex
	inside  map[string]int
	most    map[string]int
	entered chan string
	gate    chan struct{}
}

func newGatedStarts() *gatedStarts {
	return &gatedStarts{inside: map[string]int{}, most: map[string]int{}, entered: make(chan string, 16), gate: make(chan struct{})}
}

func (g *gatedStarts) SignalWithStartWorkflow(ctx context.Context, id, signal string, arg any, o client.StartWorkflowOptions, wf any, args ...any) (client.WorkflowRun, error) {
	g.mu.Lock()
	g.inside[id]++
	g.most[id] = max(g.most[id], g.inside[id])
	g.mu.Unlock()
	g.entered <- id
	<-g.gate
	g.mu.Lock()
	g.inside[id]--
	g.mu.Unlock()
	return g.recorder.SignalWithStartWorkflow(ctx, id, signal, arg, o, wf, args...)
}

// start runs one SignalWithStart through s in the background.
func start(ctx context.Context, s *serialStarts, id string) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := s.SignalWithStartWorkflow(ctx, id, "webhook", nil, client.StartWorkflowOptions{ID: id}, "HistoricalFetch")
		done <- err
	}()
	return done
}

// waitUsers waits until id has n calls holding or waiting for its turn.
func waitUsers(t *testing.T, s *serialStarts, id string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		got := 0
		if tu := s.turns[id]; tu != nil {
			got = tu.users
		}
		s.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d calls holding or waiting, want %d", id, got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSerialStartsOneAtATimePerWorkflowID(t *testing.T) {
	g := newGatedStarts()
	s := newSerialStarts(g)
	ctx := context.Background()

	first := start(ctx, s, "fetch-a")
	if id := <-g.entered; id != "fetch-a" {
		t.Fatalf("entered %s, want fetch-a", id)
	}
	second := start(ctx, s, "fetch-a")
	waitUsers(t, s, "fetch-a", 2) // the second waits for its turn
	// Another link's call is not held back by fetch-a's.
	other := start(ctx, s, "fetch-b")
	if id := <-g.entered; id != "fetch-b" {
		t.Fatalf("entered %s while fetch-a's first call was inside, want fetch-b", id)
	}
	g.gate <- struct{}{} // one of the two inside finishes
	g.gate <- struct{}{} // and the other
	if id := <-g.entered; id != "fetch-a" {
		t.Fatalf("entered %s, want fetch-a's second call", id)
	}
	g.gate <- struct{}{}
	for name, done := range map[string]<-chan error{"first": first, "second": second, "other": other} {
		if err := <-done; err != nil {
			t.Errorf("%s call: %v", name, err)
		}
	}
	if g.most["fetch-a"] != 1 || g.most["fetch-b"] != 1 {
		t.Errorf("most calls inside at once: %v, want 1 per workflow id", g.most)
	}
	if len(g.calls) != 3 {
		t.Errorf("%d calls reached Temporal, want 3", len(g.calls))
	}
	if n := s.waiting(); n != 0 {
		t.Errorf("%d workflow ids still held after every call returned", n)
	}
}

func TestSerialStartsWaiterGivesUpAtItsDeadline(t *testing.T) {
	g := newGatedStarts()
	s := newSerialStarts(g)

	first := start(context.Background(), s, "fetch-a")
	<-g.entered
	ctx, cancel := context.WithCancel(context.Background())
	late := start(ctx, s, "fetch-a")
	waitUsers(t, s, "fetch-a", 2)
	cancel()
	err := <-late
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "fetch-a") {
		t.Fatalf("waiter whose context ended: %v, want context.Canceled naming fetch-a", err)
	}
	g.gate <- struct{}{}
	if err := <-first; err != nil {
		t.Fatalf("first call: %v", err)
	}
	if len(g.calls) != 1 {
		t.Errorf("%d calls reached Temporal, want 1 (the waiter gave up before its turn)", len(g.calls))
	}
	if n := s.waiting(); n != 0 {
		t.Errorf("%d workflow ids still held", n)
	}
}

// waiting is how many ids have a call in progress or waiting.
func (s *serialStarts) waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.turns)
}
