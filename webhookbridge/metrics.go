package webhookbridge

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/workflows"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the bridge's Prometheus series. Labels carry only bounded,
// non-secret values: status codes, routes, and Belvo's webhook type and code
// as sent (bounded by Belvo's catalogue; unknown ones are folded into
// "other" so an attacker cannot grow the series without bound).
type metrics struct {
	registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   prometheus.Histogram
	signals   *prometheus.CounterVec
	shed      prometheus.Counter
	unrouted  prometheus.Counter
	duplicate prometheus.Counter
	inFlight  prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "belvo_bridge_requests_total", Help: "Webhook requests by HTTP status answered.",
		}, []string{"status"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "belvo_bridge_delivery_seconds", Help: "Time to get a webhook durably accepted by Temporal.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 4, 5},
		}),
		signals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "belvo_bridge_signals_total", Help: "Webhooks signalled to Temporal, by route, webhook type and code.",
		}, []string{"route", "webhook_type", "webhook_code"}),
		shed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "belvo_bridge_shed_total", Help: "Webhooks answered 503 because the bridge was at its concurrency limit.",
		}),
		unrouted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "belvo_bridge_unrouted_total", Help: "Webhooks accepted that no execution handles (unknown type or code).",
		}),
		duplicate: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "belvo_bridge_duplicates_total", Help: "Webhooks for async requests that had already completed.",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "belvo_bridge_in_flight", Help: "Webhooks being delivered now.",
		}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.signals, m.shed, m.unrouted, m.duplicate, m.inFlight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

func (m *metrics) status(code int) { m.requests.WithLabelValues(strconv.Itoa(code)).Inc() }

// typeLabel and codeLabel bound the label values of signals_total to
// Belvo's catalogue.
func typeLabel(t string) string {
	if t == "LINK" || belvo.Resource(t).Valid() {
		return t
	}
	return "other"
}

func codeLabel(c string) string {
	if ev := (workflows.WebhookEvent{Code: c}); workflows.RouteOf(ev) != workflows.RouteUnrouted && (!strings.HasPrefix(c, "new_") || newAvailableCodes[c]) {
		return c
	}
	return "other"
}

// newAvailableCodes are Belvo's new_<resource>_available codes, one per
// known resource.
var newAvailableCodes = func() map[string]bool {
	m := map[string]bool{}
	for _, r := range belvo.AllResources() {
		m["new_"+strings.ToLower(string(r))+"_available"] = true
	}
	return m
}()
