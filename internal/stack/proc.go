package stack

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Proc is one child process: in its own process group (a terminal's Ctrl-C
// reaches only the parent, which stops children in order), dying with its
// parent, logging to a file.
type Proc struct {
	Name string
	// extra is the environment the stack added for this process, kept so
	// that a restart gives it the same (its address, its metrics port).
	extra []string
	cmd   *exec.Cmd
	done  chan struct{}
	err   error
	// stopped: the stack ended it on purpose (Stop, Kill).
	stopped atomic.Bool
}

// startProc launches bin with args in dir, with env, its output appended
// to logPath.
func startProc(name, bin string, args []string, dir string, env []string, logPath string) (*Proc, error) {
	return startProcAs(name, bin, args, dir, env, logPath, nil)
}

// startProcAs is startProc running the process as another user (cred; nil:
// as this process): PostgreSQL refuses to run as root.
func startProcAs(name, bin string, args []string, dir string, env []string, logPath string, cred *syscall.Credential) (*Proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = f, f
	// Pdeathsig is tied to the OS thread that forked the child, not to the
	// process: the Go runtime keeps its threads unless a goroutine locked
	// to one exits, which nothing here does. It covers a parent killed
	// with SIGKILL; Stop stays the orderly path.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM, Credential: cred}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// tailBytes bounds what fileTail reads: the end of a log, not all of it.
const tailBytes = 16 << 10

// fileTail is the last n lines of the file at path, read from its last
// tailBytes only; "" when it cannot be read. An error about a process
// quotes its log's end, so that the cause survives in a CI log even when
// the log file does not.
func fileTail(path string, n int) string {
	f, err := os.Open(path) //nolint:gosec // a log the stack wrote
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(0, st.Size()-tailBytes)
	b := make([]byte, st.Size()-off)
	k, _ := f.ReadAt(b, off)
	s := string(b[:k])
	if off > 0 {
		// The first line is probably cut: drop it.
		if _, rest, ok := strings.Cut(s, "\n"); ok {
			s = rest
		}
	}
	return lastLines(s, n)
}

// Done is closed when the process has exited; Err is then its exit error.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err is the exit error, once Done is closed.
func (p *Proc) Err() error { return p.err }

// Running reports whether the process has not exited.
func (p *Proc) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM and waits up to grace, then kills; it reports whether
// the process stopped by itself.
func (p *Proc) Stop(grace time.Duration) bool {
	if !p.Running() {
		return true
	}
	p.stopped.Store(true)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return true
	case <-time.After(grace):
		p.Kill()
		return false
	}
}

// Kill ends the process at once (kill -9) and waits for it.
func (p *Proc) Kill() {
	if p.Running() {
		p.stopped.Store(true)
		_ = p.cmd.Process.Kill()
	}
	<-p.done
}

// PortFree fails with a clear message when addr is taken.
func PortFree(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s is already in use (another local stack or dev server running?): %w", addr, err)
	}
	return l.Close()
}

// FreeAddr is a loopback address with a port that is free now and lies
// below the kernel's ephemeral range. A port the kernel handed out for
// 127.0.0.1:0 sits inside that range, where any outgoing connection may
// take it between our check and the process's bind — or while a killed
// process is being restarted on the same address, as the chaos suite
// does. Ports below the range are only ever taken by an explicit bind.
func FreeAddr() (string, error) {
	lo := ephemeralLow()
	const floor = 10000 // clear of well-known and registered-but-common ports
	if lo-floor < 1000 {
		return anyFreeAddr() // an unusual range: fall back to the kernel's pick
	}
	for range 200 {
		port := floor + rand.IntN(lo-floor) //nolint:gosec // a port to try, not a secret
		if !claimPort(port) {
			continue
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue // taken by someone else: try another
		}
		_ = l.Close()
		return addr, nil
	}
	return anyFreeAddr()
}

// FreePort is FreeAddr's port, for a process that takes a port number.
func FreePort() (int, error) {
	addr, err := FreeAddr()
	if err != nil {
		return 0, err
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(port)
}

// claimed holds the ports this process has handed out, so that two parts
// of one stack never receive the same port before either has bound it.
var claimed sync.Map

func claimPort(port int) bool {
	_, taken := claimed.LoadOrStore(port, true)
	return !taken
}

// anyFreeAddr is the kernel's pick of a free loopback port.
func anyFreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// default 32768 when it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	lo, err := strconv.Atoi(f[0])
	if err != nil || lo <= 0 {
		return 32768
	}
	return lo
}

// WaitTCP waits until addr accepts connections.
func WaitTCP(ctx context.Context, addr string, limit time.Duration) error {
	return poll(ctx, limit, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, addr+" not reachable")
}

// WaitHTTP waits until url answers 200.
func WaitHTTP(ctx context.Context, url string, limit time.Duration) error {
	return poll(ctx, limit, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, url+" not healthy")
}

func poll(ctx context.Context, limit time.Duration, ok func() bool, what string) error {
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			return errors.New(what + " after " + limit.String())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

// CPU is the processor time the process has used so far (user + system, from
// /proc on Linux; 0 elsewhere or once it has exited), for benchmarks that
// show where time goes.
func (p *Proc) CPU() time.Duration { return CPUOf(p.PID()) }

// RSS is the process's resident memory in bytes (VmRSS; 0 elsewhere or
// once it has exited), for benchmarks that watch memory over time.
func (p *Proc) RSS() int64 { return RSSOf(p.PID()) }

// PID is the process id (0 if it never started).
func (p *Proc) PID() int {
	if p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}
