package deploytest

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/belvo-temporal/backbone/config"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"
)

// promConfig is the part of Prometheus's configuration the product ships.
type promConfig struct {
	ScrapeConfigs []struct {
		JobName       string `json:"job_name"`
		StaticConfigs []struct {
			Targets []string `json:"targets"`
		} `json:"static_configs"`
	} `json:"scrape_configs"`
}

// The documented scrape configuration targets the processes' default
// metrics addresses, so `prometheus --config.file=…` next to the local stack
// just works.
func TestPrometheusScrapesTheDefaultAddresses(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var pc promConfig
	if err := yaml.Unmarshal(raw, &pc); err != nil {
		t.Fatalf("prometheus.yml: %v", err)
	}
	want := map[string]string{"belvo-worker": config.DefaultMetricsListenAddr, "belvo-bridge": config.DefaultWebhookListenAddr}
	for _, sc := range pc.ScrapeConfigs {
		addr, ok := want[sc.JobName]
		if !ok {
			continue
		}
		if len(sc.StaticConfigs) != 1 || len(sc.StaticConfigs[0].Targets) != 1 || sc.StaticConfigs[0].Targets[0] != addr {
			t.Errorf("job %s scrapes %+v, want [%s]", sc.JobName, sc.StaticConfigs, addr)
		}
		delete(want, sc.JobName)
	}
	for job := range want {
		t.Errorf("prometheus.yml has no job %s", job)
	}
}

// Every pod that asks to be scraped declares the port it names.
func TestScrapeAnnotationsNameAContainerPort(t *testing.T) {
	for _, name := range []string{"worker-deployment.yaml", "bridge-deployment.yaml"} {
		raw, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "k8s", name))
		if err != nil {
			t.Fatal(err)
		}
		var d appsv1.Deployment
		if err := yaml.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ann := d.Spec.Template.Annotations
		if ann["prometheus.io/scrape"] != "true" {
			t.Errorf("%s: pods are not marked for scraping", name)
			continue
		}
		port, err := strconv.Atoi(ann["prometheus.io/port"])
		if err != nil {
			t.Errorf("%s: prometheus.io/port %q is not a number", name, ann["prometheus.io/port"])
			continue
		}
		found := false
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, p := range c.Ports {
				found = found || int(p.ContainerPort) == port
			}
		}
		if !found {
			t.Errorf("%s: scrape port %d is not a container port", name, port)
		}
	}
}
