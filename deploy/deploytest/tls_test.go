package deploytest

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/belvo-temporal/backbone/internal/certs"
)

// sdkDialFuncs are the Go SDK's functions that connect a client.
var sdkDialFuncs = map[string]bool{"Dial": true, "DialContext": true, "NewLazyClient": true, "NewClient": true}

// configDialMethods are config.Config's methods that connect a client.
var configDialMethods = map[string]bool{"DialTemporal": true, "DialTemporalWithMetrics": true}

// sdkClientPath is the Go SDK's client package.
const sdkClientPath = "go.temporal.io/sdk/client"

// temporalDialers returns the commands that connect to Temporal (they
// need the client TLS setting) from the sources: those whose own package
// or a package of this module it imports, directly or not, calls
// config's DialTemporal or the SDK's client.Dial. Reading it from the code
// means a command that starts dialing cannot be deployed without mTLS.
var temporalDialers = sync.OnceValues(func() (map[string]bool, error) {
	return findTemporalDialers(repoRoot)
})

// findTemporalDialers does the work of temporalDialers with one go list.
func findTemporalDialers(root string) (map[string]bool, error) {
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{.Dir}}|{{join .GoFiles ","}}|{{join .Imports ","}}`, "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("dialers: go list: %w: %s", err, stderr.String())
	}
	type pkg struct {
		imports []string
		dials   bool
	}
	pkgs := map[string]*pkg{}
	var module string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 4 {
			return nil, fmt.Errorf("dialers: go list line %q", line)
		}
		p := &pkg{imports: strings.Split(f[3], ",")}
		declares := false
		for _, name := range strings.Split(f[2], ",") {
			if name == "" {
				continue
			}
			d, decl, err := fileDials(filepath.Join(f[1], name))
			if err != nil {
				return nil, err
			}
			p.dials, declares = p.dials || d, declares || decl
		}
		// The package that provides DialTemporal (config) dials only for
		// whoever calls it.
		p.dials = p.dials && !declares
		pkgs[f[0]] = p
		if strings.HasSuffix(f[0], "/cmd/worker") {
			module = strings.TrimSuffix(f[0], "/cmd/worker")
		}
	}
	if module == "" {
		return nil, fmt.Errorf("dialers: no cmd/worker among the packages of %s", root)
	}
	var reaches func(string, map[string]bool) bool
	reaches = func(ip string, seen map[string]bool) bool {
		p, ok := pkgs[ip]
		if !ok || seen[ip] {
			return false
		}
		seen[ip] = true
		if p.dials {
			return true
		}
		for _, imp := range p.imports {
			if reaches(imp, seen) {
				return true
			}
		}
		return false
	}
	dialers := map[string]bool{}
	for ip := range pkgs {
		if bin, ok := strings.CutPrefix(ip, module+"/cmd/"); ok && !strings.Contains(bin, "/") {
			dialers[bin] = reaches(ip, map[string]bool{})
		}
	}
	return dialers, nil
}

// fileDials reports whether file connects a Temporal client, calling
// x.DialTemporal(…) or the SDK's client.Dial(…), and whether it declares
// the DialTemporal methods itself.
func fileDials(file string) (dials, declares bool, err error) {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
	if err != nil {
		return false, false, fmt.Errorf("dialers: parse %s: %w", file, err)
	}
	sdkName := ""
	for _, imp := range f.Imports {
		if p, err := strconv.Unquote(imp.Path.Value); err == nil && p == sdkClientPath {
			sdkName = path.Base(p)
			if imp.Name != nil {
				sdkName = imp.Name.Name
			}
		}
	}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv != nil && configDialMethods[fd.Name.Name] {
			declares = true
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		x, _ := sel.X.(*ast.Ident)
		dials = dials || configDialMethods[sel.Sel.Name] ||
			x != nil && sdkName != "" && x.Name == sdkName && sdkDialFuncs[sel.Sel.Name]
		return !dials
	})
	return dials, declares, nil
}

// certRoles are the file names of the set `go run ./deploy/certs` writes
// (internal/certs), by role: what compose's secrets must point at.
type certRoles struct {
	ca, serverCert, serverKey, clientCert, clientKey string
}

// names lists every file of the set.
func (r certRoles) names() []string {
	return []string{r.ca, r.serverCert, r.serverKey, r.clientCert, r.clientKey}
}

// certFiles reads the names from a set generated once into a temporary
// directory, so the checks follow internal/certs if it renames a file.
var certFiles = sync.OnceValues(func() (certRoles, error) {
	dir, err := os.MkdirTemp("", "deploytest-certs-")
	if err != nil {
		return certRoles{}, fmt.Errorf("certs: %w", err)
	}
	defer os.RemoveAll(dir)
	s, err := certs.Generate(filepath.Join(dir, "tls"), certs.Options{})
	if err != nil {
		return certRoles{}, err
	}
	b := filepath.Base
	return certRoles{ca: b(s.CA), serverCert: b(s.ServerCert), serverKey: b(s.ServerKey), clientCert: b(s.ClientCert), clientKey: b(s.ClientKey)}, nil
})

// tlsFixtures loads what the TLS checks need.
func tlsFixtures(t *testing.T) (map[string]bool, certRoles) {
	t.Helper()
	d, err := temporalDialers()
	if err != nil {
		t.Fatal(err)
	}
	r, err := certFiles()
	if err != nil {
		t.Fatal(err)
	}
	return d, r
}

// The commands that dial Temporal are found in the code: the worker
// (through package worker), the bridge and the starter; the codec server
// loads the configuration but never connects, and the sandbox is Belvo's
// emulator.
func TestTemporalDialersAreReadFromTheSources(t *testing.T) {
	d, r := tlsFixtures(t)
	want := map[string]bool{"worker": true, "bridge": true, "starter": true, "codec-server": false, "sandbox": false}
	for _, bin := range sortedKeys(want) {
		if got, ok := d[bin]; !ok || got != want[bin] {
			t.Errorf("dials Temporal: %s = %v (found %v), want %v", bin, got, ok, want[bin])
		}
	}
	if names := r.names(); slices.Contains(names, "") || len(slices.Compact(slices.Sorted(slices.Values(names)))) != 5 {
		t.Errorf("certificate set file names %v: want five distinct names", names)
	}
}
