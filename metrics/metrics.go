// Package metrics exports the worker's metrics to Prometheus: the Temporal
// SDK's own series (workflow and activity task latencies, failures, poller
// and slot gauges, …) through the SDK's tally adapter, the product's own
// series (rows stored per resource), and the Go runtime's.
package metrics

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
	"go.uber.org/zap"
)

// Registry holds one process's series and serves them.
type Registry struct {
	reg    *prometheus.Registry
	scope  tally.Scope
	closer io.Closer
}

// New builds a registry with the Go runtime and process collectors and a
// tally scope reporting into it every second. Registration conflicts (the
// SDK emitting one name with two label sets) are logged, never fatal: a
// metric must not take the worker down.
func New(log *zap.Logger) *Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reporter := tallyprom.NewReporter(tallyprom.Options{
		Registerer:       reg,
		DefaultTimerType: tallyprom.HistogramTimerType,
		// tally's buckets (1 ms … 10 s) and longer ones: a webhook's data
		// (webhook_to_data_seconds) can take minutes for a large link,
		// which would otherwise all fall in +Inf.
		DefaultHistogramBuckets: append(tallyprom.DefaultHistogramBuckets(), 30, 60, 120, 300, 600),
		OnRegisterError: func(err error) {
			log.Warn("metric not exported", zap.Error(err))
		},
	})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
	}, time.Second)
	return &Registry{reg: reg, scope: sdktally.NewPrometheusNamingScope(scope), closer: closer}
}

// SDKHandler is the client.MetricsHandler to give the Temporal client (and so
// its workers): the SDK's series, and what workflows and activities record
// through workflow.GetMetricsHandler / activity.GetMetricsHandler.
func (r *Registry) SDKHandler() client.MetricsHandler { return sdktally.NewMetricsHandler(r.scope) }

// Handler serves the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{})
}

// Close flushes the last report.
func (r *Registry) Close() error {
	if err := r.closer.Close(); err != nil {
		return fmt.Errorf("metrics: close: %w", err)
	}
	return nil
}
