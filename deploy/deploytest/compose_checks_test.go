package deploytest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/workflows"
	"github.com/compose-spec/compose-go/v2/types"
)

// env is a service's variable, "" when unset.
func env(s types.ServiceConfig, name string) string {
	if v := s.Environment[name]; v != nil {
		return *v
	}
	return ""
}

// checkComposeServices: required services, dependencies, pinned images, and
// for the product's services the binary, its environment and its grace.
func checkComposeServices(p *types.Project, c contract, binaries map[string]bool, bounds map[string]time.Duration) []error {
	var errs []error
	all := p.AllServices()
	for _, name := range composeServices {
		if _, ok := all[name]; !ok {
			errs = append(errs, fmt.Errorf("compose: service %s is missing", name))
		}
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		return append(errs, err)
	}
	for _, name := range sortedKeys(all) {
		s := all[name]
		id := "compose: service " + name
		if err := checkPinned(s.Image); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", id, err))
		}
		for _, dep := range sortedKeys(s.DependsOn) {
			errs = append(errs, checkDependency(all, id, dep, s.DependsOn[dep].Condition)...)
		}
		if s.Build == nil {
			continue
		}
		if s.Build.Context != root {
			errs = append(errs, fmt.Errorf("%s: builds from %s, not the repository root", id, s.Build.Context))
		} else if _, err := os.Stat(filepath.Join(s.Build.Context, s.Build.Dockerfile)); err != nil {
			errs = append(errs, fmt.Errorf("%s: dockerfile: %w", id, err))
		}
		cmd := []string(s.Entrypoint)
		if len(cmd) == 0 {
			cmd = s.Command
		}
		bin := binaryOf(cmd)
		if !binaries[bin] {
			errs = append(errs, fmt.Errorf("%s: runs %v, which is not a binary the Dockerfile builds into %s", id, cmd, binDir))
			continue
		}
		for _, n := range sortedKeys(s.Environment) {
			if err := c.checkEnvName(bin, n); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", id, err))
			}
		}
		if !s.ReadOnly {
			errs = append(errs, fmt.Errorf("%s: set read_only: true", id))
		}
		grace := composeDefaultStopGrace
		if s.StopGracePeriod != nil {
			grace = time.Duration(*s.StopGracePeriod)
		}
		if need := bounds[bin] + shutdownMargin; bounds[bin] > 0 && grace < need {
			errs = append(errs, fmt.Errorf("%s: stop_grace_period %s is shorter than the %s's own shutdown %s + %s", id, grace, bin, bounds[bin], shutdownMargin))
		}
		if addr := env(s, "TEMPORAL_ADDRESS"); addr != "" {
			if host, port, err := net.SplitHostPort(addr); err != nil || all[host].Name == "" || port != "7233" {
				errs = append(errs, fmt.Errorf("%s: TEMPORAL_ADDRESS %q is not a service's port 7233", id, addr))
			}
		}
		errs = append(errs, checkComposeApp(all, id, bin, s)...)
	}
	return errs
}

// checkDependency: the target exists and can meet the condition.
func checkDependency(all types.Services, id, dep, condition string) []error {
	target, ok := all[dep]
	if !ok {
		return []error{fmt.Errorf("%s: depends on %s, which does not exist", id, dep)}
	}
	switch condition {
	case types.ServiceConditionHealthy:
		if target.HealthCheck == nil || target.HealthCheck.Disable || len(target.HealthCheck.Test) == 0 {
			return []error{fmt.Errorf("%s: waits for %s to be healthy, but %s has no healthcheck", id, dep, dep)}
		}
	case types.ServiceConditionCompletedSuccessfully:
		if r := target.Restart; r != "" && r != types.RestartPolicyNo && !strings.HasPrefix(r, types.RestartPolicyOnFailure) {
			return []error{fmt.Errorf("%s: waits for %s to complete, but %s restarts %q", id, dep, dep, r)}
		}
	}
	return nil
}

// checkComposeApp holds the per-binary rules.
func checkComposeApp(all types.Services, id, bin string, s types.ServiceConfig) []error {
	var errs []error
	switch bin {
	case "worker":
		if s.Deploy == nil || s.Deploy.Replicas == nil || *s.Deploy.Replicas < 2 {
			errs = append(errs, fmt.Errorf("%s: want deploy.replicas >= 2", id))
		}
		// The DSN itself is not printed: it holds a password.
		u, err := url.Parse(env(s, "STORE_DSN"))
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || imageRepository(all[u.Hostname()].Image) != "postgres" || u.Path != "/belvo" {
			errs = append(errs, fmt.Errorf("%s: STORE_DSN must be postgres://…@<the PostgreSQL service>:5432/belvo", id))
		}
	case "bridge":
		if env(s, "WEBHOOK_LISTEN_ADDR") == "" {
			return append(errs, fmt.Errorf("%s: set WEBHOOK_LISTEN_ADDR (its default is loopback, unreachable from outside the container)", id))
		}
		host, port, err := net.SplitHostPort(env(s, "WEBHOOK_LISTEN_ADDR"))
		if ip := net.ParseIP(host); err != nil || (host != "" && (ip == nil || !ip.IsUnspecified())) {
			errs = append(errs, fmt.Errorf("%s: WEBHOOK_LISTEN_ADDR %q must listen on all interfaces", id, env(s, "WEBHOOK_LISTEN_ADDR")))
		}
		published := false
		for _, p := range s.Ports {
			published = published || strconv.Itoa(int(p.Target)) == port
		}
		if !published {
			errs = append(errs, fmt.Errorf("%s: the listen port %s is not published: Belvo cannot post webhooks", id, port))
		}
	}
	return errs
}

// checkComposeSecretsInterpolated reads the file before interpolation: a
// secret's value must come from the env file, never be written here.
func checkComposeSecretsInterpolated(raw *types.Project, c contract) []error {
	secret := map[string]bool{}
	for k := range c.secrets {
		secret[k] = true
	}
	for _, k := range composeSecrets {
		secret[k] = true
	}
	var errs []error
	all := raw.AllServices()
	for _, name := range sortedKeys(all) {
		for _, k := range sortedKeys(all[name].Environment) {
			if v := all[name].Environment[k]; secret[k] && v != nil && !strings.Contains(*v, "${") {
				errs = append(errs, fmt.Errorf("compose: service %s writes the secret %s literally: interpolate it from secrets.env", name, k))
			}
		}
	}
	return errs
}

// checkComposeTemporal: Temporal keeps persistence and visibility on the
// PostgreSQL service, and the UI reaches it and the codec server.
func checkComposeTemporal(p *types.Project) []error {
	var errs []error
	all := p.AllServices()
	t, ui, codec := all["temporal"], all["temporal-ui"], all["codec-server"]
	if t.Name == "" || ui.Name == "" || codec.Name == "" {
		return nil // reported as missing services
	}
	if !strings.HasPrefix(t.Image, "temporalio/auto-setup:") || env(t, "DB") != "postgres12" || env(t, "ENABLE_ES") == "true" {
		errs = append(errs, errors.New("compose: temporal must be temporalio/auto-setup with DB=postgres12 and no Elasticsearch, so persistence and visibility are both on PostgreSQL"))
	}
	if seed := env(t, "POSTGRES_SEEDS"); all[seed].Name == "" || imageRepository(all[seed].Image) != "postgres" {
		errs = append(errs, fmt.Errorf("compose: temporal's POSTGRES_SEEDS %q is not the PostgreSQL service", seed))
	}
	if env(ui, "TEMPORAL_ADDRESS") != "temporal:7233" {
		errs = append(errs, fmt.Errorf("compose: temporal-ui's TEMPORAL_ADDRESS is %q, want temporal:7233", env(ui, "TEMPORAL_ADDRESS")))
	}
	u, err := url.Parse(env(ui, "TEMPORAL_CODEC_ENDPOINT"))
	_, codecPort, perr := net.SplitHostPort(env(codec, "CODEC_LISTEN_ADDR"))
	if err != nil || perr != nil || u.Port() != codecPort {
		errs = append(errs, fmt.Errorf("compose: temporal-ui's TEMPORAL_CODEC_ENDPOINT %q does not reach the codec server's CODEC_LISTEN_ADDR %q", env(ui, "TEMPORAL_CODEC_ENDPOINT"), env(codec, "CODEC_LISTEN_ADDR")))
	}
	return errs
}

// imageRepository is "postgres" for docker.io/library/postgres:16.
func imageRepository(image string) string {
	repo, _, _ := strings.Cut(image, "@")
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	return path.Base(repo)
}

// checkComposeSearchAttributes: the one-shot registers every search
// attribute the workflows use, with the type it registers.
func checkComposeSearchAttributes(p *types.Project) []error {
	s, ok := p.AllServices()["temporal-search-attributes"]
	if !ok {
		return nil // reported as a missing service
	}
	text := strings.Join(append(append([]string{}, s.Entrypoint...), s.Command...), " ")
	for _, k := range sortedKeys(s.Environment) {
		text += " " + env(s, k)
	}
	var errs []error
	if !strings.Contains(text, "search-attribute create") || !strings.Contains(text, "--type") {
		errs = append(errs, errors.New("compose: temporal-search-attributes does not run `temporal operator search-attribute create … --type …`"))
	}
	for _, k := range workflows.SearchAttributes() {
		// Registered as name=type, with the type the code declares.
		pair := k.GetName() + "=" + workflows.SearchAttributeType(k)
		if !regexp.MustCompile(`(^|\s)` + regexp.QuoteMeta(pair) + `(\s|$)`).MatchString(text) {
			errs = append(errs, fmt.Errorf("compose: temporal-search-attributes does not register %s", pair))
		}
	}
	return errs
}
