// Package config reads every process's configuration from the environment:
// Temporal's address, namespace and task queue, Belvo's URL and secret keys,
// the webhook Authorization value, the store's DSN, listen addresses, the
// payload key ring, timeouts and the bridge's limits (docs/configuration.md
// lists them). Defaults serve the local stack; secrets are masked whenever
// the configuration is printed; Dial connects to Temporal with the payload
// codec.
package config

import (
	"cmp"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/sandbox"
	"github.com/belvo-temporal/backbone/workflows"
	"go.temporal.io/sdk/contrib/envconfig"
)

// Config is every setting the processes share.
type Config struct {
	// TemporalAddress and TemporalNamespace are resolved as the temporal
	// CLI resolves them (TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE over the
	// profile of the client config file), with the local defaults.
	TemporalAddress   string
	TemporalNamespace string
	// TemporalClient is the rest of the client profile: TLS and mTLS, API
	// key, gRPC metadata, authority. It is read by the SDK's envconfig, so
	// exactly as the temporal CLI reads it: the TOML file
	// (TEMPORAL_CONFIG_FILE, default ~/.config/temporalio/temporal.toml)
	// and its profile (TEMPORAL_PROFILE, default "default"), overridden by
	// TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_*, TEMPORAL_GRPC_META_*,
	// TEMPORAL_CLIENT_AUTHORITY. Its Address and Namespace are always
	// empty: the two fields above hold them.
	TemporalClient envconfig.ClientConfigProfile
	TaskQueue      string // TEMPORAL_TASK_QUEUE
	// TemporalGRPCCompression is how requests to Temporal are compressed
	// (TEMPORAL_GRPC_COMPRESSION: none, the default, or gzip).
	TemporalGRPCCompression string
	// TemporalUIURL is the web UI's base URL, for links printed to people
	// (TEMPORAL_UI_URL).
	TemporalUIURL string

	BelvoBaseURL        string // BELVO_BASE_URL
	BelvoSecretID       string // BELVO_SECRET_ID (secret)
	BelvoSecretPassword string // BELVO_SECRET_PASSWORD (secret)
	// BelvoHTTPTimeout bounds one call to Belvo (BELVO_HTTP_TIMEOUT, 60s).
	BelvoHTTPTimeout time.Duration
	// WebhookAuthorization is the exact Authorization value Belvo sends with
	// webhooks (BELVO_WEBHOOK_AUTHORIZATION, secret).
	WebhookAuthorization string
	// WebhookAuthorizationPrevious is accepted too during a rotation
	// (BELVO_WEBHOOK_AUTHORIZATION_PREVIOUS, secret).
	WebhookAuthorizationPrevious string
	// WebhookAllowedNetworks, comma-separated CIDRs, restrict webhook
	// sources (WEBHOOK_ALLOWED_NETWORKS; empty: any).
	WebhookAllowedNetworks []*net.IPNet

	// PayloadKeys (PAYLOAD_ENCRYPTION_KEYS, secret) or the file
	// PayloadKeysFile (PAYLOAD_ENCRYPTION_KEYS_FILE) hold the AES-256 key
	// ring every payload sent to Temporal is encrypted with (see codec).
	PayloadKeys     string
	PayloadKeysFile string

	StoreDSN          string // STORE_DSN: sqlite:<path> (default) or postgres://…
	WebhookListenAddr string // WEBHOOK_LISTEN_ADDR, the bridge's listen address
	SandboxListenAddr string // SANDBOX_LISTEN_ADDR, the emulator's listen address

	// HistoricalFetchTimeout ends a historical fetch that is still missing
	// webhooks (HISTORICAL_FETCH_TIMEOUT, a Go duration).
	HistoricalFetchTimeout time.Duration
	// HistoricalWebhookGrace: a resource whose webhook has not come by then
	// is looked up at Belvo (HISTORICAL_WEBHOOK_GRACE, default 2h).
	HistoricalWebhookGrace time.Duration
	// AsyncTimeout ends an async request whose webhook does not come
	// (ASYNC_REQUEST_TIMEOUT); AsyncOrphanTimeout ends, as "orphan", a
	// webhook no request claims (ASYNC_ORPHAN_TIMEOUT).
	AsyncTimeout       time.Duration
	AsyncOrphanTimeout time.Duration

	// Bridge limits: WEBHOOK_DELIVERY_TIMEOUT (default 4s, inside Belvo's
	// 5 s), WEBHOOK_MAX_IN_FLIGHT (default 128), WEBHOOK_MAX_BODY_BYTES
	// (default 1 MiB).
	WebhookDeliveryTimeout time.Duration
	WebhookMaxInFlight     int
	WebhookMaxBodyBytes    int64

	// WorkerTaskPollers is how many requests the worker keeps polling for
	// workflow tasks, and as many for activity tasks (WORKER_TASK_POLLERS,
	// default 8; at least 2).
	WorkerTaskPollers int

	// MetricsListenAddr is where the worker serves Prometheus /metrics
	// (METRICS_LISTEN_ADDR, default 127.0.0.1:9091; "off" disables it).
	MetricsListenAddr string

	LogFormat string // LOG_FORMAT: console (default) or json
	LogLevel  string // LOG_LEVEL: debug, info (default), warn, error
}

// Defaults for the local stack. Each is defined once: where a package owns
// the value (a workflow's timeout, the Belvo client's, the sandbox's
// credentials), the constant here names that package's.
const (
	DefaultTemporalAddress      = "127.0.0.1:7233"
	DefaultNamespace            = "default"
	DefaultTaskQueue            = "belvo"
	DefaultTemporalUIURL        = "http://127.0.0.1:8233"
	DefaultSandboxListenAddr    = "127.0.0.1:8090"
	DefaultBelvoBaseURL         = "http://" + DefaultSandboxListenAddr
	DefaultSecretID             = sandbox.DefaultSecretID
	DefaultSecretPassword       = sandbox.DefaultSecretPassword
	DefaultWebhookAuthorization = "Bearer local-webhook-secret"
	DefaultStoreDSN             = "sqlite:.local/belvo.db"
	DefaultPayloadKeysFile      = ".local/payload-keys"
	DefaultWebhookListenAddr    = "127.0.0.1:8080"
	DefaultMetricsListenAddr    = "127.0.0.1:9091"
	DefaultHistoricalTimeout    = workflows.DefaultHistoricalFetchTimeout
	DefaultWebhookGrace         = workflows.DefaultWebhookGrace
	DefaultAsyncTimeout         = workflows.DefaultAsyncTimeout
	DefaultAsyncOrphanTimeout   = workflows.DefaultOrphanTimeout
	DefaultBelvoHTTPTimeout     = belvo.DefaultHTTPTimeout
	// The bridge's limits (webhookbridge.New takes them as its defaults).
	DefaultWebhookDeliveryTimeout = 4 * time.Second
	DefaultWebhookMaxInFlight     = 128
	DefaultWebhookMaxBodyBytes    = 1 << 20
	// DefaultWorkerTaskPollers: enough that each partition of the task
	// queue (a Temporal server splits one into four by default) usually has
	// a poll waiting. With the SDK's default of two, a task that reached a
	// partition no poll was waiting on sat there for about 2 s at the end
	// of a burst, which made the slowest webhooks' data 2 s late
	// (BENCHMARKS.md, "Pollers per partition"). An idle poll costs the
	// worker and the server next to nothing.
	DefaultWorkerTaskPollers = 8
	// DefaultGRPCCompression: every payload the product sends Temporal is
	// AES-GCM ciphertext, which gzip cannot shrink, so compressing costs
	// the worker and the server processor time for little gain
	// (docs/configuration.md).
	DefaultGRPCCompression = GRPCCompressionNone
)

// The values of TEMPORAL_GRPC_COMPRESSION.
const (
	GRPCCompressionNone = "none"
	GRPCCompressionGzip = "gzip"
)

// FromEnv reads the configuration; it fails on values it cannot parse.
func FromEnv() (Config, error) {
	prof, err := envconfig.LoadClientConfigProfile(envconfig.LoadClientConfigProfileOptions{})
	if err != nil {
		return Config{}, fmt.Errorf("config: Temporal client profile (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE, TEMPORAL_*): %w", err)
	}
	c := Config{
		TemporalAddress:              cmp.Or(strings.TrimSpace(prof.Address), DefaultTemporalAddress),
		TemporalNamespace:            cmp.Or(strings.TrimSpace(prof.Namespace), DefaultNamespace),
		TaskQueue:                    env("TEMPORAL_TASK_QUEUE", DefaultTaskQueue),
		TemporalGRPCCompression:      strings.ToLower(env("TEMPORAL_GRPC_COMPRESSION", DefaultGRPCCompression)),
		TemporalUIURL:                strings.TrimRight(env("TEMPORAL_UI_URL", DefaultTemporalUIURL), "/"),
		BelvoBaseURL:                 env("BELVO_BASE_URL", DefaultBelvoBaseURL),
		BelvoSecretID:                env("BELVO_SECRET_ID", DefaultSecretID),
		BelvoSecretPassword:          env("BELVO_SECRET_PASSWORD", DefaultSecretPassword),
		WebhookAuthorization:         env("BELVO_WEBHOOK_AUTHORIZATION", DefaultWebhookAuthorization),
		WebhookAuthorizationPrevious: env("BELVO_WEBHOOK_AUTHORIZATION_PREVIOUS", ""),
		StoreDSN:                     env("STORE_DSN", DefaultStoreDSN),
		PayloadKeys:                  env("PAYLOAD_ENCRYPTION_KEYS", ""),
		PayloadKeysFile:              env("PAYLOAD_ENCRYPTION_KEYS_FILE", DefaultPayloadKeysFile),
		WebhookListenAddr:            env("WEBHOOK_LISTEN_ADDR", DefaultWebhookListenAddr),
		SandboxListenAddr:            env("SANDBOX_LISTEN_ADDR", DefaultSandboxListenAddr),
		MetricsListenAddr:            env("METRICS_LISTEN_ADDR", DefaultMetricsListenAddr),
		LogFormat:                    env("LOG_FORMAT", "console"),
		LogLevel:                     env("LOG_LEVEL", "info"),
	}
	prof.Address, prof.Namespace = "", ""
	c.TemporalClient = prof
	if c.TemporalGRPCCompression != GRPCCompressionNone && c.TemporalGRPCCompression != GRPCCompressionGzip {
		return Config{}, fmt.Errorf("config: TEMPORAL_GRPC_COMPRESSION=%q: want %s or %s", c.TemporalGRPCCompression, GRPCCompressionNone, GRPCCompressionGzip)
	}
	for _, cidr := range strings.Split(env("WEBHOOK_ALLOWED_NETWORKS", ""), ",") {
		if cidr = strings.TrimSpace(cidr); cidr == "" {
			continue
		}
		_, n, perr := net.ParseCIDR(cidr)
		if perr != nil {
			return Config{}, fmt.Errorf("config: WEBHOOK_ALLOWED_NETWORKS: %q is not a CIDR such as 10.0.0.0/8", cidr)
		}
		c.WebhookAllowedNetworks = append(c.WebhookAllowedNetworks, n)
	}
	if c.HistoricalFetchTimeout, err = duration("HISTORICAL_FETCH_TIMEOUT", DefaultHistoricalTimeout); err != nil {
		return Config{}, err
	}
	if c.BelvoHTTPTimeout, err = duration("BELVO_HTTP_TIMEOUT", DefaultBelvoHTTPTimeout); err != nil {
		return Config{}, err
	}
	if c.HistoricalWebhookGrace, err = duration("HISTORICAL_WEBHOOK_GRACE", DefaultWebhookGrace); err != nil {
		return Config{}, err
	}
	if c.HistoricalWebhookGrace >= c.HistoricalFetchTimeout {
		return Config{}, fmt.Errorf("config: HISTORICAL_WEBHOOK_GRACE=%s must be shorter than HISTORICAL_FETCH_TIMEOUT=%s: "+
			"a fetch must look for a late webhook's data before it gives up", c.HistoricalWebhookGrace, c.HistoricalFetchTimeout)
	}
	if c.AsyncTimeout, err = duration("ASYNC_REQUEST_TIMEOUT", DefaultAsyncTimeout); err != nil {
		return Config{}, err
	}
	if c.AsyncOrphanTimeout, err = duration("ASYNC_ORPHAN_TIMEOUT", DefaultAsyncOrphanTimeout); err != nil {
		return Config{}, err
	}
	if c.WebhookDeliveryTimeout, err = duration("WEBHOOK_DELIVERY_TIMEOUT", DefaultWebhookDeliveryTimeout); err != nil {
		return Config{}, err
	}
	if c.WebhookDeliveryTimeout >= 5*time.Second {
		return Config{}, fmt.Errorf("config: WEBHOOK_DELIVERY_TIMEOUT=%s must stay under Belvo's 5 s acknowledgement limit", c.WebhookDeliveryTimeout)
	}
	n, err := positiveInt("WEBHOOK_MAX_IN_FLIGHT", DefaultWebhookMaxInFlight)
	if err != nil {
		return Config{}, err
	}
	c.WebhookMaxInFlight = n
	if n, err = positiveInt("WEBHOOK_MAX_BODY_BYTES", DefaultWebhookMaxBodyBytes); err != nil {
		return Config{}, err
	}
	c.WebhookMaxBodyBytes = int64(n)
	if c.WorkerTaskPollers, err = positiveInt("WORKER_TASK_POLLERS", DefaultWorkerTaskPollers); err != nil {
		return Config{}, err
	}
	if c.WorkerTaskPollers < 2 {
		return Config{}, fmt.Errorf("config: WORKER_TASK_POLLERS=%d: use at least 2 (the SDK's workflow-task pollers take turns "+
			"between the worker's sticky queue and the task queue)", c.WorkerTaskPollers)
	}
	return c, nil
}

// Environ is the configuration as the environment FromEnv reads, one
// NAME=value per setting, for the processes a parent starts (the local
// stack): FromEnv over it gives c back. It carries the secrets in the
// clear: pass it to a child process, never print it (String masks them).
func (c Config) Environ() []string {
	nets := make([]string, len(c.WebhookAllowedNetworks))
	for i, n := range c.WebhookAllowedNetworks {
		nets[i] = n.String()
	}
	env := []string{
		"TEMPORAL_ADDRESS=" + c.TemporalAddress, "TEMPORAL_NAMESPACE=" + c.TemporalNamespace, "TEMPORAL_TASK_QUEUE=" + c.TaskQueue,
		"TEMPORAL_GRPC_COMPRESSION=" + c.TemporalGRPCCompression, "TEMPORAL_UI_URL=" + c.TemporalUIURL,
		"BELVO_BASE_URL=" + c.BelvoBaseURL, "BELVO_SECRET_ID=" + c.BelvoSecretID, "BELVO_SECRET_PASSWORD=" + c.BelvoSecretPassword,
		"BELVO_HTTP_TIMEOUT=" + c.BelvoHTTPTimeout.String(),
		"BELVO_WEBHOOK_AUTHORIZATION=" + c.WebhookAuthorization, "BELVO_WEBHOOK_AUTHORIZATION_PREVIOUS=" + c.WebhookAuthorizationPrevious,
		"WEBHOOK_ALLOWED_NETWORKS=" + strings.Join(nets, ","),
		"PAYLOAD_ENCRYPTION_KEYS=" + c.PayloadKeys, "PAYLOAD_ENCRYPTION_KEYS_FILE=" + c.PayloadKeysFile,
		"STORE_DSN=" + c.StoreDSN, "WEBHOOK_LISTEN_ADDR=" + c.WebhookListenAddr, "SANDBOX_LISTEN_ADDR=" + c.SandboxListenAddr,
		"HISTORICAL_FETCH_TIMEOUT=" + c.HistoricalFetchTimeout.String(), "HISTORICAL_WEBHOOK_GRACE=" + c.HistoricalWebhookGrace.String(),
		"ASYNC_REQUEST_TIMEOUT=" + c.AsyncTimeout.String(), "ASYNC_ORPHAN_TIMEOUT=" + c.AsyncOrphanTimeout.String(),
		"WEBHOOK_DELIVERY_TIMEOUT=" + c.WebhookDeliveryTimeout.String(),
		"WEBHOOK_MAX_IN_FLIGHT=" + strconv.Itoa(c.WebhookMaxInFlight), "WEBHOOK_MAX_BODY_BYTES=" + strconv.FormatInt(c.WebhookMaxBodyBytes, 10),
		"WORKER_TASK_POLLERS=" + strconv.Itoa(c.WorkerTaskPollers),
		"METRICS_LISTEN_ADDR=" + c.MetricsListenAddr, "LOG_FORMAT=" + c.LogFormat, "LOG_LEVEL=" + c.LogLevel,
	}
	return append(env, profileEnviron(c.TemporalClient)...)
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return def
}

func duration(name string, def time.Duration) (time.Duration, error) {
	v := env(name, "")
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("config: %s=%q is not a positive Go duration such as 30m or 24h", name, v)
	}
	return d, nil
}

func positiveInt(name string, def int) (int, error) {
	v := env(name, "")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("config: %s=%q is not a positive integer", name, v)
	}
	return n, nil
}

// Mask hides a secret: it shows only whether the value is set.
func Mask(s string) string {
	if s == "" {
		return "(unset)"
	}
	return "****"
}

// String prints the configuration with every secret masked.
func (c Config) String() string {
	return fmt.Sprintf("TEMPORAL_ADDRESS=%s TEMPORAL_NAMESPACE=%s temporal_client=[%s] TEMPORAL_TASK_QUEUE=%s TEMPORAL_GRPC_COMPRESSION=%s BELVO_BASE_URL=%s "+
		"BELVO_SECRET_ID=%s BELVO_SECRET_PASSWORD=%s BELVO_WEBHOOK_AUTHORIZATION=%s BELVO_WEBHOOK_AUTHORIZATION_PREVIOUS=%s PAYLOAD_ENCRYPTION_KEYS=%s PAYLOAD_ENCRYPTION_KEYS_FILE=%s STORE_DSN=%s "+
		"WEBHOOK_LISTEN_ADDR=%s SANDBOX_LISTEN_ADDR=%s METRICS_LISTEN_ADDR=%s HISTORICAL_FETCH_TIMEOUT=%s ASYNC_REQUEST_TIMEOUT=%s ASYNC_ORPHAN_TIMEOUT=%s "+
		"WORKER_TASK_POLLERS=%d",
		c.TemporalAddress, c.TemporalNamespace, temporalSummary(c.TemporalClient), c.TaskQueue, c.TemporalGRPCCompression, c.BelvoBaseURL,
		Mask(c.BelvoSecretID), Mask(c.BelvoSecretPassword), Mask(c.WebhookAuthorization), Mask(c.WebhookAuthorizationPrevious), Mask(c.PayloadKeys), c.PayloadKeysFile, MaskDSN(c.StoreDSN),
		c.WebhookListenAddr, c.SandboxListenAddr, c.MetricsListenAddr, c.HistoricalFetchTimeout, c.AsyncTimeout, c.AsyncOrphanTimeout,
		c.WorkerTaskPollers)
}

// MaskDSN hides a DSN's password (in the user part or the query) so the DSN
// can be printed.
func MaskDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" || u.Scheme == "sqlite" {
		return dsn
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "****")
		u.RawQuery = q.Encode()
	}
	return strings.ReplaceAll(u.Redacted(), "xxxxx", "****")
}
