package starter

import (
	"errors"
	"testing"

	"github.com/belvo-temporal/backbone/codec"
	"go.temporal.io/sdk/temporal"
)

// A failure the codec encrypted reads as its message again once decoded,
// and as the server holds it without the key.
func TestDescribeDecodesEncryptedFailures(t *testing.T) {
	key, err := codec.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := codec.NewKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	const msg = "store: the disk holding /data/belvo.db is full (SQLITE_FULL): free space; the write will be retried"
	f := codec.FailureConverter(ring).ErrorToFailure(temporal.NewApplicationError(msg, "StoreDiskFull", errors.New("cause")))
	if f.GetMessage() == msg {
		t.Fatal("the failure converter did not encrypt the message: the test proves nothing")
	}
	cases := []struct {
		name string
		s    Starter
		want string
	}{
		{"with the key ring", Starter{Payloads: codec.DataConverter(ring)}, msg},
		{"without", Starter{}, f.GetMessage()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.s.failureMessage(f); got != c.want {
				t.Errorf("message %q, want %q", got, c.want)
			}
		})
	}
	if got := (Starter{}).failureMessage(nil); got != "" {
		t.Errorf("no failure: %q", got)
	}
}
