package deploytest

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// checkServices: each Service selects pods, on ports they declare.
func checkServices(b *bundle) []error {
	var errs []error
	for _, s := range b.services {
		ds := b.selected(labels.SelectorFromSet(s.Spec.Selector))
		if len(ds) == 0 {
			errs = append(errs, fmt.Errorf("Service/%s: selector %v selects no Deployment's pods", s.Name, s.Spec.Selector))
			continue
		}
		for _, p := range s.Spec.Ports {
			target := p.TargetPort
			if target.Type == intstr.Int && target.IntVal == 0 {
				target = intstr.FromInt32(p.Port)
			}
			for _, d := range ds {
				found := false
				for _, ct := range d.Spec.Template.Spec.Containers {
					_, ok := resolvePort(ct, target)
					found = found || ok
				}
				if !found {
					errs = append(errs, fmt.Errorf("Service/%s: port %d targetPort %s is not a container port of Deployment/%s", s.Name, p.Port, target.String(), d.Name))
				}
			}
		}
	}
	return errs
}

// deployment returns the Deployment called name.
func (b *bundle) deployment(name string) *appsv1.Deployment {
	for _, d := range b.deployments {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// checkHPAs: each scales an existing Deployment within sane bounds, and a
// CPU utilization target has CPU requests to measure against.
func checkHPAs(b *bundle) []error {
	var errs []error
	for _, h := range b.hpas {
		id := "HorizontalPodAutoscaler/" + h.Name
		ref := h.Spec.ScaleTargetRef
		d := b.deployment(ref.Name)
		if ref.Kind != "Deployment" || ref.APIVersion != "apps/v1" || d == nil {
			errs = append(errs, fmt.Errorf("%s: scales %s %s/%s, which is not a Deployment here", id, ref.APIVersion, ref.Kind, ref.Name))
			continue
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 1 || *h.Spec.MinReplicas > h.Spec.MaxReplicas {
			errs = append(errs, fmt.Errorf("%s: want 1 <= minReplicas <= maxReplicas (%d)", id, h.Spec.MaxReplicas))
		}
		for _, m := range h.Spec.Metrics {
			if m.Resource == nil || m.Resource.Name != corev1.ResourceCPU {
				continue
			}
			for _, ct := range d.Spec.Template.Spec.Containers {
				if ct.Resources.Requests.Cpu().IsZero() {
					errs = append(errs, fmt.Errorf("%s: scales on CPU but container %s of Deployment/%s has no cpu request", id, ct.Name, d.Name))
				}
			}
		}
	}
	return errs
}

// minReplicas is the fewest pods a Deployment runs: its HPA's minimum, or
// its replicas.
func (b *bundle) minReplicas(d *appsv1.Deployment) int32 {
	for _, h := range b.hpas {
		if h.Spec.ScaleTargetRef.Name == d.Name && h.Spec.MinReplicas != nil {
			return *h.Spec.MinReplicas
		}
	}
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

// checkPDBs: each selects a Deployment's pods and still lets a drain evict
// one of them.
func checkPDBs(b *bundle) []error {
	var errs []error
	for _, p := range b.pdbs {
		id := "PodDisruptionBudget/" + p.Name
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: selector: %w", id, err))
			continue
		}
		ds := b.selected(sel)
		if len(ds) == 0 {
			errs = append(errs, fmt.Errorf("%s: selector %s selects no Deployment's pods", id, sel))
		}
		for _, d := range ds {
			if p.Spec.MinAvailable != nil && p.Spec.MinAvailable.Type == intstr.Int && p.Spec.MinAvailable.IntVal >= b.minReplicas(d) {
				errs = append(errs, fmt.Errorf("%s: minAvailable %d with Deployment/%s down to %d replicas would block every drain", id, p.Spec.MinAvailable.IntVal, d.Name, b.minReplicas(d)))
			}
		}
	}
	return errs
}

// checkComponents: the worker and the bridge run highly available, and the
// bridge is reachable through a Service.
func checkComponents(b *bundle) []error {
	var errs []error
	for _, bin := range []string{"worker", "bridge"} {
		var d *appsv1.Deployment
		for _, dd := range b.deployments {
			for _, ct := range dd.Spec.Template.Spec.Containers {
				if binaryOf(ct.Command) == bin {
					d = dd
				}
			}
		}
		if d == nil {
			errs = append(errs, fmt.Errorf("no Deployment runs the %s", bin))
			continue
		}
		if b.minReplicas(d) < 2 {
			errs = append(errs, fmt.Errorf("Deployment/%s: the %s needs at least 2 replicas", d.Name, bin))
		}
		hasHPA := false
		for _, h := range b.hpas {
			hasHPA = hasHPA || h.Spec.ScaleTargetRef.Name == d.Name
		}
		hasPDB := false
		for _, p := range b.pdbs {
			if sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector); err == nil && !sel.Empty() && sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				hasPDB = true
			}
		}
		if !hasHPA || !hasPDB {
			errs = append(errs, fmt.Errorf("Deployment/%s: the %s needs a HorizontalPodAutoscaler and a PodDisruptionBudget", d.Name, bin))
		}
		if bin == "bridge" {
			exposed := false
			for _, s := range b.services {
				for _, sd := range b.selected(labels.SelectorFromSet(s.Spec.Selector)) {
					exposed = exposed || sd == d
				}
			}
			if !exposed {
				errs = append(errs, fmt.Errorf("Deployment/%s: no Service selects the bridge", d.Name))
			}
		}
	}
	return errs
}
