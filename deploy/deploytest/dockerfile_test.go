package deploytest

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dockerfile is what the checks need from a Dockerfile.
type dockerfile struct {
	stages   []stage
	commands []string // the ./cmd/<name> packages the build stage builds
}

// stage is one FROM … section.
type stage struct {
	image       string
	name        string // AS <name>
	user        string // the last USER, "" when none
	entrypoint  bool
	runs        []string
	copiesToBin bool // COPY --from=… into binDir
}

// buildPackage matches the ./cmd/<name> arguments of `go build`.
var buildPackage = regexp.MustCompile(`\./cmd/([A-Za-z0-9_-]+)`)

// parseDockerfile reads instructions, joining continuation lines; it knows
// the few instructions the checks need and ignores the others.
func parseDockerfile(src string) (dockerfile, error) {
	var df dockerfile
	var lines []string
	var cur strings.Builder
	for _, l := range strings.Split(src, "\n") {
		t := strings.TrimSpace(l)
		if cur.Len() == 0 && (t == "" || strings.HasPrefix(t, "#")) {
			continue
		}
		if strings.HasSuffix(t, "\\") {
			cur.WriteString(strings.TrimSuffix(t, "\\") + " ")
			continue
		}
		cur.WriteString(t)
		lines = append(lines, cur.String())
		cur.Reset()
	}
	for _, l := range lines {
		instr, args, _ := strings.Cut(l, " ")
		args = strings.TrimSpace(args)
		switch strings.ToUpper(instr) {
		case "FROM":
			var st stage
			fields := strings.Fields(args)
			for i, f := range fields {
				switch {
				case strings.HasPrefix(f, "--"):
				case st.image == "":
					st.image = f
				case strings.EqualFold(f, "AS") && i+1 < len(fields):
					st.name = fields[i+1]
				}
			}
			df.stages = append(df.stages, st)
			continue
		case "ARG":
			if len(df.stages) == 0 {
				continue // global build arguments
			}
		}
		if len(df.stages) == 0 {
			return dockerfile{}, fmt.Errorf("dockerfile: %q before the first FROM", l)
		}
		s := &df.stages[len(df.stages)-1]
		switch strings.ToUpper(instr) {
		case "USER":
			s.user = args
		case "ENTRYPOINT":
			s.entrypoint = true
		case "RUN":
			s.runs = append(s.runs, args)
			if strings.Contains(args, "go build") {
				for _, m := range buildPackage.FindAllStringSubmatch(args, -1) {
					df.commands = append(df.commands, m[1])
				}
			}
		case "COPY":
			if strings.Contains(args, "--from=") && strings.HasSuffix(strings.TrimSuffix(args, "/"), strings.TrimSuffix(binDir, "/")) {
				s.copiesToBin = true
			}
		}
	}
	if len(df.stages) == 0 {
		return dockerfile{}, errors.New("dockerfile: no FROM")
	}
	return df, nil
}

// checkDockerfile checks the build against the repository at root.
func checkDockerfile(df dockerfile, root string) error {
	var errs []error
	if len(df.stages) < 2 {
		errs = append(errs, errors.New("dockerfile: want a multi-stage build (builder, then a small final image)"))
	}
	if len(df.commands) == 0 {
		errs = append(errs, errors.New("dockerfile: builds no ./cmd/... package"))
	}
	for _, c := range df.commands {
		if err := isMainPackage(filepath.Join(root, "cmd", c)); err != nil {
			errs = append(errs, fmt.Errorf("dockerfile: builds ./cmd/%s: %w", c, err))
		}
	}
	cgoOff := false
	for _, s := range df.stages[:len(df.stages)-1] {
		for _, r := range s.runs {
			if strings.Contains(r, "go build") && strings.Contains(r, "CGO_ENABLED=0") {
				cgoOff = true
			}
		}
	}
	if !cgoOff {
		errs = append(errs, errors.New("dockerfile: go build without CGO_ENABLED=0 (the final image has no libc)"))
	}
	for i, s := range df.stages {
		if err := checkPinned(s.image); err != nil && !isEarlierStage(df.stages[:i], s.image) && s.image != "scratch" {
			errs = append(errs, fmt.Errorf("dockerfile: FROM: %w", err))
		}
	}
	final := df.stages[len(df.stages)-1]
	switch u, _, _ := strings.Cut(final.user, ":"); u {
	case "":
		errs = append(errs, errors.New("dockerfile: the final stage has no USER: it would run as root"))
	case "root", "0":
		errs = append(errs, fmt.Errorf("dockerfile: the final stage runs as %q", final.user))
	}
	if final.entrypoint {
		errs = append(errs, errors.New("dockerfile: the final stage has an ENTRYPOINT: every deployment names its binary, so one image serves every role"))
	}
	if !final.copiesToBin {
		errs = append(errs, fmt.Errorf("dockerfile: the final stage copies no binaries into %s", binDir))
	}
	return errors.Join(errs...)
}

// isEarlierStage reports whether image names one of the stages before
// (FROM build), which needs no tag.
func isEarlierStage(earlier []stage, image string) bool {
	for _, s := range earlier {
		if s.name != "" && s.name == image {
			return true
		}
	}
	return false
}

// checkPinned refuses images without a tag or digest, or tagged latest; a
// ${VAR} tag is resolved by the caller first.
func checkPinned(image string) error {
	if strings.Contains(image, "@sha256:") {
		return nil
	}
	name := image
	if i := strings.LastIndex(image, "/"); i >= 0 {
		name = image[i+1:]
	}
	_, tag, ok := strings.Cut(name, ":")
	switch {
	case !ok || tag == "":
		return fmt.Errorf("image %q is not pinned (no tag)", image)
	case tag == "latest":
		return fmt.Errorf("image %q is not pinned (:latest)", image)
	}
	return nil
}

// isMainPackage reports whether dir holds a main package.
func isMainPackage(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return err
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		pf, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly)
		if err != nil {
			return fmt.Errorf("parse %s: %w", f, err)
		}
		if pf.Name.Name == "main" {
			return nil
		}
		return fmt.Errorf("%s is package %s, not main", dir, pf.Name.Name)
	}
	return fmt.Errorf("%s has no Go files", dir)
}

// loadDockerfile parses the repository's Dockerfile, resolving the
// ${GO_VERSION}-style build arguments that have defaults.
func loadDockerfile(root string) (dockerfile, error) {
	b, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		return dockerfile{}, fmt.Errorf("dockerfile: %w", err)
	}
	return parseDockerfile(expandArgs(string(b)))
}

// argDefault matches ARG NAME=default.
var argDefault = regexp.MustCompile(`(?m)^ARG\s+([A-Za-z_][A-Za-z0-9_]*)=(\S+)`)

// expandArgs substitutes ${NAME} and $NAME by ARG defaults.
func expandArgs(src string) string {
	for _, m := range argDefault.FindAllStringSubmatch(src, -1) {
		src = strings.NewReplacer("${"+m[1]+"}", m[2], "$"+m[1], m[2]).Replace(src)
	}
	return src
}

// builtBinaries is the set of commands the image holds.
func builtBinaries(df dockerfile) map[string]bool {
	out := map[string]bool{}
	for _, c := range df.commands {
		out[c] = true
	}
	return out
}

func TestDockerfile(t *testing.T) {
	df, err := loadDockerfile(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkDockerfile(df, repoRoot); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"worker", "bridge", "sandbox", "codec-server", "starter"} {
		if !builtBinaries(df)[want] {
			t.Errorf("the image lacks %s", want)
		}
	}
}

func TestDockerfileRejectsBrokenBuilds(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	good := expandArgs(string(b))
	tests := []struct {
		name, old, new, want string
	}{
		{"missing command", "./cmd/starter", "./cmd/starter ./cmd/nope", "cmd/nope"},
		{"root final stage", "USER nonroot:nonroot", "USER root", "runs as"},
		{"no USER", "USER nonroot:nonroot", "", "no USER"},
		{"entrypoint", "EXPOSE 8080 8081", "ENTRYPOINT [\"/usr/local/bin/worker\"]", "ENTRYPOINT"},
		{"latest base", "static-debian12:nonroot", "static-debian12:latest", "latest"},
		{"untagged builder", "FROM golang:1.26 AS build", "FROM golang AS build", "no tag"},
		{"cgo on", "CGO_ENABLED=0 ", "", "CGO_ENABLED=0"},
		{"single stage", "FROM golang:1.26 AS build", "", "before the first FROM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(good, tt.old) {
				t.Fatalf("the Dockerfile no longer contains %q: update this case", tt.old)
			}
			df, err := parseDockerfile(strings.Replace(good, tt.old, tt.new, 1))
			if err == nil {
				err = checkDockerfile(df, repoRoot)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			t.Logf("rejected as expected: %v", err)
		})
	}
}

func TestIsMainPackage(t *testing.T) {
	tests := []struct {
		dir  string
		want string // "" for no error
	}{
		{"cmd/worker", ""},
		{"config", "not main"},
		{"cmd/nope", "no Go files"},
	}
	for _, tt := range tests {
		err := isMainPackage(filepath.Join(repoRoot, tt.dir))
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("isMainPackage(%s) = %v, want %q", tt.dir, err, tt.want)
		}
	}
}
