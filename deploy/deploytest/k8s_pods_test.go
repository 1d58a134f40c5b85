package deploytest

import (
	"fmt"
	"net"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// checkDeployment checks one Deployment and its containers.
func checkDeployment(b *bundle, d *appsv1.Deployment, c contract, binaries map[string]bool, bounds map[string]time.Duration) []error {
	id := "Deployment/" + d.Name
	var errs []error
	if d.Spec.Replicas == nil {
		errs = append(errs, fmt.Errorf("%s: set replicas explicitly", id))
	}
	if sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err != nil || sel.Empty() {
		errs = append(errs, fmt.Errorf("%s: invalid or empty selector: %v", id, err))
	} else if !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		errs = append(errs, fmt.Errorf("%s: selector %s does not match its pod template labels %v", id, sel, d.Spec.Template.Labels))
	}
	pod := d.Spec.Template.Spec
	podNonRoot := pod.SecurityContext != nil && pod.SecurityContext.RunAsNonRoot != nil && *pod.SecurityContext.RunAsNonRoot
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if pod.TerminationGracePeriodSeconds != nil {
		grace = *pod.TerminationGracePeriodSeconds
	}
	if len(pod.Containers) == 0 {
		errs = append(errs, fmt.Errorf("%s: no containers", id))
	}
	for _, ct := range pod.Containers {
		cid := id + " container " + ct.Name
		if err := checkPinned(ct.Image); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", cid, err))
		}
		bin := binaryOf(ct.Command)
		switch {
		case len(ct.Command) == 0:
			errs = append(errs, fmt.Errorf("%s: names no command; the image has no entrypoint (set %s<binary>)", cid, binDir))
			continue
		case bin == "" || !binaries[bin]:
			errs = append(errs, fmt.Errorf("%s: runs %s, which the Dockerfile does not build into %s", cid, ct.Command[0], binDir))
			continue
		}
		errs = append(errs, checkContainerEnv(b, cid, bin, ct, c)...)
		errs = append(errs, checkContainerSecurity(cid, ct, podNonRoot)...)
		if ct.Resources.Requests.Cpu().IsZero() || ct.Resources.Requests.Memory().IsZero() || ct.Resources.Limits.Memory().IsZero() {
			errs = append(errs, fmt.Errorf("%s: set cpu and memory requests and a memory limit", cid))
		}
		var preStop int64
		if ct.Lifecycle != nil && ct.Lifecycle.PreStop != nil && ct.Lifecycle.PreStop.Sleep != nil {
			preStop = ct.Lifecycle.PreStop.Sleep.Seconds
		}
		if need := time.Duration(preStop)*time.Second + bounds[bin] + shutdownMargin; time.Duration(grace)*time.Second < need {
			errs = append(errs, fmt.Errorf("%s: terminationGracePeriodSeconds %d is shorter than preStop %ds + %s's own shutdown %s + %s", cid, grace, preStop, bin, bounds[bin], shutdownMargin))
		}
		if bin == "bridge" {
			errs = append(errs, checkBridgePod(b, d, ct)...)
		}
	}
	return errs
}

// checkContainerEnv: every name is one the binary reads, secrets come from
// Secrets, and every reference resolves.
func checkContainerEnv(b *bundle, cid, bin string, ct corev1.Container, c contract) []error {
	var errs []error
	for _, ef := range ct.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil && b.configMap(ef.ConfigMapRef.Name) == nil:
			errs = append(errs, fmt.Errorf("%s: envFrom ConfigMap %s does not exist", cid, ef.ConfigMapRef.Name))
		case ef.SecretRef != nil:
			if _, ok := b.secretKeys(ef.SecretRef.Name); !ok {
				errs = append(errs, fmt.Errorf("%s: envFrom Secret %s has no example", cid, ef.SecretRef.Name))
			}
		}
	}
	_, names := b.containerEnv(ct)
	for _, n := range names {
		if err := c.checkEnvName(bin, n); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", cid, err))
		}
	}
	for _, e := range ct.Env {
		if c.secrets[e.Name] && e.ValueFrom == nil {
			errs = append(errs, fmt.Errorf("%s: the secret %s is written literally: take it from a secretKeyRef", cid, e.Name))
		}
		if e.ValueFrom == nil {
			continue
		}
		if ref := e.ValueFrom.SecretKeyRef; ref != nil {
			keys, ok := b.secretKeys(ref.Name)
			optional := ref.Optional != nil && *ref.Optional
			if !ok || (!keys[ref.Key] && !optional) {
				errs = append(errs, fmt.Errorf("%s: %s takes key %s of Secret %s, which the example Secret lacks", cid, e.Name, ref.Key, ref.Name))
			}
		}
		if ref := e.ValueFrom.ConfigMapKeyRef; ref != nil {
			cm := b.configMap(ref.Name)
			if _, ok := cm.Data[ref.Key]; cm == nil || !ok {
				errs = append(errs, fmt.Errorf("%s: %s takes key %s of ConfigMap %s, which does not exist", cid, e.Name, ref.Key, ref.Name))
			}
		}
	}
	return errs
}

// checkContainerSecurity enforces the "restricted" Pod Security Standard's
// container rules and a read-only root filesystem.
func checkContainerSecurity(cid string, ct corev1.Container, podNonRoot bool) []error {
	var errs []error
	sc := ct.SecurityContext
	if sc == nil {
		return []error{fmt.Errorf("%s: no securityContext", cid)}
	}
	if nonRoot := podNonRoot; sc.RunAsNonRoot != nil {
		if !*sc.RunAsNonRoot {
			errs = append(errs, fmt.Errorf("%s: runAsNonRoot is false", cid))
		}
	} else if !nonRoot {
		errs = append(errs, fmt.Errorf("%s: set runAsNonRoot: true (pod or container)", cid))
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		errs = append(errs, fmt.Errorf("%s: set readOnlyRootFilesystem: true", cid))
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		errs = append(errs, fmt.Errorf("%s: set allowPrivilegeEscalation: false", cid))
	}
	dropsAll := false
	if sc.Capabilities != nil {
		for _, c := range sc.Capabilities.Drop {
			dropsAll = dropsAll || c == "ALL"
		}
	}
	if !dropsAll {
		errs = append(errs, fmt.Errorf("%s: drop ALL capabilities", cid))
	}
	return errs
}

// checkBridgePod: the bridge listens on all interfaces on a declared port,
// its probes and scrape annotations hit that port.
func checkBridgePod(b *bundle, d *appsv1.Deployment, ct corev1.Container) []error {
	cid := "Deployment/" + d.Name + " container " + ct.Name
	values, _ := b.containerEnv(ct)
	addr, ok := values["WEBHOOK_LISTEN_ADDR"]
	if !ok {
		return []error{fmt.Errorf("%s: set WEBHOOK_LISTEN_ADDR (its default is loopback, unreachable by probes and the Service)", cid)}
	}
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return []error{fmt.Errorf("%s: WEBHOOK_LISTEN_ADDR %q: %w", cid, addr, err)}
	}
	var errs []error
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		errs = append(errs, fmt.Errorf("%s: WEBHOOK_LISTEN_ADDR %q must listen on all interfaces (0.0.0.0)", cid, addr))
	}
	port, err := strconv.ParseInt(portText, 10, 32)
	if err != nil || !hasContainerPort(ct, int32(port)) {
		errs = append(errs, fmt.Errorf("%s: WEBHOOK_LISTEN_ADDR port %s is not a containerPort", cid, portText))
	}
	probes := []struct {
		kind, path string
		p          *corev1.Probe
	}{{"readinessProbe", "/readyz", ct.ReadinessProbe}, {"livenessProbe", "/healthz", ct.LivenessProbe}}
	for _, pr := range probes {
		if pr.p == nil || pr.p.HTTPGet == nil || pr.p.HTTPGet.Path != pr.path {
			errs = append(errs, fmt.Errorf("%s: %s must be httpGet %s", cid, pr.kind, pr.path))
			continue
		}
		if got, ok := resolvePort(ct, pr.p.HTTPGet.Port); !ok || int64(got) != port {
			errs = append(errs, fmt.Errorf("%s: %s %s hits port %s, not the listen port %d", cid, pr.kind, pr.path, pr.p.HTTPGet.Port.String(), port))
		}
	}
	a := d.Spec.Template.Annotations
	if a["prometheus.io/scrape"] != "true" || a["prometheus.io/path"] != "/metrics" || a["prometheus.io/port"] != portText {
		errs = append(errs, fmt.Errorf("%s: pod annotations prometheus.io/scrape \"true\", prometheus.io/path /metrics and prometheus.io/port %q expected, got %v", cid, portText, a))
	}
	return errs
}

// hasContainerPort reports whether ct declares port.
func hasContainerPort(ct corev1.Container, port int32) bool {
	for _, p := range ct.Ports {
		if p.ContainerPort == port {
			return true
		}
	}
	return false
}

// resolvePort turns a named or numbered port into a declared containerPort.
func resolvePort(ct corev1.Container, p intstr.IntOrString) (int32, bool) {
	for _, cp := range ct.Ports {
		if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
			return cp.ContainerPort, true
		}
	}
	return 0, false
}

// selected lists the Deployments whose pods sel matches.
func (b *bundle) selected(sel labels.Selector) []*appsv1.Deployment {
	var out []*appsv1.Deployment
	for _, d := range b.deployments {
		if !sel.Empty() && sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			out = append(out, d)
		}
	}
	return out
}
