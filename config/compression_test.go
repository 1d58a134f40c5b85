package config_test

import (
	"testing"

	"github.com/belvo-temporal/backbone/internal/fakefrontend"
)

// TEMPORAL_GRPC_COMPRESSION reaches the wire: requests go uncompressed
// unless gzip is asked for (the SDK's own default is gzip).
func TestGRPCCompressionReachesTheWire(t *testing.T) {
	set := testCerts(t)
	cases := []struct {
		name, value, want string
	}{
		{"unset: none", "", ""},
		{"none", "none", ""},
		{"gzip", "gzip", "gzip"},
		{"upper case", "GZIP", "gzip"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clearTemporalEnv(t)
			f := fakefrontend.Start(t, fakefrontend.Plaintext, set)
			env := map[string]string{"TEMPORAL_ADDRESS": f.Addr}
			if c.value != "" {
				env["TEMPORAL_GRPC_COMPRESSION"] = c.value
			}
			if err := listWithConfig(t, env); err != nil {
				t.Fatal(err)
			}
			got := f.Listed()
			if len(got) != 1 || got[0].Compression != c.want {
				t.Errorf("TEMPORAL_GRPC_COMPRESSION=%q: frontend saw %+v, want one listing compressed %q", c.value, got, c.want)
			}
		})
	}
}
