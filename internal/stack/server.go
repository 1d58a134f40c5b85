package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/internal/certs"
	"github.com/belvo-temporal/backbone/workflows"
	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TemporalServerVersion is the pinned Temporal server and schema tool of the
// production-like stack (the version of deploy/compose and deploy/k8s).
const TemporalServerVersion = "v1.29.1"

// Postgres is where a Temporal server and the store keep their databases:
// <prefix>_temporal, <prefix>_visibility and <prefix>_store.
type Postgres struct {
	admin                      string // DSN of a database to connect to for CREATE DATABASE
	host, port, user, password string
	// TemporalDB, VisibilityDB and StoreDB are the databases' names.
	TemporalDB, VisibilityDB, StoreDB string
}

// NewPostgres names a stack's databases on the server an admin DSN
// reaches.
func NewPostgres(admin, prefix string) (Postgres, error) {
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return Postgres{}, fmt.Errorf("the PostgreSQL admin URL must be a postgres:// URL, such as postgres://postgres@127.0.0.1:5432/postgres")
	}
	p := Postgres{admin: admin, host: u.Hostname(), port: u.Port(), user: u.User.Username(),
		TemporalDB: prefix + "_temporal", VisibilityDB: prefix + "_visibility", StoreDB: prefix + "_store"}
	p.password, _ = u.User.Password()
	if p.port == "" {
		p.port = "5432"
	}
	return p, nil
}

// DSN names one of the stack's databases.
func (p Postgres) DSN(db string) string {
	u, _ := url.Parse(p.admin)
	u.Path = "/" + db
	q := u.Query()
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Recreate drops the stack's databases so a run starts from nothing.
func (p Postgres) Recreate(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, p.admin)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL (is it running? pg_ctlcluster starts it): %w", err)
	}
	defer conn.Close(ctx)
	for _, db := range []string{p.TemporalDB, p.VisibilityDB, p.StoreDB} {
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop database %s: %w", db, err)
		}
	}
	return nil
}

// EnsureDB creates a database unless it exists.
func (p Postgres) EnsureDB(ctx context.Context, db string) (created bool, err error) {
	conn, err := pgx.Connect(ctx, p.admin)
	if err != nil {
		return false, fmt.Errorf("connect to PostgreSQL (is it running? pg_ctlcluster starts it): %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, db).Scan(&exists); err != nil {
		return false, err
	}
	if exists {
		return false, nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
		return false, fmt.Errorf("create database %s: %w", db, err)
	}
	return true, nil
}

// hasTable reports whether a table exists in a database.
func (p Postgres) hasTable(ctx context.Context, db, table string) (bool, error) {
	conn, err := pgx.Connect(ctx, p.DSN(db))
	if err != nil {
		return false, fmt.Errorf("connect to database %s: %w", db, err)
	}
	defer conn.Close(ctx)
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&ok); err != nil {
		return false, fmt.Errorf("look for table %s in %s: %w", table, db, err)
	}
	return ok, nil
}

// EnsureServer installs the pinned server and its SQL schema tool into
// root/bin/server unless they are there, and returns their paths.
func EnsureServer(ctx context.Context, root string, out io.Writer) (server, sqlTool string, err error) {
	dir := filepath.Join(root, "bin", "server")
	server, sqlTool = filepath.Join(dir, "server"), filepath.Join(dir, "sql")
	_, e1 := os.Stat(server)
	_, e2 := os.Stat(sqlTool)
	if e1 == nil && e2 == nil {
		fmt.Fprintf(out, "✓ Temporal server %s present: %s\n", TemporalServerVersion, dir)
		return server, sqlTool, nil
	}
	fmt.Fprintf(out, "→ installing Temporal server and schema tool %s into %s (several minutes on a cold module cache)…\n", TemporalServerVersion, dir)
	cmd := exec.CommandContext(ctx, "go", "install",
		"go.temporal.io/server/cmd/server@"+TemporalServerVersion, "go.temporal.io/server/cmd/tools/sql@"+TemporalServerVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+dir)
	cmd.Stdout, cmd.Stderr = out, out
	done := make(chan struct{})
	go Elapsed(out, "building the Temporal server", 20*time.Second, done)
	err = cmd.Run()
	close(done)
	if err != nil {
		return "", "", fmt.Errorf("install Temporal server %s: %w", TemporalServerVersion, err)
	}
	return server, sqlTool, nil
}

// schemaDir is the server module's schema directory in the module cache
// (the same version as the binaries, so schema and code agree).
func schemaDir(ctx context.Context) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", "go.temporal.io/server@"+TemporalServerVersion)
	cmd.Dir = os.TempDir() // outside any module: download, never edit go.mod
	cmd.Env = append(os.Environ(), "GO111MODULE=on", "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("locate the server %s schemas: %w", TemporalServerVersion, err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		return "", fmt.Errorf("locate the server %s schemas: unexpected go mod download output", TemporalServerVersion)
	}
	return filepath.Join(m.Dir, "schema", "postgresql", "v12"), nil
}

// setupSchemas creates the cluster's two databases and brings their schemas
// to the server's version with the server's own tool: setup once, then
// update (a no-op when current), as an operator upgrading the server would.
func setupSchemas(ctx context.Context, p Postgres, sqlTool, logDir string, out io.Writer) error {
	dir, err := schemaDir(ctx)
	if err != nil {
		return err
	}
	for _, s := range []struct{ db, sub string }{{p.TemporalDB, "temporal"}, {p.VisibilityDB, "visibility"}} {
		if _, err := p.EnsureDB(ctx, s.db); err != nil {
			return err
		}
		// setup-schema creates the version table once; a database where an
		// earlier setup failed half-way gets it on the next start too.
		versioned, err := p.hasTable(ctx, s.db, "schema_version")
		if err != nil {
			return err
		}
		steps := [][]string{{"update-schema", "-d", filepath.Join(dir, s.sub, "versioned")}}
		if !versioned {
			steps = append([][]string{{"setup-schema", "-v", "0.0"}}, steps...)
		}
		for _, step := range steps {
			args := append([]string{"--plugin", "postgres12", "--ep", p.host, "-p", p.port, "-u", p.user, "--db", s.db}, step...)
			cmd := exec.CommandContext(ctx, sqlTool, args...)
			cmd.Env = append(os.Environ(), "SQL_PASSWORD="+p.password)
			out, err := cmd.CombinedOutput()
			_ = os.WriteFile(filepath.Join(logDir, "schema-"+s.sub+"-"+step[0]+".log"), out, 0o600)
			if err != nil {
				return fmt.Errorf("%s %s on %s: %w\n%s", filepath.Base(sqlTool), step[0], s.db, err, lastLines(string(out), 8))
			}
		}
		fmt.Fprintf(out, "✓ %s schema current in database %s\n", s.sub, s.db)
	}
	return nil
}

// serverEnv is what deploy/temporal/config/production-postgres.yaml reads.
func serverEnv(p Postgres, portBase int, tls *certs.Set) []string {
	env := append(os.Environ(),
		"TEMPORAL_POSTGRES_HOST="+p.host, "TEMPORAL_POSTGRES_PORT="+p.port, "TEMPORAL_POSTGRES_USER="+p.user,
		"TEMPORAL_POSTGRES_PASSWORD="+p.password, "TEMPORAL_DB="+p.TemporalDB, "TEMPORAL_VISIBILITY_DB="+p.VisibilityDB,
		"TEMPORAL_PORT_BASE="+strconv.Itoa(portBase), "TEMPORAL_BIND_IP=127.0.0.1")
	if tls != nil {
		env = append(env, "TEMPORAL_TLS_SERVER_CA_CERT="+tls.CA, "TEMPORAL_TLS_SERVER_CERT="+tls.ServerCert,
			"TEMPORAL_TLS_SERVER_KEY="+tls.ServerKey, "TEMPORAL_TLS_INTERNODE_SERVER_NAME="+tls.ServerName,
			"TEMPORAL_TLS_FRONTEND_SERVER_NAME="+tls.ServerName,
			"TEMPORAL_TLS_SYSTEM_WORKER_CERT="+tls.ClientCert, "TEMPORAL_TLS_SYSTEM_WORKER_KEY="+tls.ClientKey)
	}
	return env
}

// ClientTLS is the client profile's TLS for a server of set: the client
// certificate, the CA and the server's name (what the product's processes
// and prepareNamespace connect with).
func ClientTLS(set certs.Set) *envconfig.ClientConfigTLS {
	return &envconfig.ClientConfigTLS{ClientCertPath: set.ClientCert, ClientKeyPath: set.ClientKey,
		ServerCACertPath: set.CA, ServerName: set.ServerName}
}

// ServerOptions configure a Temporal server on PostgreSQL.
type ServerOptions struct {
	// Binary and SQLTool are the server and its schema tool (EnsureServer).
	Binary, SQLTool string
	Postgres        Postgres
	// PortBase is the frontend's port; the server's other ports derive
	// from it (deploy/temporal/config).
	PortBase int
	// Retention of closed executions in the namespace.
	Retention time.Duration
	// TLS, when set, turns mTLS on in the server (frontend and between its
	// services) with these certificates; the stack's processes then
	// connect with its client certificate.
	TLS *certs.Set
}

// ServerPorts are the ports a Temporal server with this frontend port
// binds: its services' gRPC and membership ports and its metrics, as
// deploy/temporal/config derives them from the frontend's.
func ServerPorts(frontend int) []int {
	b := frontend
	return []int{b, b + 1, b + 2, b + 6, b + 10, b - 300, b - 299, b - 298, b - 294, b + 767}
}

// ReserveServerPorts keeps FreeAddr and FreePort from handing out the ports
// a server with this frontend port will bind. A harness that starts other
// processes first (a private PostgreSQL, a fault proxy) would otherwise
// now and then give one of them a port the server needs a moment later;
// call it before picking any port.
func ReserveServerPorts(frontend int) {
	for _, p := range ServerPorts(frontend) {
		claimed.Store(p, true)
	}
}

// startServer brings the server's schemas to its version, runs it from
// deploy/temporal and waits for its frontend, then registers the namespace
// and the product's search attributes.
func startServer(ctx context.Context, root string, o ServerOptions, cfg config.Config, logDir string, out io.Writer) (*Proc, error) {
	if err := setupSchemas(ctx, o.Postgres, o.SQLTool, logDir, out); err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(o.PortBase)
	b := o.PortBase
	// The server records its services' membership ports (base-300 to
	// base-294) in a PostgreSQL smallint: above that it dies at start-up
	// with "out of range for type smallint".
	if b < 1024 || b-294 > 32767 {
		return nil, fmt.Errorf("the Temporal frontend port %d is out of range: use 1024 to %d (the server stores the ports 300 below it as PostgreSQL smallints)", b, 32767+294)
	}
	for _, port := range ServerPorts(b) {
		if err := PortFree("127.0.0.1:" + strconv.Itoa(port)); err != nil {
			return nil, fmt.Errorf("the Temporal server needs ports around %d: %w (choose another frontend port)", b, err)
		}
	}
	logPath := filepath.Join(logDir, "temporal-server.log")
	mode := "plaintext"
	if o.TLS != nil {
		mode = "mTLS, certificates in " + o.TLS.Dir
	}
	fmt.Fprintf(out, "→ starting Temporal server %s on PostgreSQL (frontend %s, %s)…\n", TemporalServerVersion, addr, mode)
	proc, err := startProc("temporal-server", o.Binary, []string{"--env", "production-postgres", "--allow-no-auth", "start"},
		filepath.Join(root, "deploy", "temporal"), serverEnv(o.Postgres, b, o.TLS), logPath)
	if err != nil {
		return nil, err
	}
	if err := WaitTCP(ctx, addr, 2*time.Minute); err != nil {
		proc.Stop(5 * time.Second)
		return nil, fmt.Errorf("the Temporal server does not answer: %w (see %s)", err, logPath)
	}
	if err := prepareNamespace(ctx, cfg, o.Retention, out); err != nil {
		proc.Stop(5 * time.Second)
		return nil, err
	}
	return proc, nil
}

// prepareNamespace registers the namespace (with its retention) and the
// product's search attributes, the steps a cluster operator does once; both
// are idempotent so a restart repeats them harmlessly. It connects as the
// product's processes do (cfg's client profile: TLS, certificates).
func prepareNamespace(ctx context.Context, cfg config.Config, retention time.Duration, out io.Writer) error {
	namespace := cfg.TemporalNamespace
	opts, err := cfg.ClientOptions(nil, nil)
	if err != nil {
		return err
	}
	nc, err := client.NewNamespaceClient(opts)
	if err != nil {
		return fmt.Errorf("connect to Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	defer nc.Close()
	err = retry(ctx, time.Minute, func() error {
		err := nc.Register(ctx, &workflowservice.RegisterNamespaceRequest{Namespace: namespace,
			WorkflowExecutionRetentionPeriod: durationpb.New(retention)})
		var exists *serviceerror.NamespaceAlreadyExists
		if errors.As(err, &exists) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("register namespace %s: %w", namespace, err)
	}
	c, err := cfg.DialTemporal(nil)
	if err != nil {
		return err
	}
	defer c.Close()
	attrs := map[string]enums.IndexedValueType{}
	for _, k := range workflows.SearchAttributes() {
		attrs[k.GetName()] = k.GetValueType()
	}
	err = retry(ctx, time.Minute, func() error {
		_, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace: namespace, SearchAttributes: attrs})
		var exists *serviceerror.AlreadyExists
		if errors.As(err, &exists) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("register search attributes: %w", err)
	}
	fmt.Fprintf(out, "✓ namespace %s (retention %s) with search attributes %s\n", namespace, retention, strings.Join(keys(attrs), ", "))
	return nil
}

// retry calls f until it succeeds or limit passes: a cluster that just
// opened its port may still be loading its namespaces.
func retry(ctx context.Context, limit time.Duration, f func() error) error {
	deadline := time.Now().Add(limit)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Second)
	}
}

func keys(m map[string]enums.IndexedValueType) []string {
	var out []string
	for _, k := range workflows.SearchAttributes() {
		if _, ok := m[k.GetName()]; ok {
			out = append(out, k.GetName())
		}
	}
	return out
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
