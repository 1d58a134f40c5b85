package deploytest

import (
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// shutdownMargin is added to a process's own shutdown bound before
// Kubernetes may kill it: exiting, closing clients and flushing logs.
const shutdownMargin = 5 * time.Second

// checkBundle runs every semantic check and returns all problems at once.
func checkBundle(b *bundle, c contract, binaries map[string]bool) error {
	bounds, err := shutdownBounds()
	if err != nil {
		return err
	}
	dialers, err := temporalDialers()
	if err != nil {
		return err
	}
	errs := checkKustomization(b)
	errs = append(errs, checkMetadata(b)...)
	errs = append(errs, checkConfigAndSecrets(b, c)...)
	for _, d := range b.deployments {
		errs = append(errs, checkDeployment(b, d, c, binaries, bounds)...)
	}
	errs = append(errs, checkServices(b)...)
	errs = append(errs, checkHPAs(b)...)
	errs = append(errs, checkPDBs(b)...)
	errs = append(errs, checkComponents(b)...)
	errs = append(errs, checkK8sTemporalTLS(b, dialers)...)
	return errors.Join(errs...)
}

// checkKustomization: every manifest is listed and only existing ones; the
// example Secret never is, so an apply cannot overwrite the real one.
func checkKustomization(b *bundle) []error {
	var errs []error
	exists := map[string]bool{}
	for _, f := range b.files {
		exists[f] = true
	}
	listed := map[string]bool{}
	for _, r := range b.kustomization.Resources {
		switch {
		case listed[r]:
			errs = append(errs, fmt.Errorf("kustomization.yaml lists %s twice", r))
		case strings.HasSuffix(r, ".example.yaml"):
			errs = append(errs, fmt.Errorf("kustomization.yaml lists %s: an example must never be applied", r))
		case !exists[r]:
			errs = append(errs, fmt.Errorf("kustomization.yaml lists %s, which does not exist", r))
		}
		listed[r] = true
	}
	for _, f := range b.files {
		if !listed[f] && !strings.HasSuffix(f, ".example.yaml") {
			errs = append(errs, fmt.Errorf("%s is not listed in kustomization.yaml", f))
		}
	}
	for key, file := range b.objectFiles {
		if strings.HasPrefix(key, "Secret/") && !strings.HasSuffix(file, ".example.yaml") {
			errs = append(errs, fmt.Errorf("%s is in %s: a Secret belongs in a *.example.yaml file with placeholders, the real one outside the repository", key, file))
		}
	}
	return errs
}

// object is any decoded object's kind and metadata.
type object struct {
	kind string
	meta metav1.ObjectMeta
}

// objects lists every object of the bundle.
func (b *bundle) objects() []object {
	var out []object
	for _, o := range b.namespaces {
		out = append(out, object{"Namespace", o.ObjectMeta})
	}
	for _, o := range b.configMaps {
		out = append(out, object{"ConfigMap", o.ObjectMeta})
	}
	for _, o := range b.secrets {
		out = append(out, object{"Secret", o.ObjectMeta})
	}
	for _, o := range b.services {
		out = append(out, object{"Service", o.ObjectMeta})
	}
	for _, o := range b.deployments {
		out = append(out, object{"Deployment", o.ObjectMeta})
	}
	for _, o := range b.hpas {
		out = append(out, object{"HorizontalPodAutoscaler", o.ObjectMeta})
	}
	for _, o := range b.pdbs {
		out = append(out, object{"PodDisruptionBudget", o.ObjectMeta})
	}
	return out
}

// checkMetadata validates names and labels as the API server would, and
// leaves namespaces to kustomization.yaml.
func checkMetadata(b *bundle) []error {
	var errs []error
	for _, o := range b.objects() {
		id := o.kind + "/" + o.meta.Name
		check := validation.IsDNS1123Subdomain
		if o.kind == "Service" || o.kind == "Namespace" {
			check = validation.IsDNS1123Label
		}
		for _, msg := range check(o.meta.Name) {
			errs = append(errs, fmt.Errorf("%s: name %q: %s", id, o.meta.Name, msg))
		}
		if ns := o.meta.Namespace; ns != "" && ns != b.kustomization.Namespace {
			errs = append(errs, fmt.Errorf("%s: namespace %q differs from kustomization.yaml's %q", id, ns, b.kustomization.Namespace))
		}
		errs = append(errs, checkLabels(id, o.meta.Labels)...)
	}
	for _, d := range b.deployments {
		errs = append(errs, checkLabels("Deployment/"+d.Name+" pod template", d.Spec.Template.Labels)...)
	}
	if ns := b.kustomization.Namespace; ns != "" {
		for _, msg := range validation.IsDNS1123Label(ns) {
			errs = append(errs, fmt.Errorf("kustomization.yaml: namespace %q: %s", ns, msg))
		}
	}
	return errs
}

// checkLabels validates label keys and values.
func checkLabels(id string, l map[string]string) []error {
	var errs []error
	for _, k := range sortedKeys(l) {
		for _, msg := range validation.IsQualifiedName(k) {
			errs = append(errs, fmt.Errorf("%s: label key %q: %s", id, k, msg))
		}
		for _, msg := range validation.IsValidLabelValue(l[k]) {
			errs = append(errs, fmt.Errorf("%s: label %s value %q: %s", id, k, l[k], msg))
		}
	}
	return errs
}

// checkConfigAndSecrets: no secret in a ConfigMap; the example Secret holds
// placeholders only.
func checkConfigAndSecrets(b *bundle, c contract) []error {
	var errs []error
	for _, cm := range b.configMaps {
		for _, k := range sortedKeys(cm.Data) {
			if c.secrets[k] {
				errs = append(errs, fmt.Errorf("ConfigMap/%s holds the secret %s: put it in the Secret", cm.Name, k))
			}
		}
	}
	for _, s := range b.secrets {
		for k, v := range s.StringData {
			if !strings.Contains(v, "CHANGE_ME") {
				errs = append(errs, fmt.Errorf("Secret/%s: %s is not a CHANGE_ME placeholder", s.Name, k))
			}
		}
		if len(s.Data) > 0 {
			errs = append(errs, fmt.Errorf("Secret/%s: use stringData placeholders, not data", s.Name))
		}
	}
	return errs
}

// secretKeys are the keys of the Secret called name, if the bundle has it.
func (b *bundle) secretKeys(name string) (map[string]bool, bool) {
	for _, s := range b.secrets {
		if s.Name == name {
			keys := map[string]bool{}
			for k := range s.StringData {
				keys[k] = true
			}
			for k := range s.Data {
				keys[k] = true
			}
			return keys, true
		}
	}
	return nil, false
}

// configMap returns the ConfigMap called name.
func (b *bundle) configMap(name string) *corev1.ConfigMap {
	for _, cm := range b.configMaps {
		if cm.Name == name {
			return cm
		}
	}
	return nil
}

// containerEnv is a container's environment: literal values (env and
// ConfigMaps) by name, and every name set, however.
func (b *bundle) containerEnv(ct corev1.Container) (values map[string]string, names []string) {
	values = map[string]string{}
	for _, ef := range ct.EnvFrom {
		if ef.ConfigMapRef != nil {
			if cm := b.configMap(ef.ConfigMapRef.Name); cm != nil {
				for k, v := range cm.Data {
					values[ef.Prefix+k], names = v, append(names, ef.Prefix+k)
				}
			}
		}
		if ef.SecretRef != nil {
			keys, _ := b.secretKeys(ef.SecretRef.Name)
			for k := range keys {
				names = append(names, ef.Prefix+k)
			}
		}
	}
	for _, e := range ct.Env {
		names = append(names, e.Name)
		if e.ValueFrom == nil {
			values[e.Name] = e.Value
		}
	}
	return values, names
}
