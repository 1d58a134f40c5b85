package stack

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Per-process figures read from /proc (Linux), for the benchmarks: where
// the processor time goes, and whether memory drifts. Elsewhere, or for a
// process that has exited, they read 0.

// CPUOf is a process's processor time so far: user + system.
func CPUOf(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	return cpuFromStat(string(b))
}

// cpuFromStat reads utime and stime from a /proc/<pid>/stat line: the
// 12th and 13th of statFields.
func cpuFromStat(s string) time.Duration {
	f := statFields(s)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * time.Second / 100 // USER_HZ is 100 on Linux
}

// RSSOf is a process's resident memory in bytes (VmRSS).
func RSSOf(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	return rssFromStatus(b)
}

// rssFromStatus reads "VmRSS:  1234 kB" from a /proc/<pid>/status file.
func rssFromStatus(b []byte) int64 {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}

// childOf finds the child of this process running the executable exe
// (a process started for us by a library that does not expose it, as the
// SDK's dev server), or 0.
func childOf(exe string) int {
	want, err := filepath.EvalSymlinks(exe)
	if err != nil {
		return 0
	}
	dirs, _ := os.ReadDir("/proc")
	me := os.Getpid()
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		got, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil || got != want || parentOf(pid) != me {
			continue
		}
		return pid
	}
	return 0
}

// parentOf is a process's parent id (field 4 of /proc/<pid>/stat, the
// 2nd of statFields), or 0.
func parentOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := statFields(string(b))
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// statFields are the fields of a /proc/<pid>/stat line after the command
// name (field 2), which may hold spaces and parentheses: they start after
// its last closing parenthesis, the state first. Nil for a malformed line.
func statFields(s string) []string {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}
