package workflows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/workflows"
)

// The worker refuses a Belvo HTTP timeout that would let the engine retry
// a call still in flight, and says which value fits.
func TestCheckTimeouts(t *testing.T) {
	cases := []struct {
		http    time.Duration
		wantErr string
	}{
		{60 * time.Second, ""},
		{110 * time.Second, ""},
		{115 * time.Second, "an activity making one Belvo call"},
		{5 * time.Minute, "an activity making one Belvo call"},
		{0, "must be positive"},
	}
	for _, c := range cases {
		err := workflows.CheckTimeouts(c.http)
		if (c.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("BELVO_HTTP_TIMEOUT=%s: %v, want %q", c.http, err, c.wantErr)
		}
	}
}
