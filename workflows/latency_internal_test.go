package workflows

import (
	"testing"
	"time"
)

func TestWebhookToData(t *testing.T) {
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name                string
		received, committed time.Time
		want                time.Duration
		wantOK              bool
	}{
		{"both ends known", at, at.Add(1500 * time.Millisecond), 1500 * time.Millisecond, true},
		{"the worker's clock behind the bridge's: clamped to 0", at, at.Add(-20 * time.Millisecond), 0, true},
		{"a webhook recorded before the bridge stamped it", time.Time{}, at, 0, false},
		{"a result of a worker that does not report its commit", at, time.Time{}, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := webhookToData(c.received, c.committed)
			if got != c.want || ok != c.wantOK {
				t.Errorf("webhookToData = %s, %v; want %s, %v", got, ok, c.want, c.wantOK)
			}
		})
	}
}
