package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Chromium is the path of Debian's chromium (never a downloaded browser):
// $CHROMIUM, or chromium on the PATH. scripts/test.sh installs the package;
// a missing browser fails the test.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not found (apt-get install chromium; scripts/test.sh does it): %v", err)
	}
	return p
}
