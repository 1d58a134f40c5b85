// Package measure holds what the end-to-end and soak benchmarks both
// measure on a local stack (internal/stack): the worker's webhook-to-data
// latency samples, exact percentiles, an open-loop load generator, each
// process's processor time and memory, the bridge's counters, and a
// least-squares drift test.
package measure
