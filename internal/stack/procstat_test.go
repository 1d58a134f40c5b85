package stack

import (
	"os/exec"
	"runtime"
	"testing"
	"time"
)

func TestProcFigures(t *testing.T) {
	stat := "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 8 0 1234 100000 2500 18446744073709551615"
	if got, want := cpuFromStat(stat), 3250*time.Millisecond; got != want {
		t.Errorf("cpuFromStat = %s, want %s (utime 250 + stime 75 ticks)", got, want)
	}
	cases := []struct {
		name   string
		status string
		want   int64
	}{
		{"VmRSS in kB", "Name:\tworker\nVmPeak:\t  900 kB\nVmRSS:\t   1536 kB\nThreads:\t8\n", 1536 << 10},
		{"no VmRSS (a kernel thread)", "Name:\tkthreadd\nThreads:\t1\n", 0},
		{"an unexpected unit", "VmRSS:\t 12 MB\n", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := rssFromStatus([]byte(c.status)); got != c.want {
				t.Errorf("rssFromStatus = %d, want %d", got, c.want)
			}
		})
	}
}

func TestChildOfFindsAChildByExecutable(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	bin, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep command")
	}
	cmd := exec.Command(bin, "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if got := childOf(bin); got != cmd.Process.Pid {
		t.Errorf("childOf(%s) = %d, want %d", bin, got, cmd.Process.Pid)
	}
	if RSSOf(cmd.Process.Pid) <= 0 {
		t.Error("a running child has no resident memory")
	}
	if got := childOf("/nonexistent/binary"); got != 0 {
		t.Errorf("childOf of nothing = %d", got)
	}
}
