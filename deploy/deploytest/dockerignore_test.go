package deploytest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// ignoreRule is one .dockerignore line.
type ignoreRule struct {
	re     *regexp.Regexp
	negate bool
}

// parseDockerignore reads .dockerignore with Docker's rules: patterns are
// cleaned paths relative to the context, `*` and `?` stay within one path
// element, `**` spans any number of them, `!` re-includes, and the last
// matching rule wins.
func parseDockerignore(src string) ([]ignoreRule, error) {
	var rules []ignoreRule
	for _, l := range strings.Split(src, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		r := ignoreRule{}
		if strings.HasPrefix(l, "!") {
			r.negate, l = true, strings.TrimSpace(l[1:])
		}
		l = strings.TrimPrefix(path.Clean("/"+l), "/")
		re, err := globRegexp(l)
		if err != nil {
			return nil, fmt.Errorf("dockerignore: %q: %w", l, err)
		}
		r.re = re
		rules = append(rules, r)
	}
	return rules, nil
}

// globRegexp translates one cleaned pattern.
func globRegexp(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	segs := strings.Split(pattern, "/")
	for i, seg := range segs {
		last := i == len(segs)-1
		if seg == "**" {
			if last {
				b.WriteString(".*")
			} else {
				b.WriteString("(?:.*/)?")
			}
			continue
		}
		for j := 0; j < len(seg); j++ {
			switch c := seg[j]; c {
			case '*':
				b.WriteString("[^/]*")
			case '?':
				b.WriteString("[^/]")
			case '[':
				end := strings.IndexByte(seg[j:], ']')
				if end < 0 {
					return nil, errors.New("unclosed [")
				}
				b.WriteString(seg[j : j+end+1])
				j += end
			case '\\':
				if j+1 < len(seg) {
					j++
					b.WriteString(regexp.QuoteMeta(seg[j : j+1]))
				}
			default:
				b.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		if !last {
			b.WriteString("/")
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// ignored reports whether the slash-separated path rel is left out of the
// build context: a rule matching one of its parent directories excludes it
// too.
func ignored(rules []ignoreRule, rel string) bool {
	out := false
	for _, r := range rules {
		for p := rel; p != "."; p = path.Dir(p) {
			if r.re.MatchString(p) {
				out = !r.negate
				break
			}
		}
	}
	return out
}

// buildInputs lists, relative to root, every file `go build` of the given
// packages reads from this module: go.mod, go.sum, and the Go and embedded
// files of each package of the module in their dependency graph.
func buildInputs(root string, pkgs []string) ([]string, error) {
	args := append([]string{"list", "-deps", "-f", `{{if and .Module .Module.Main}}{{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{range .EmbedFiles}} {{.}}{{end}}{{end}}`}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list %v: %w: %s", pkgs, err, stderr.String())
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	files := []string{"go.mod", "go.sum"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		dir, err := filepath.Rel(abs, fields[0])
		if err != nil {
			return nil, err
		}
		for _, f := range fields[1:] {
			files = append(files, filepath.ToSlash(filepath.Join(dir, f)))
		}
	}
	return files, nil
}

// checkDockerignore fails when the context would lack a build input, or
// would carry what must never reach an image.
func checkDockerignore(rules []ignoreRule, inputs []string) error {
	var errs []error
	for _, f := range inputs {
		if ignored(rules, f) {
			errs = append(errs, fmt.Errorf("dockerignore: excludes %s, which the build needs", f))
		}
	}
	for _, f := range []string{".git/config", ".local/belvo.db", ".local/payload-keys", "bin/worker", "deploy/compose/secrets.env", "deploy/compose/tls/client-key.pem"} {
		if !ignored(rules, f) {
			errs = append(errs, fmt.Errorf("dockerignore: does not exclude %s", f))
		}
	}
	return errors.Join(errs...)
}

func TestDockerignore(t *testing.T) {
	df, err := loadDockerfile(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	for _, c := range df.commands {
		pkgs = append(pkgs, "./cmd/"+c)
	}
	inputs, err := buildInputs(repoRoot, pkgs)
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) < 20 {
		t.Fatalf("go list found only %d build inputs: %v", len(inputs), inputs)
	}
	src, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	good := string(src)
	tests := []struct {
		name, extra, want string // want "" for no error
	}{
		{"as committed", "", ""},
		{"all Go files", "**/*.go", "which the build needs"},
		{"a package", "codec", "codec/"},
		{"embedded migrations", "**/*.sql", ".sql"},
		{"go.sum", "go.*", "go.sum"},
		{"secrets re-included", "!deploy/compose/secrets.env", "does not exclude deploy/compose/secrets.env"},
		{"TLS keys re-included", "!deploy/compose/tls", "does not exclude deploy/compose/tls/client-key.pem"},
		{"local data re-included", "!.local", "does not exclude .local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules, err := parseDockerignore(good + "\n" + tt.extra + "\n")
			if err != nil {
				t.Fatal(err)
			}
			err = checkDockerignore(rules, inputs)
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestDockerignoreMatching(t *testing.T) {
	rules, err := parseDockerignore("bin/\n**/*.md\ndeploy/k8s/\n*.test\n!keep.test\n")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want bool
	}{
		{"bin/worker", true},
		{"cmd/bin/x.go", false},
		{"README.md", true},
		{"a/b/c.md", true},
		{"deploy/k8s/pdb.yaml", true},
		{"deploy/compose/compose.yaml", false},
		{"x.test", true},
		{"keep.test", false},
		{"sub/x.test", false},
	}
	for _, tt := range tests {
		if got := ignored(rules, tt.path); got != tt.want {
			t.Errorf("ignored(%s) = %v, want %v", tt.path, got, tt.want)
		}
	}
}
