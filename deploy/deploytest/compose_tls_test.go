package deploytest

import (
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// composeTLSDir is where `go run ./deploy/certs` writes the set compose
// mounts (git-ignored).
const composeTLSDir = "deploy/compose/tls"

// secretsMount is where compose mounts a service's secrets.
const secretsMount = "/run/secrets"

// certsCommand is the command compose.yaml tells to run first; its
// -server-name is the name every client must verify.
var certsCommand = regexp.MustCompile(`go run \./deploy/certs -out (\S+) -server-name (\S+)`)

// temporalCLIImages carry the temporal CLI, which connects as a client
// (the healthcheck, auto-setup, the one-shot) with envconfig's variables.
var temporalCLIImages = map[string]bool{"auto-setup": true, "admin-tools": true}

// fileVar is a variable that must name one file of the certificate set.
type fileVar struct {
	name string
	file func(certRoles) string
}

// envconfigClientFiles are the client certificate variables of envconfig
// (the product's processes and the temporal CLI).
var envconfigClientFiles = []fileVar{
	{"TEMPORAL_TLS_CLIENT_CERT_PATH", func(r certRoles) string { return r.clientCert }},
	{"TEMPORAL_TLS_CLIENT_KEY_PATH", func(r certRoles) string { return r.clientKey }},
	{"TEMPORAL_TLS_SERVER_CA_CERT_PATH", func(r certRoles) string { return r.ca }},
}

// uiClientFiles are the same for the UI server, in its own variables.
var uiClientFiles = []fileVar{
	{"TEMPORAL_TLS_CERT", func(r certRoles) string { return r.clientCert }},
	{"TEMPORAL_TLS_KEY", func(r certRoles) string { return r.clientKey }},
	{"TEMPORAL_TLS_CA", func(r certRoles) string { return r.ca }},
}

// serverFiles are the temporalio/server image's TLS variables: the server
// certificate on the frontend and between the services, and the CA whose
// client certificates they accept.
var serverFiles = []fileVar{
	{"TEMPORAL_TLS_SERVER_CERT", func(r certRoles) string { return r.serverCert }},
	{"TEMPORAL_TLS_SERVER_KEY", func(r certRoles) string { return r.serverKey }},
	{"TEMPORAL_TLS_FRONTEND_CERT", func(r certRoles) string { return r.serverCert }},
	{"TEMPORAL_TLS_FRONTEND_KEY", func(r certRoles) string { return r.serverKey }},
	{"TEMPORAL_TLS_SERVER_CA_CERT", func(r certRoles) string { return r.ca }},
	{"TEMPORAL_TLS_CLIENT1_CA_CERT", func(r certRoles) string { return r.ca }},
}

// checkComposeTLS: Temporal requires client certificates; every service
// that connects to it (the product's commands that dial, found in the
// code, the temporal CLI's images and the UI) presents the client
// certificate, and every file is a compose secret from the set deploy/certs
// writes.
func checkComposeTLS(p *types.Project, content []byte, dialers map[string]bool, roles certRoles) []error {
	var errs []error
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		return []error{err}
	}
	tlsDir := filepath.Join(root, filepath.FromSlash(composeTLSDir))
	for _, name := range sortedKeys(p.Secrets) {
		f := p.Secrets[name].File
		if filepath.Dir(f) != tlsDir || !slices.Contains(roles.names(), filepath.Base(f)) {
			errs = append(errs, fmt.Errorf("compose: secret %s is %q, not one of %v in %s (what `go run ./deploy/certs` writes)", name, f, roles.names(), composeTLSDir))
		}
	}
	// The name every client verifies is the one the server certificate
	// carries: the -server-name compose.yaml tells deploy/certs.
	serverName := "<the -server-name of go run ./deploy/certs>"
	if m := certsCommand.FindSubmatch(content); m == nil {
		errs = append(errs, fmt.Errorf("compose: compose.yaml does not say to run `go run ./deploy/certs -out %s -server-name <name>` first", composeTLSDir))
	} else {
		serverName = string(m[2])
		if string(m[1]) != composeTLSDir {
			errs = append(errs, fmt.Errorf("compose: compose.yaml runs deploy/certs -out %s, but the secrets come from %s", m[1], composeTLSDir))
		}
	}
	all := p.AllServices()
	for _, name := range sortedKeys(all) {
		s := all[name]
		id := "compose: service " + name
		errs = append(errs, checkNoEmptyTLSVars(id, s)...)
		repo := imageRepository(s.Image)
		cmd := []string(s.Entrypoint)
		if len(cmd) == 0 {
			cmd = s.Command
		}
		client := s.Build != nil && dialers[binaryOf(cmd)] || temporalCLIImages[repo]
		switch repo {
		case "auto-setup":
			errs = append(errs, checkComposeTemporalServerTLS(p, id, s, roles, serverName)...)
		case "ui":
			errs = append(errs, checkFileVars(p, id, s, uiClientFiles, roles)...)
			errs = append(errs, wantEnv(id, s, "TEMPORAL_TLS_SERVER_NAME", serverName)...)
			errs = append(errs, wantEnv(id, s, "TEMPORAL_TLS_ENABLE_HOST_VERIFICATION", "true")...)
		}
		if client {
			errs = append(errs, checkFileVars(p, id, s, envconfigClientFiles, roles)...)
			errs = append(errs, wantEnv(id, s, "TEMPORAL_TLS_SERVER_NAME", serverName)...)
			// An empty or passed-through one is reported above.
			if v := s.Environment["TEMPORAL_TLS"]; v != nil && *v != "" && *v != "true" {
				errs = append(errs, fmt.Errorf("%s: TEMPORAL_TLS must be true or unset: the server requires TLS", id))
			}
		}
		// Least privilege: keys only where they are used.
		for _, f := range mountedFiles(p, s) {
			switch {
			case f == roles.serverKey && repo != "auto-setup":
				errs = append(errs, fmt.Errorf("%s: mounts the server key %s, which only the Temporal server needs", id, f))
			case f == roles.clientKey && !client && repo != "ui":
				errs = append(errs, fmt.Errorf("%s: mounts the client key %s but does not connect to Temporal", id, f))
			}
		}
	}
	return errs
}

// checkComposeTemporalServerTLS: the server's TLS variables name the set's
// files, require client certificates and verify each other by the name
// the server certificate carries.
func checkComposeTemporalServerTLS(p *types.Project, id string, s types.ServiceConfig, roles certRoles, serverName string) []error {
	errs := checkFileVars(p, id, s, serverFiles, roles)
	errs = append(errs, wantEnv(id, s, "TEMPORAL_TLS_REQUIRE_CLIENT_AUTH", "true")...)
	errs = append(errs, wantEnv(id, s, "TEMPORAL_TLS_INTERNODE_SERVER_NAME", serverName)...)
	errs = append(errs, wantEnv(id, s, "TEMPORAL_TLS_FRONTEND_SERVER_NAME", serverName)...)
	return errs
}

// checkNoEmptyTLSVars: envconfig takes a TEMPORAL_TLS_* that is present
// but empty as set (an empty one turns TLS on), and a value passed through
// from the calling shell is unknown here.
func checkNoEmptyTLSVars(id string, s types.ServiceConfig) []error {
	var errs []error
	for _, k := range sortedKeys(s.Environment) {
		if v := s.Environment[k]; strings.HasPrefix(k, "TEMPORAL_TLS") && (v == nil || *v == "") {
			errs = append(errs, fmt.Errorf("%s: %s is empty or passed through: set it or leave it out (envconfig takes an empty one as set)", id, k))
		}
	}
	return errs
}

// wantEnv reports a variable that is not exactly want.
func wantEnv(id string, s types.ServiceConfig, name, want string) []error {
	if got := env(s, name); got != want {
		return []error{fmt.Errorf("%s: %s is %q, want %q", id, name, got, want)}
	}
	return nil
}

// checkFileVars: each variable names, inside the container, the file of
// its role, mounted as a compose secret.
func checkFileVars(p *types.Project, id string, s types.ServiceConfig, vars []fileVar, roles certRoles) []error {
	var errs []error
	for _, v := range vars {
		want := v.file(roles)
		val := env(s, v.name)
		if val == "" {
			errs = append(errs, fmt.Errorf("%s: %s is not set: it must name the mounted secret of %s", id, v.name, want))
			continue
		}
		got, err := mountedFile(p, s, val)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", id, v.name, err))
			continue
		}
		if got != want {
			errs = append(errs, fmt.Errorf("%s: %s names %s, the secret of %s, want %s", id, v.name, val, got, want))
		}
	}
	return errs
}

// secretTarget is where a service's secret appears in its containers.
func secretTarget(sec types.ServiceSecretConfig) string {
	switch {
	case sec.Target == "":
		return path.Join(secretsMount, sec.Source)
	case path.IsAbs(sec.Target):
		return path.Clean(sec.Target)
	default:
		return path.Join(secretsMount, sec.Target)
	}
}

// mountedFile is the set's file a service sees at target, or why none.
func mountedFile(p *types.Project, s types.ServiceConfig, target string) (string, error) {
	for _, sec := range s.Secrets {
		if secretTarget(sec) != path.Clean(target) {
			continue
		}
		def, ok := p.Secrets[sec.Source]
		if !ok || def.File == "" {
			return "", fmt.Errorf("%s is the secret %s, which is not a file secret of compose.yaml", target, sec.Source)
		}
		return filepath.Base(def.File), nil
	}
	var mounted []string
	for _, sec := range s.Secrets {
		mounted = append(mounted, secretTarget(sec))
	}
	return "", fmt.Errorf("%s is not a secret the service mounts (it mounts %v)", target, mounted)
}

// mountedFiles are the set's files a service mounts.
func mountedFiles(p *types.Project, s types.ServiceConfig) []string {
	var out []string
	for _, sec := range s.Secrets {
		if f, err := mountedFile(p, s, secretTarget(sec)); err == nil {
			out = append(out, f)
		}
	}
	return out
}
