//go:build integration

package config_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/internal/fakefrontend"
	"github.com/belvo-temporal/backbone/internal/testenv"
)

// The product and the pinned temporal CLI resolve every profile case to
// the same connection: the frontend sees the same TLS, server name, client
// certificate, credentials, metadata and namespace from both.
func TestProfilesResolveAsTheCLIDoes(t *testing.T) {
	cli := testenv.TemporalCLI(t)
	set := testCerts(t)
	for _, c := range profileCases {
		t.Run(c.name, func(t *testing.T) {
			clearTemporalEnv(t)
			f := fakefrontend.Start(t, c.mode, set)
			env := c.environment(t, f.Addr, set)
			if err := listWithConfig(t, env); err != nil {
				t.Fatalf("product: %v", err)
			}
			ours := f.Listed()

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, cli, "workflow", "list", "--limit", "1")
			// The CLI sees the case's variables only (and a home of its own,
			// so no profile of this machine's user leaks in).
			cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
			for k, v := range env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("temporal CLI: %v: %s", err, strings.TrimSpace(string(out)))
			}
			theirs := f.Listed()
			if len(ours) != 1 || len(theirs) != 1 {
				t.Fatalf("listings seen: product %+v, CLI %+v; want one each", ours, theirs)
			}
			if ours[0] != theirs[0] {
				t.Errorf("product connected as %+v, the CLI as %+v", ours[0], theirs[0])
			}
		})
	}
}
