package deploytest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// k8sDir holds the Kubernetes manifests.
const k8sDir = "deploy/k8s"

// kustomization is the part of kustomize's file the manifests use; strict
// decoding rejects any other field, so adding one means extending this.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace,omitempty"`
	Resources  []string `json:"resources"`
}

// bundle is every object of deploy/k8s, typed.
type bundle struct {
	kustomization *kustomization
	files         []string // every *.yaml file but kustomization.yaml
	namespaces    []*corev1.Namespace
	configMaps    []*corev1.ConfigMap
	secrets       []*corev1.Secret
	services      []*corev1.Service
	deployments   []*appsv1.Deployment
	hpas          []*autoscalingv2.HorizontalPodAutoscaler
	pdbs          []*policyv1.PodDisruptionBudget
	// objectFiles maps "Kind/name" to the file that defines it.
	objectFiles map[string]string
}

// docSeparator splits a multi-document YAML file.
var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// splitDocuments returns the non-empty documents of a YAML stream (a
// document of comments only is empty).
func splitDocuments(b []byte) [][]byte {
	var docs [][]byte
	for _, d := range docSeparator.Split(string(b), -1) {
		empty := true
		for _, l := range strings.Split(d, "\n") {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
				empty = false
				break
			}
		}
		if !empty {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

// decodeObject decodes one document into the k8s.io/api type its apiVersion
// and kind name, strictly: unknown or duplicate fields are errors, and so is
// a kind this package does not know.
func decodeObject(doc []byte) (any, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return nil, fmt.Errorf("read apiVersion and kind: %w", err)
	}
	var obj any
	switch gvk := tm.APIVersion + ", Kind=" + tm.Kind; gvk {
	case "v1, Kind=Namespace":
		obj = &corev1.Namespace{}
	case "v1, Kind=ConfigMap":
		obj = &corev1.ConfigMap{}
	case "v1, Kind=Secret":
		obj = &corev1.Secret{}
	case "v1, Kind=Service":
		obj = &corev1.Service{}
	case "apps/v1, Kind=Deployment":
		obj = &appsv1.Deployment{}
	case "autoscaling/v2, Kind=HorizontalPodAutoscaler":
		obj = &autoscalingv2.HorizontalPodAutoscaler{}
	case "policy/v1, Kind=PodDisruptionBudget":
		obj = &policyv1.PodDisruptionBudget{}
	case "kustomize.config.k8s.io/v1beta1, Kind=Kustomization":
		obj = &kustomization{}
	default:
		return nil, fmt.Errorf("unknown kind %q (apiVersion %q): add it to decodeObject with its checks", tm.Kind, tm.APIVersion)
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return nil, fmt.Errorf("decode %s: %w", tm.Kind, err)
	}
	return obj, nil
}

// loadBundle decodes every *.yaml file of fsys.
func loadBundle(fsys fs.FS) (*bundle, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("k8s: list manifests: %w", err)
	}
	sort.Strings(names)
	b := &bundle{objectFiles: map[string]string{}}
	var errs []error
	for _, name := range names {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("k8s: %w", err)
		}
		if name != "kustomization.yaml" {
			b.files = append(b.files, name)
		}
		for i, doc := range splitDocuments(raw) {
			obj, err := decodeObject(doc)
			if err != nil {
				errs = append(errs, fmt.Errorf("k8s: %s document %d: %w", name, i+1, err))
				continue
			}
			if err := b.add(name, obj); err != nil {
				errs = append(errs, fmt.Errorf("k8s: %s: %w", name, err))
			}
		}
	}
	if b.kustomization == nil && len(errs) == 0 {
		errs = append(errs, errors.New("k8s: no kustomization.yaml"))
	}
	return b, errors.Join(errs...)
}

// add files obj under its kind, refusing two objects of one kind and name.
func (b *bundle) add(file string, obj any) error {
	var kind string
	var meta metav1.ObjectMeta
	switch o := obj.(type) {
	case *kustomization:
		if file != "kustomization.yaml" {
			return errors.New("a Kustomization outside kustomization.yaml")
		}
		b.kustomization = o
		return nil
	case *corev1.Namespace:
		kind, meta, b.namespaces = "Namespace", o.ObjectMeta, append(b.namespaces, o)
	case *corev1.ConfigMap:
		kind, meta, b.configMaps = "ConfigMap", o.ObjectMeta, append(b.configMaps, o)
	case *corev1.Secret:
		kind, meta, b.secrets = "Secret", o.ObjectMeta, append(b.secrets, o)
	case *corev1.Service:
		kind, meta, b.services = "Service", o.ObjectMeta, append(b.services, o)
	case *appsv1.Deployment:
		kind, meta, b.deployments = "Deployment", o.ObjectMeta, append(b.deployments, o)
	case *autoscalingv2.HorizontalPodAutoscaler:
		kind, meta, b.hpas = "HorizontalPodAutoscaler", o.ObjectMeta, append(b.hpas, o)
	case *policyv1.PodDisruptionBudget:
		kind, meta, b.pdbs = "PodDisruptionBudget", o.ObjectMeta, append(b.pdbs, o)
	}
	key := kind + "/" + meta.Name
	if prev, dup := b.objectFiles[key]; dup {
		return fmt.Errorf("%s is defined twice (also in %s)", key, prev)
	}
	b.objectFiles[key] = file
	return nil
}

// validateK8s loads and checks the manifests of fsys.
func validateK8s(fsys fs.FS, c contract, binaries map[string]bool) error {
	b, err := loadBundle(fsys)
	if err != nil {
		return err
	}
	return checkBundle(b, c, binaries)
}

// fixtures loads the contract and the binaries the image holds, which
// every manifest test checks against.
func fixtures(t *testing.T) (contract, map[string]bool) {
	t.Helper()
	c, err := loadContract(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	df, err := loadDockerfile(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	return c, builtBinaries(df)
}

func TestKubernetesManifests(t *testing.T) {
	c, bins := fixtures(t)
	if err := validateK8s(os.DirFS(path.Join(repoRoot, k8sDir)), c, bins); err != nil {
		t.Fatal(err)
	}
}

// mapFS copies deploy/k8s into memory, for mutations.
func mapFS(t *testing.T) fstest.MapFS {
	t.Helper()
	dir := path.Join(repoRoot, k8sDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := fstest.MapFS{}
	for _, e := range entries {
		b, err := os.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = &fstest.MapFile{Data: b}
	}
	return m
}

func TestKubernetesRejectsBrokenManifests(t *testing.T) {
	c, bins := fixtures(t)
	const workerTemplateLabels = "      labels:\n        app.kubernetes.io/name: belvo-backbone\n        app.kubernetes.io/component: worker"
	tests := []struct {
		name, file, old, new, want string
	}{
		{"unknown field", "worker-deployment.yaml", "  replicas: 2\n", "  replicas: 2\n  replica: 3\n", "unknown field"},
		{"duplicate field", "configmap.yaml", "  LOG_LEVEL: info\n", "  LOG_LEVEL: info\n  LOG_LEVEL: debug\n", "LOG_LEVEL"},
		{"unknown kind", "pdb.yaml", "      app.kubernetes.io/component: worker\n", "      app.kubernetes.io/component: worker\n---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: x}\n", "unknown kind"},
		{"wrong type", "worker-deployment.yaml", "  replicas: 2\n", "  replicas: two\n", "replicas"},
		{"selector does not match the pods", "worker-deployment.yaml", workerTemplateLabels, strings.Replace(workerTemplateLabels, ": worker", ": workers", 1), "selector"},
		{"readiness probe path", "bridge-deployment.yaml", "/readyz", "/ready", "/readyz"},
		{"liveness probe port", "bridge-deployment.yaml", "httpGet: {path: /healthz, port: http}", "httpGet: {path: /healthz, port: 9090}", "/healthz"},
		{"env name outside the contract", "configmap.yaml", "  LOG_LEVEL: info\n", "  LOG_LEVEL: info\n  TEMPORAL_HOST: temporal:7233\n", "TEMPORAL_HOST"},
		{"literal secret", "configmap.yaml", "  LOG_LEVEL: info\n", "  LOG_LEVEL: info\n  STORE_DSN: postgres://belvo:pw@db/belvo\n", "secret"},
		{"secret key missing", "worker-deployment.yaml", "key: STORE_DSN}", "key: STORE_URL}", "STORE_URL"},
		{"file not listed", "kustomization.yaml", "  - pdb.yaml\n", "", "pdb.yaml"},
		{"missing file listed", "kustomization.yaml", "  - pdb.yaml\n", "  - pdb.yaml\n  - ingress.yaml\n", "ingress.yaml"},
		{"example secret listed", "kustomization.yaml", "  - pdb.yaml\n", "  - pdb.yaml\n  - secret.example.yaml\n", "secret.example.yaml"},
		{"latest image", "worker-deployment.yaml", "belvo-backbone:0.1.0", "belvo-backbone:latest", "latest"},
		{"unknown binary", "worker-deployment.yaml", "/usr/local/bin/worker", "/usr/local/bin/wrker", "wrker"},
		{"HPA target", "hpa.yaml", "    name: belvo-worker\n  minReplicas", "    name: belvo-workers\n  minReplicas", "belvo-workers"},
		{"PDB selector", "pdb.yaml", "      app.kubernetes.io/component: worker\n", "      app.kubernetes.io/component: workers\n", "selects no"},
		{"Service targetPort", "bridge-service.yaml", "targetPort: http", "targetPort: metrics", "targetPort"},
		{"bridge on loopback", "configmap.yaml", "0.0.0.0:8080", "127.0.0.1:8080", "WEBHOOK_LISTEN_ADDR"},
		{"bridge port mismatch", "configmap.yaml", "0.0.0.0:8080", "0.0.0.0:9000", "WEBHOOK_LISTEN_ADDR"},
		{"short bridge grace", "bridge-deployment.yaml", "terminationGracePeriodSeconds: 30", "terminationGracePeriodSeconds: 12", "terminationGracePeriodSeconds"},
		{"short worker grace", "worker-deployment.yaml", "terminationGracePeriodSeconds: 60", "terminationGracePeriodSeconds: 20", "terminationGracePeriodSeconds"},
		{"writable root", "worker-deployment.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "readOnlyRootFilesystem"},
		{"root user", "bridge-deployment.yaml", "runAsNonRoot: true", "runAsNonRoot: false", "runAsNonRoot"},
		{"invalid name", "bridge-service.yaml", "name: belvo-bridge\n  labels", "name: Belvo_Bridge\n  labels", "Belvo_Bridge"},
		{"invalid label value", "namespace.yaml", "part-of: belvo-backbone", "part-of: belvo backbone", "belvo backbone"},
		{"scrape port", "bridge-deployment.yaml", `prometheus.io/port: "8080"`, `prometheus.io/port: "9090"`, "prometheus.io/port"},
		{"HPA without CPU requests", "worker-deployment.yaml", "              cpu: 250m\n", "", "cpu request"},
		// mTLS: the pods that dial Temporal present the client certificate
		// of a Secret they mount read-only and can read.
		{"TLS mount writable", "worker-deployment.yaml", "              readOnly: true\n", "              readOnly: false\n", "readOnly: true"},
		{"no client certificate", "configmap.yaml", "  TEMPORAL_TLS_CLIENT_CERT_PATH: /etc/temporal/tls/tls.crt\n", "", "TEMPORAL_TLS_CLIENT_CERT_PATH is not set"},
		{"TLS Secret not mounted", "bridge-deployment.yaml", "          volumeMounts:\n            - name: temporal-tls\n              mountPath: /etc/temporal/tls\n              readOnly: true\n", "", "not inside a volume mount"},
		{"file the Secret lacks", "configmap.yaml", "/etc/temporal/tls/tls.key", "/etc/temporal/tls/client.key", "client.key"},
		{"key and certificate swapped", "configmap.yaml", "TEMPORAL_TLS_CLIENT_KEY_PATH: /etc/temporal/tls/tls.key", "TEMPORAL_TLS_CLIENT_KEY_PATH: /etc/temporal/tls/tls.crt", "want key tls.key"},
		{"files unreadable", "worker-deployment.yaml", "        fsGroup: 65532\n", "", "fsGroup"},
		{"TLS Secret optional", "worker-deployment.yaml", "            defaultMode: 0440\n", "            defaultMode: 0440\n            optional: true\n", "optional"},
		{"TLS Secret without example", "worker-deployment.yaml", "secretName: temporal-client-tls", "secretName: temporal-tls", "temporal-tls, which has no example"},
		{"TLS Secret of another type", "temporal-client-tls.example.yaml", "type: kubernetes.io/tls", "type: Opaque", "kubernetes.io/tls"},
		{"TLS Secret example listed", "kustomization.yaml", "  - pdb.yaml\n", "  - pdb.yaml\n  - temporal-client-tls.example.yaml\n", "temporal-client-tls.example.yaml"},
		{"private key in the ConfigMap", "configmap.yaml", "  LOG_LEVEL: info\n", "  LOG_LEVEL: info\n  TEMPORAL_TLS_CLIENT_CERT_DATA: |\n    -----BEGIN EC PRIVATE KEY-----\n", "private key"},
		{"empty TLS variable", "configmap.yaml", "  LOG_LEVEL: info\n", "  LOG_LEVEL: info\n  TEMPORAL_TLS: \"\"\n", "TEMPORAL_TLS is empty"},
		{"TLS turned off", "configmap.yaml", "  LOG_LEVEL: info\n", "  LOG_LEVEL: info\n  TEMPORAL_TLS: \"false\"\n", "TEMPORAL_TLS is \"false\""},
		{"TLS Secret where it is not used", "codec-server-deployment.yaml", "      containers:\n        - name: codec-server\n", "      volumes:\n        - name: temporal-tls\n          secret: {secretName: temporal-client-tls}\n      containers:\n        - name: codec-server\n          volumeMounts:\n            - {name: temporal-tls, mountPath: /etc/temporal/tls, readOnly: true}\n", "does not connect to Temporal"},
		{"PDB blocks drains", "pdb.yaml", "minAvailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: belvo-backbone\n      app.kubernetes.io/component: worker", "minAvailable: 2\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: belvo-backbone\n      app.kubernetes.io/component: worker", "minAvailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := mapFS(t)
			f := fsys[tt.file]
			if f == nil || !strings.Contains(string(f.Data), tt.old) {
				t.Fatalf("%s no longer contains %q: update this case", tt.file, tt.old)
			}
			f.Data = []byte(strings.Replace(string(f.Data), tt.old, tt.new, 1))
			err := validateK8s(fsys, c, bins)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			t.Logf("rejected as expected: %v", err)
		})
	}
}
