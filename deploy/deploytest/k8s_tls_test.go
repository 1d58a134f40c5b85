package deploytest

import (
	"fmt"
	"path"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// k8sClientFiles are envconfig's variables of the client TLS files, the
// key of a kubernetes.io/tls Secret (cert-manager's layout) each must be
// ("" for any key of the mounted Secret), and whether a pod that dials
// Temporal without an API key needs it. The CA is optional: a publicly
// trusted frontend (Temporal Cloud) needs none.
var k8sClientFiles = []struct {
	name, key string
	required  bool
}{
	{"TEMPORAL_TLS_CLIENT_CERT_PATH", corev1.TLSCertKey, true},
	{"TEMPORAL_TLS_CLIENT_KEY_PATH", corev1.TLSPrivateKeyKey, true},
	{"TEMPORAL_TLS_SERVER_CA_CERT_PATH", "", false},
}

// defaultSecretMode is the mode of a Secret volume's files when the
// volume does not set one.
const defaultSecretMode = 0o644

// checkK8sTemporalTLS: no private key in a ConfigMap, no empty
// TEMPORAL_TLS_*, and every container whose command dials Temporal (found
// in the code) presents a client certificate from a Secret it mounts
// read-only and can read, unless it authenticates with TEMPORAL_API_KEY
// from a Secret instead; containers that do not dial mount no TLS Secret.
func checkK8sTemporalTLS(b *bundle, dialers map[string]bool) []error {
	var errs []error
	for _, cm := range b.configMaps {
		for _, k := range sortedKeys(cm.Data) {
			if strings.Contains(cm.Data[k], "PRIVATE KEY") {
				errs = append(errs, fmt.Errorf("ConfigMap/%s: %s holds a private key: keys belong in a Secret, mounted read-only", cm.Name, k))
			}
		}
	}
	for _, d := range b.deployments {
		for _, ct := range d.Spec.Template.Spec.Containers {
			cid := "Deployment/" + d.Name + " container " + ct.Name
			bin := binaryOf(ct.Command)
			values, _ := b.containerEnv(ct)
			for _, k := range sortedKeys(values) {
				if strings.HasPrefix(k, "TEMPORAL_TLS") && values[k] == "" {
					errs = append(errs, fmt.Errorf("%s: %s is empty: set it or leave it out (envconfig takes an empty one as set, and an empty TEMPORAL_TLS_* turns TLS on)", cid, k))
				}
			}
			if dialers[bin] {
				errs = append(errs, checkK8sClientTLS(b, d, ct, cid, bin, values)...)
				continue
			}
			for _, m := range ct.VolumeMounts {
				if s := b.mountedSecret(d, m); s != nil && s.Type == corev1.SecretTypeTLS {
					errs = append(errs, fmt.Errorf("%s: mounts the TLS Secret %s but %s does not connect to Temporal", cid, s.Name, bin))
				}
			}
		}
	}
	return errs
}

// checkK8sClientTLS checks one container that dials Temporal.
func checkK8sClientTLS(b *bundle, d *appsv1.Deployment, ct corev1.Container, cid, bin string, values map[string]string) []error {
	apiKey := false
	for _, e := range ct.Env {
		apiKey = apiKey || e.Name == "TEMPORAL_API_KEY" && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil
	}
	if _, cert := values["TEMPORAL_TLS_CLIENT_CERT_PATH"]; apiKey && !cert {
		return nil // Temporal Cloud with an API key: TLS without a client certificate
	}
	var errs []error
	if v, ok := values["TEMPORAL_TLS"]; ok && v != "" && v != "true" { // an empty one is reported by the caller
		errs = append(errs, fmt.Errorf("%s: TEMPORAL_TLS is %q: Temporal is reached over TLS, set it to true or leave it out", cid, v))
	}
	for _, f := range k8sClientFiles {
		p, ok := values[f.name]
		if !ok {
			if f.required {
				errs = append(errs, fmt.Errorf("%s: %s dials Temporal (found in the code) but %s is not set: name the file of a Secret the pod mounts (configmap.yaml), or authenticate with TEMPORAL_API_KEY from a Secret", cid, bin, f.name))
			}
			continue
		}
		s, key, err := b.secretFile(d, ct, p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", cid, f.name, err))
			continue
		}
		if f.key != "" && (s.Type != corev1.SecretTypeTLS || key != f.key) {
			errs = append(errs, fmt.Errorf("%s: %s names key %s of Secret %s (type %q), want key %s of a %s Secret (as cert-manager writes it)", cid, f.name, key, s.Name, s.Type, f.key, corev1.SecretTypeTLS))
		}
	}
	return errs
}

// mountedSecret is the example Secret behind a volume mount, or nil.
func (b *bundle) mountedSecret(d *appsv1.Deployment, m corev1.VolumeMount) *corev1.Secret {
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == m.Name && v.Secret != nil {
			return b.secret(v.Secret.SecretName)
		}
	}
	return nil
}

// secret returns the example Secret called name.
func (b *bundle) secret(name string) *corev1.Secret {
	for _, s := range b.secrets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// secretFile resolves a file path in container ct to the Secret and key
// it shows, checking that the mount is read-only, the Secret required and
// documented by an example, and the file readable by the pod's user.
func (b *bundle) secretFile(d *appsv1.Deployment, ct corev1.Container, p string) (*corev1.Secret, string, error) {
	if !path.IsAbs(p) || path.Clean(p) != p {
		return nil, "", fmt.Errorf("%q is not a clean absolute path", p)
	}
	var mount *corev1.VolumeMount
	for i, m := range ct.VolumeMounts {
		if m.SubPath == "" && strings.HasPrefix(p, strings.TrimSuffix(m.MountPath, "/")+"/") && (mount == nil || len(m.MountPath) > len(mount.MountPath)) {
			mount = &ct.VolumeMounts[i]
		}
	}
	if mount == nil {
		return nil, "", fmt.Errorf("%s is not inside a volume mount of the container", p)
	}
	if !mount.ReadOnly {
		return nil, "", fmt.Errorf("%s is in the mount %s of volume %s, which must be readOnly: true", p, mount.MountPath, mount.Name)
	}
	var vol *corev1.Volume
	pod := d.Spec.Template.Spec
	for i, v := range pod.Volumes {
		if v.Name == mount.Name {
			vol = &pod.Volumes[i]
		}
	}
	if vol == nil || vol.Secret == nil {
		return nil, "", fmt.Errorf("%s is in the mount %s, whose volume %s is not a Secret", p, mount.MountPath, mount.Name)
	}
	src := vol.Secret
	if src.Optional != nil && *src.Optional {
		return nil, "", fmt.Errorf("volume %s: Secret %s is optional: without it the pod would start and fail to connect; make it required", vol.Name, src.SecretName)
	}
	s := b.secret(src.SecretName)
	if s == nil {
		return nil, "", fmt.Errorf("volume %s mounts Secret %s, which has no example (*.example.yaml)", vol.Name, src.SecretName)
	}
	rel := strings.TrimPrefix(p, strings.TrimSuffix(mount.MountPath, "/")+"/")
	key, mode := rel, int32(defaultSecretMode)
	if src.DefaultMode != nil {
		mode = *src.DefaultMode
	}
	if len(src.Items) > 0 {
		key = ""
		for _, it := range src.Items {
			if it.Path == rel {
				key = it.Key
				if it.Mode != nil {
					mode = *it.Mode
				}
			}
		}
	}
	keys, _ := b.secretKeys(s.Name)
	if key == "" || !keys[key] {
		return nil, "", fmt.Errorf("%s is %s in Secret %s, which has no such key (its keys: %v)", p, rel, s.Name, sortedKeys(keys))
	}
	// The kubelet writes the files owned by root, group fsGroup if the pod
	// sets one; the containers run as a non-root user.
	fsGroup := pod.SecurityContext != nil && pod.SecurityContext.FSGroup != nil
	if mode&0o004 == 0 && (mode&0o040 == 0 || !fsGroup) {
		return nil, "", fmt.Errorf("%s: mode %04o lets the pod's non-root user read nothing: give the group read and set the pod's fsGroup", p, mode)
	}
	return s, key, nil
}

// The documented alternative for Temporal Cloud passes: the TLS files, the
// volume and its mount deleted, TEMPORAL_API_KEY from
// belvo-backbone-secrets (configmap.yaml, secret.example.yaml).
func TestKubernetesAcceptsTemporalCloudAPIKey(t *testing.T) {
	c, bins := fixtures(t)
	fsys := mapFS(t)
	edit := func(file, old, new string) {
		t.Helper()
		f := fsys[file]
		if f == nil || !strings.Contains(string(f.Data), old) {
			t.Fatalf("%s no longer contains %q: update this test", file, old)
		}
		f.Data = []byte(strings.Replace(string(f.Data), old, new, 1))
	}
	for _, v := range k8sClientFiles {
		cm := string(fsys["configmap.yaml"].Data)
		i := strings.Index(cm, "  "+v.name+": ")
		if i < 0 {
			t.Fatalf("configmap.yaml no longer sets %s: update this test", v.name)
		}
		edit("configmap.yaml", cm[i:i+strings.Index(cm[i:], "\n")+1], "")
	}
	edit("configmap.yaml", "  TEMPORAL_TLS_SERVER_NAME: temporal-frontend.temporal.svc.cluster.local\n", "")
	edit("secret.example.yaml", "stringData:\n", "stringData:\n  TEMPORAL_API_KEY: CHANGE_ME-temporal-api-key\n")
	const volume = "      volumes:\n        - name: temporal-tls\n          secret:\n            secretName: temporal-client-tls\n            defaultMode: 0440\n"
	const mount = "          volumeMounts:\n            - name: temporal-tls\n              mountPath: /etc/temporal/tls\n              readOnly: true\n"
	for _, f := range []string{"worker-deployment.yaml", "bridge-deployment.yaml"} {
		edit(f, volume, "")
		edit(f, mount, "")
		edit(f, "          env:\n", "          env:\n            - name: TEMPORAL_API_KEY\n              valueFrom:\n                secretKeyRef: {name: belvo-backbone-secrets, key: TEMPORAL_API_KEY}\n")
	}
	if err := validateK8s(fsys, c, bins); err != nil {
		t.Fatalf("the API-key setting is rejected: %v", err)
	}
	// The same without the API key is a pod that cannot authenticate.
	for _, f := range []string{"worker-deployment.yaml", "bridge-deployment.yaml"} {
		edit(f, "            - name: TEMPORAL_API_KEY\n              valueFrom:\n                secretKeyRef: {name: belvo-backbone-secrets, key: TEMPORAL_API_KEY}\n", "")
	}
	if err := validateK8s(fsys, c, bins); err == nil || !strings.Contains(err.Error(), "TEMPORAL_TLS_CLIENT_CERT_PATH is not set") {
		t.Fatalf("got %v, want the pods rejected for authenticating with nothing", err)
	}
}
