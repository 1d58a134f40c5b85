package stack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// PGClusterOptions shape a private PostgreSQL cluster.
type PGClusterOptions struct {
	// Dir holds the cluster's files (data/ and postgres.log); "" : a new
	// temporary directory, removed by Close. The OS user must be able to
	// reach it: its parents need the x bit for others.
	Dir string
	// Addr is the loopback address it listens on ("" : FreeAddr).
	Addr string
	// MaxConnections: default 200, room for a Temporal server's pools
	// (deploy/temporal: 20 + 10 per service) and two workers' stores.
	MaxConnections int
	// OSUser runs initdb and postgres (default "postgres"): PostgreSQL
	// refuses to run as root.
	OSUser string
}

// PGCluster is a PostgreSQL cluster of its own, run as a child process, so
// that a fault suite can stop, crash and restart one database server
// without touching the machine's shared one or the other database of the
// stack. It listens on 127.0.0.1 only, trusts local connections and keeps
// fsync on: the suite tests durability, which fsync=off would fake.
type PGCluster struct {
	// Addr is host:port; Dir the cluster's directory; LogPath its log.
	Addr, Dir, LogPath string

	data    string
	bin     string
	maxConn int
	cred    *syscall.Credential
	temp    bool

	mu   sync.Mutex
	proc *Proc
}

// pgBinDir finds the directory holding initdb and postgres: PATH first,
// then Debian's /usr/lib/postgresql/<version>/bin (newest version).
func pgBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		_, e1 := os.Stat(filepath.Join(d, "initdb"))
		_, e2 := os.Stat(filepath.Join(d, "postgres"))
		if e1 == nil && e2 == nil {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, postgres) not found on PATH nor in /usr/lib/postgresql/*/bin: " +
		"install them (apt-get install postgresql) to run a private cluster")
}

// pgVersion is the major version in a /usr/lib/postgresql/<v>/bin path.
func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// osCredential is the uid and gid of an OS user.
func osCredential(name string) (*syscall.Credential, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL must run as a non-root OS user: %w (create it, e.g. adduser --system %s)", err, name)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("OS user %s: uid %q, gid %q are not numbers", name, u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// NewPGCluster creates a cluster (initdb) and starts it.
func NewPGCluster(ctx context.Context, o PGClusterOptions) (*PGCluster, error) {
	bin, err := pgBinDir()
	if err != nil {
		return nil, err
	}
	if o.OSUser == "" {
		o.OSUser = "postgres"
	}
	if o.MaxConnections == 0 {
		o.MaxConnections = 200
	}
	c := &PGCluster{Addr: o.Addr, Dir: o.Dir, bin: bin, maxConn: o.MaxConnections}
	if c.Addr == "" {
		if c.Addr, err = FreeAddr(); err != nil {
			return nil, fmt.Errorf("PostgreSQL cluster: no free port: %w", err)
		}
	}
	if c.Dir == "" {
		if c.Dir, err = os.MkdirTemp("", "pgcluster-"); err != nil {
			return nil, fmt.Errorf("PostgreSQL cluster directory: %w", err)
		}
		c.temp = true
		// The OS user must traverse it to reach data/ (itself 0700): x
		// for others, no read.
		if err := os.Chmod(c.Dir, 0o711); err != nil { //nolint:gosec // traversal only, see above
			return nil, fmt.Errorf("PostgreSQL cluster directory: %w", err)
		}
	}
	c.data, c.LogPath = filepath.Join(c.Dir, "data"), filepath.Join(c.Dir, "postgres.log")
	if c.cred, err = osCredential(o.OSUser); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.initdb(ctx); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// initdb creates the data directory, owned by the OS user, with trust
// authentication and the superuser postgres.
func (c *PGCluster) initdb(ctx context.Context) error {
	if err := os.MkdirAll(c.data, 0o700); err != nil {
		return fmt.Errorf("PostgreSQL data directory: %w", err)
	}
	if err := os.Chown(c.data, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
		return fmt.Errorf("give the PostgreSQL data directory to its OS user: %w", err)
	}
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, "initdb"), "-D", c.data, "-U", "postgres",
		"--auth=trust", "--encoding=UTF8", "--locale=C", "--no-instructions")
	cmd.Dir = c.data // the OS user cannot enter the caller's working directory
	cmd.Env = []string{"PATH=" + c.bin + ":/usr/bin:/bin", "LANG=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	out, err := cmd.CombinedOutput()
	_ = os.WriteFile(filepath.Join(c.Dir, "initdb.log"), out, 0o600)
	if err != nil {
		return fmt.Errorf("initdb %s: %w\n%s", c.data, err, lastLines(string(out), 8))
	}
	return nil
}

// Start runs the server on the cluster's address and data and waits until
// it accepts connections: after a Kill, that includes crash recovery.
func (c *PGCluster) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc != nil && c.proc.Running() {
		return fmt.Errorf("PostgreSQL cluster on %s is already running", c.Addr)
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("PostgreSQL cluster address %q: %w", c.Addr, err)
	}
	if err := PortFree(c.Addr); err != nil {
		return fmt.Errorf("PostgreSQL cluster: %w", err)
	}
	args := []string{"-D", c.data, "-p", port,
		"-c", "listen_addresses=" + host, "-c", "unix_socket_directories=",
		"-c", "max_connections=" + strconv.Itoa(c.maxConn), "-c", "shared_buffers=32MB",
		"-c", "fsync=on", "-c", "synchronous_commit=on", "-c", "full_page_writes=on"}
	p, err := startProcAs("postgres-"+port, filepath.Join(c.bin, "postgres"), args, c.data,
		[]string{"PATH=" + c.bin + ":/usr/bin:/bin", "LANG=C"}, c.LogPath, c.cred)
	if err != nil {
		return err
	}
	c.proc = p
	if err := c.waitReady(ctx, p, 2*time.Minute); err != nil {
		p.Kill()
		return err
	}
	return nil
}

// waitReady polls until a connection to the postgres database succeeds,
// failing early when the server exits.
func (c *PGCluster) waitReady(ctx context.Context, p *Proc, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last error
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, c.AdminDSN())
		cancel()
		if err == nil {
			_ = conn.Close(ctx)
			return nil
		}
		last = err
		if !p.Running() {
			return fmt.Errorf("PostgreSQL on %s exited while starting (%v); see %s:\n%s", c.Addr, p.Err(), c.LogPath, c.logTail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("PostgreSQL on %s not ready after %s: %w; see %s", c.Addr, limit, last, c.LogPath)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (c *PGCluster) logTail() string { return fileTail(c.LogPath, 8) }

// Stop shuts the server down the fast way (SIGINT: clients are
// disconnected, work is checkpointed) and waits for it.
func (c *PGCluster) Stop() error { return c.signal(syscall.SIGINT, "stop") }

// Kill shuts the server down the immediate way (SIGQUIT: no checkpoint,
// as after a crash; the next Start replays the WAL) and waits for it.
func (c *PGCluster) Kill() error { return c.signal(syscall.SIGQUIT, "kill") }

func (c *PGCluster) signal(sig syscall.Signal, what string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.proc
	if p == nil || !p.Running() {
		return nil
	}
	p.stopped.Store(true)
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("%s PostgreSQL on %s: %w", what, c.Addr, err)
	}
	select {
	case <-p.Done():
		return nil
	case <-time.After(time.Minute):
		p.Kill()
		return fmt.Errorf("%s PostgreSQL on %s: still running after a minute; killed (see %s)", what, c.Addr, c.LogPath)
	}
}

// Restart stops the server (fast) and starts it again on the same
// address and data.
func (c *PGCluster) Restart(ctx context.Context) error {
	if err := c.Stop(); err != nil {
		return err
	}
	return c.Start(ctx)
}

// Running reports whether the server process is up.
func (c *PGCluster) Running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.proc != nil && c.proc.Running()
}

// AdminDSN is the URL of the cluster's postgres database as its superuser
// (stack.NewPostgres takes it).
func (c *PGCluster) AdminDSN() string {
	return "postgres://postgres@" + c.Addr + "/postgres?sslmode=disable"
}

// Close stops the server and removes the directory it created.
func (c *PGCluster) Close() {
	_ = c.Stop() // kills it when a fast shutdown hangs
	if c.temp {
		_ = os.RemoveAll(c.Dir)
	}
}
