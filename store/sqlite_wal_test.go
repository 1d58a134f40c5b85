package store

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
)

// openerEnv, set, makes the test binary a helper process of
// TestSQLiteOpenedByProcessesAtOnce (see TestMain), run in the directory
// whose database files it opens.
const openerEnv = "STORE_TEST_OPEN_SQLITE"

// openerFiles is how many new files each helper process opens in turn.
const openerFiles = 100

// TestMain runs the tests, or, with openerEnv set, opens the files
// 0.db … of its working directory in order, the way a worker opens its
// store at start, and exits non-zero at the first that fails.
func TestMain(m *testing.M) {
	if os.Getenv(openerEnv) == "" {
		os.Exit(m.Run())
	}
	for i := range openerFiles {
		path := strconv.Itoa(i) + ".db"
		s, err := OpenSQLite(context.Background(), path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "open %s: %v\n", path, err)
			os.Exit(3)
		}
		if err := s.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "close %s: %v\n", path, err)
			os.Exit(4)
		}
	}
	os.Exit(0)
}

// TestSQLiteOpenedByProcessesAtOnce starts processes that open the same
// new database files at about the same time, as the workers of a stack do
// at start, and checks that every open succeeds. Switching a new file to
// WAL mode made one of them fail at once with "database is locked", busy
// timeout or not (SQLite takes that lock without its busy handler), and
// the worker exited.
func TestSQLiteOpenedByProcessesAtOnce(t *testing.T) {
	const processes = 4
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, processes)
	for p := range processes {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0]) //nolint:gosec // the test binary itself, as a helper (TestMain)
			cmd.Dir, cmd.Env = dir, append(os.Environ(), openerEnv+"=1")
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[p] = fmt.Errorf("%w: %s", err, out)
			}
		})
	}
	wg.Wait()
	for p, err := range errs {
		if err != nil {
			t.Errorf("process %d of %d could not open a new file that the others opened too: %v", p+1, processes, err)
		}
	}
}
