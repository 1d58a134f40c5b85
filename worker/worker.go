// Package worker runs the product's Temporal worker: it checks that its
// timeouts fit together and that the namespace has the product's search
// attributes, registers every workflow and activity on the task queue, serves
// its metrics, and stops gracefully, letting running activities finish.
package worker

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/metrics"
	"github.com/belvo-temporal/backbone/store"
	"github.com/belvo-temporal/backbone/workflows"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"
)

// RegisterWorkflows registers every workflow under its stable type name; the
// replay tests use it too, so they replay exactly what the worker runs.
func RegisterWorkflows(r sdkworker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(workflows.HistoricalFetch, workflow.RegisterOptions{Name: workflows.HistoricalFetchType})
	r.RegisterWorkflowWithOptions(workflows.LinkRegistration, workflow.RegisterOptions{Name: workflows.LinkRegistrationType})
	r.RegisterWorkflowWithOptions(workflows.AsyncPost, workflow.RegisterOptions{Name: workflows.AsyncPostType})
	r.RegisterWorkflowWithOptions(workflows.AsyncRequest, workflow.RegisterOptions{Name: workflows.AsyncRequestType})
	r.RegisterWorkflowWithOptions(workflows.LinkUpdates, workflow.RegisterOptions{Name: workflows.LinkUpdatesType})
	r.RegisterWorkflowWithOptions(workflows.LinkRequests, workflow.RegisterOptions{Name: workflows.LinkRequestsType})
	r.RegisterWorkflowWithOptions(workflows.UnroutedWebhooks, workflow.RegisterOptions{Name: workflows.UnroutedWebhooksType})
}

// Register registers every workflow and every activity on r.
func Register(r sdkworker.Registry, a *activities.Activities) {
	RegisterWorkflows(r)
	r.RegisterActivity(a)
}

// Options are the SDK options of the product's workers: pollers polls for
// workflow tasks and as many for activity tasks (WORKER_TASK_POLLERS, at
// least 2). The benchmarks' twins take them too, so that they poll as the
// product does.
func Options(pollers int) sdkworker.Options {
	return sdkworker.Options{
		// Activities get this long to finish their current page on shutdown.
		WorkerStopTimeout:                20 * time.Second,
		MaxConcurrentWorkflowTaskPollers: pollers,
		MaxConcurrentActivityTaskPollers: pollers,
	}
}

// New builds a worker on taskQueue with everything registered, polling
// with pollers requests per kind of task.
func New(c client.Client, taskQueue string, pollers int, a *activities.Activities) sdkworker.Worker {
	w := sdkworker.New(c, taskQueue, Options(pollers))
	Register(w, a)
	return w
}

// Run connects everything the configuration names and runs a worker until
// ctx is cancelled (SIGINT/SIGTERM in the command).
func Run(ctx context.Context, cfg config.Config, log *zap.Logger) error {
	log.Info("worker starting", zap.Stringer("config", cfg))
	if err := cfg.RefuseSandboxCredentials(); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	if err := workflows.CheckTimeouts(cfg.BelvoHTTPTimeout); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	st, err := store.Open(ctx, cfg.StoreDSN)
	if err != nil {
		return err
	}
	defer st.Close()
	bc, err := belvo.New(belvo.Options{BaseURL: cfg.BelvoBaseURL, SecretID: cfg.BelvoSecretID, SecretPassword: cfg.BelvoSecretPassword,
		HTTPClient: &http.Client{Timeout: cfg.BelvoHTTPTimeout}})
	if err != nil {
		return err
	}
	reg := metrics.New(log)
	defer reg.Close()
	c, err := cfg.DialTemporalWithMetrics(log, reg.SDKHandler())
	if err != nil {
		return err
	}
	defer c.Close()
	if err := checkSearchAttributes(ctx, c, cfg.TemporalNamespace); err != nil {
		return err
	}
	if cfg.MetricsListenAddr != "off" {
		stopMetrics, err := serveMetrics(cfg.MetricsListenAddr, reg, log)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	w := New(c, cfg.TaskQueue, cfg.WorkerTaskPollers, &activities.Activities{Belvo: bc, Store: st, Temporal: c})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker on task queue %s: %w", cfg.TaskQueue, err)
	}
	log.Info("worker polling", zap.String("task_queue", cfg.TaskQueue), zap.String("temporal", cfg.TemporalAddress),
		zap.Int("pollers_per_task_kind", cfg.WorkerTaskPollers))
	<-ctx.Done()
	log.Info("worker stopping: finishing running activities")
	w.Stop()
	log.Info("worker stopped")
	return nil
}
