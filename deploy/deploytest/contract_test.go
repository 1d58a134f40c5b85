package deploytest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/belvo-temporal/backbone/config"
)

// repoRoot is the repository, seen from this package's directory (where go
// test runs).
const repoRoot = "../.."

// binDir is where the Dockerfile puts every command; manifests run
// binDir/<command>.
const binDir = "/usr/local/bin/"

// contract is the configuration contract the manifests must respect: which
// environment variables each binary reads, and which of them are secrets.
type contract struct {
	// common is what config.FromEnv reads, so every binary (they all call
	// config.Load).
	common map[string]bool
	// own is what cmd/<binary> reads itself (os.Getenv, envOr, the
	// starter's a.getenv), by binary.
	own map[string]map[string]bool
	// secrets must never be written literally in a manifest.
	secrets map[string]bool
}

// goRuntimeEnv are read by the Go runtime itself, not by the code.
var goRuntimeEnv = map[string]bool{"GOMEMLIMIT": true, "GOMAXPROCS": true, "GOGC": true, "GODEBUG": true}

// extraSecrets are secrets config/config.go does not mark "(secret)": the
// DSN carries the database password, the others are read by one command.
var extraSecrets = []string{"STORE_DSN", "CODEC_AUTHORIZATION", "BELVO_LINK_PASSWORD", "BELVO_MFA_TOKEN"}

// reads reports whether binary reads the variable name.
func (c contract) reads(binary, name string) bool {
	return c.common[name] || c.own[binary][name] || goRuntimeEnv[name] || config.IsTemporalClientVariable(name)
}

// checkEnvName explains why binary cannot use name, or returns nil.
func (c contract) checkEnvName(binary, name string) error {
	if c.reads(binary, name) {
		return nil
	}
	return fmt.Errorf("%s: environment variable %s is read neither by config.FromEnv (config/config.go) nor by cmd/%s", binary, name, binary)
}

// loadContract reads the contract from the sources, so it cannot drift from
// the code.
func loadContract(root string) (contract, error) {
	cfgPath := filepath.Join(root, "config", "config.go")
	common, err := envNamesCalled(cfgPath, map[string]bool{"env": true, "duration": true, "positiveInt": true})
	if err != nil {
		return contract{}, err
	}
	// A parse that finds (almost) nothing means the helpers were renamed:
	// fail instead of rejecting every manifest.
	for _, must := range []string{"TEMPORAL_TASK_QUEUE", "STORE_DSN", "WEBHOOK_LISTEN_ADDR", "WEBHOOK_MAX_IN_FLIGHT", "HISTORICAL_FETCH_TIMEOUT"} {
		if !common[must] {
			return contract{}, fmt.Errorf("contract: %s not found among the env/duration/positiveInt calls of %s; update loadContract", must, cfgPath)
		}
	}
	c := contract{common: common, own: map[string]map[string]bool{}, secrets: map[string]bool{}}
	cmds, err := os.ReadDir(filepath.Join(root, "cmd"))
	if err != nil {
		return contract{}, fmt.Errorf("contract: list cmd/: %w", err)
	}
	for _, d := range cmds {
		if !d.IsDir() {
			continue
		}
		files, err := filepath.Glob(filepath.Join(root, "cmd", d.Name(), "*.go"))
		if err != nil {
			return contract{}, fmt.Errorf("contract: list cmd/%s: %w", d.Name(), err)
		}
		own := map[string]bool{}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			// a.getenv is the starter's injectable os.Getenv (its tests fake it).
			names, err := envNamesCalled(f, map[string]bool{"envOr": true, "os.Getenv": true, "os.LookupEnv": true, "a.getenv": true})
			if err != nil {
				return contract{}, err
			}
			for n := range names {
				own[n] = true
			}
		}
		c.own[d.Name()] = own
	}
	src, err := os.ReadFile(cfgPath)
	if err != nil {
		return contract{}, fmt.Errorf("contract: %w", err)
	}
	for _, m := range secretMarker.FindAllStringSubmatch(string(src), -1) {
		c.secrets[m[1]] = true
	}
	if !c.secrets["BELVO_SECRET_PASSWORD"] || !c.secrets["PAYLOAD_ENCRYPTION_KEYS"] {
		return contract{}, fmt.Errorf("contract: the \"(secret)\" markers of %s were not found; update secretMarker", cfgPath)
	}
	for _, s := range append(slices.Clone(extraSecrets), config.TemporalClientSecrets...) {
		c.secrets[s] = true
	}
	return c, nil
}

// secretMarker finds the names config/config.go documents as secret:
// "BELVO_SECRET_ID (secret)" or "(PAYLOAD_ENCRYPTION_KEYS, secret)".
var secretMarker = regexp.MustCompile(`([A-Z][A-Z0-9_]+)(?: \(secret\)|, secret\))`)

// envNamesCalled returns the string-literal first arguments of calls to the
// named functions ("env", or "os.Getenv" for a package function) in file.
func envNamesCalled(file string, funcs map[string]bool) (map[string]bool, error) {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("contract: parse %s: %w", file, err)
	}
	names := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) == 0 || !funcs[calleeName(call.Fun)] {
			return true
		}
		if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil {
				names[s] = true
			}
		}
		return true
	})
	return names, nil
}

// calleeName is "f" for f(...) and "pkg.F" for pkg.F(...).
func calleeName(fun ast.Expr) string {
	switch f := fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		if x, ok := f.X.(*ast.Ident); ok {
			return x.Name + "." + f.Sel.Name
		}
	}
	return ""
}

// binaryOf is the product command a container runs ("worker" for
// /usr/local/bin/worker), or "" when it runs something else.
func binaryOf(command []string) string {
	if len(command) == 0 || !strings.HasPrefix(command[0], binDir) {
		return ""
	}
	return strings.TrimPrefix(command[0], binDir)
}

// secondsFromSource finds re's first submatch (a number of seconds) in file:
// the shutdown bounds the manifests must outlast live in Go code.
func secondsFromSource(file string, re *regexp.Regexp) (time.Duration, error) {
	src, err := os.ReadFile(filepath.Join(repoRoot, file))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", file, err)
	}
	m := re.FindSubmatch(src)
	if m == nil {
		return 0, fmt.Errorf("%s: %s not found; update the pattern in deploytest", file, re)
	}
	n, err := strconv.Atoi(string(m[1]))
	if err != nil {
		return 0, fmt.Errorf("%s: %q: %w", file, m[1], err)
	}
	return time.Duration(n) * time.Second, nil
}

// shutdownBounds are how long each binary takes at most to stop after
// SIGTERM, read from the code.
func shutdownBounds() (map[string]time.Duration, error) {
	serveRun := func(srv string) *regexp.Regexp {
		return regexp.MustCompile(`serve\.Run\([^,]+,\s*` + srv + `,\s*(\d+)\s*\*\s*time\.Second`)
	}
	sources := []struct {
		binary, file string
		re           *regexp.Regexp
	}{
		{"bridge", "cmd/bridge/main.go", serveRun("srv")},
		{"codec-server", "cmd/codec-server/main.go", serveRun("srv")},
		{"worker", "worker/worker.go", regexp.MustCompile(`WorkerStopTimeout:\s*(\d+)\s*\*\s*time\.Second`)},
	}
	out := map[string]time.Duration{}
	for _, s := range sources {
		d, err := secondsFromSource(s.file, s.re)
		if err != nil {
			return nil, err
		}
		out[s.binary] = d
	}
	return out, nil
}

// sortedKeys makes error messages and iteration deterministic.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestContractIsReadFromTheSources(t *testing.T) {
	c, err := loadContract(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		binary, name string
		want         bool
	}{
		{"worker", "TEMPORAL_ADDRESS", true},
		{"bridge", "WEBHOOK_MAX_BODY_BYTES", true},
		{"codec-server", "CODEC_LISTEN_ADDR", true},
		{"worker", "CODEC_LISTEN_ADDR", false},
		{"sandbox", "SANDBOX_WEBHOOK_URL", true},
		{"starter", "BELVO_LINK_PASSWORD", true},
		{"worker", "GOMEMLIMIT", true},
		{"bridge", "TEMPORAL_HOST", false},
	}
	for _, tt := range tests {
		if got := c.reads(tt.binary, tt.name); got != tt.want {
			t.Errorf("reads(%s, %s) = %v, want %v", tt.binary, tt.name, got, tt.want)
		}
	}
	for _, s := range []string{"BELVO_SECRET_ID", "BELVO_SECRET_PASSWORD", "BELVO_WEBHOOK_AUTHORIZATION", "BELVO_WEBHOOK_AUTHORIZATION_PREVIOUS", "PAYLOAD_ENCRYPTION_KEYS", "STORE_DSN"} {
		if !c.secrets[s] {
			t.Errorf("%s is not known as a secret", s)
		}
	}
	if c.secrets["PAYLOAD_ENCRYPTION_KEYS_FILE"] || c.secrets["TEMPORAL_ADDRESS"] {
		t.Errorf("non-secrets taken for secrets: %v", sortedKeys(c.secrets))
	}
	if _, err := shutdownBounds(); err != nil {
		t.Fatal(err)
	}
}
