package config

import (
	"fmt"
	"strings"

	"github.com/belvo-temporal/backbone/codec"
	"github.com/belvo-temporal/backbone/logging"
	"github.com/belvo-temporal/backbone/tracing"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/interceptor"
	"go.uber.org/zap"
)

// DialTemporal connects to the configured Temporal frontend with the SDK's
// logging sent through zap and every payload encrypted with the key ring.
func (c Config) DialTemporal(log *zap.Logger) (client.Client, error) {
	return c.DialTemporalWithMetrics(log, nil)
}

// DialTemporalWithMetrics is DialTemporal with the SDK's metrics (and those
// workflows and activities record) sent to h; nil drops them. A connection
// that fails says why in one line, naming the variable to fix.
func (c Config) DialTemporalWithMetrics(log *zap.Logger, h client.MetricsHandler) (client.Client, error) {
	opts, err := c.ClientOptions(log, h)
	if err != nil {
		return nil, err
	}
	cl, err := client.Dial(opts)
	if err != nil {
		return nil, c.explainDial(err, opts)
	}
	return cl, nil
}

// ClientOptions are the options every Temporal client of the product is
// built with: the client profile (see Config.TemporalClient), zap logging,
// the payload codec and metrics (h may be nil). A profile that cannot be
// used (a certificate file missing, say) is an error here, before any
// connection.
func (c Config) ClientOptions(log *zap.Logger, h client.MetricsHandler) (client.Options, error) {
	if log == nil {
		log = zap.NewNop()
	}
	prof := c.TemporalClient
	prof.Address, prof.Namespace = c.TemporalAddress, c.TemporalNamespace
	opts, err := prof.ToClientOptions(envconfig.ToClientOptionsRequest{})
	if err != nil {
		return client.Options{}, fmt.Errorf("config: Temporal client profile: %s (check TEMPORAL_TLS_* or the profile's [tls] in TEMPORAL_CONFIG_FILE)",
			oneLine(err.Error()))
	}
	ring, err := c.KeyRing()
	if err != nil {
		return client.Options{}, err
	}
	opts.Logger = logging.NewTemporal(log.Named("temporal"))
	opts.DataConverter = codec.DataConverter(ring)
	opts.FailureConverter = codec.FailureConverter(ring)
	opts.MetricsHandler = h
	opts.ConnectionOptions.GrpcCompression = &client.GrpcCompressionNone{}
	if c.TemporalGRPCCompression == GRPCCompressionGzip {
		opts.ConnectionOptions.GrpcCompression = &client.GrpcCompressionGzip{}
	}
	opts.Interceptors = []interceptor.ClientInterceptor{tracing.TemporalInterceptor()} // docs/tracing.md
	return opts, nil
}

// dialSide is what a hint needs to know of the failed client.
type dialSide struct{ tls, clientCert bool }

// closedHint explains a connection the server closed during set-up: what
// it most likely wanted depends on what the client offered.
func closedHint(d dialSide) string {
	switch {
	case !d.tls:
		return "the server closed a plaintext connection: it probably expects TLS (set TEMPORAL_TLS=true, and TEMPORAL_TLS_SERVER_CA_CERT_PATH for a private CA)"
	case !d.clientCert:
		return "the server closed the TLS connection: it probably requires a client certificate (set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH)"
	default:
		return "the server closed the TLS connection during set-up: check that its client CA signed TEMPORAL_TLS_CLIENT_CERT_PATH"
	}
}

// dialHints turn the errors a misconfigured connection produces into what
// to change. The first whose fragment the error contains wins.
var dialHints = []struct {
	fragment string
	hint     func(dialSide) string
}{
	{"first record does not look like a TLS handshake", func(dialSide) string {
		return "TLS is configured but the server answered in plaintext: point TEMPORAL_ADDRESS at its TLS endpoint or set TEMPORAL_TLS=false"
	}},
	{"certificate required", func(dialSide) string {
		return "the server requires a client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH"
	}},
	{"unknown certificate authority", refusedCert},
	{"bad certificate", refusedCert},
	{"certificate signed by unknown authority", func(dialSide) string {
		return "the server's certificate is not trusted: set TEMPORAL_TLS_SERVER_CA_CERT_PATH to its CA"
	}},
	{"certificate is valid for", func(dialSide) string {
		return "the server's certificate names another host: set TEMPORAL_TLS_SERVER_NAME to a name it carries"
	}},
	{"connection refused", func(dialSide) string {
		return "nothing listens there: check TEMPORAL_ADDRESS and that the server runs"
	}},
	{"Unauthenticated", func(dialSide) string {
		return "the server refused the credentials: check TEMPORAL_API_KEY (or the client certificate) and TEMPORAL_NAMESPACE"
	}},
	{"PermissionDenied", func(dialSide) string {
		return "the credentials may not use this namespace: check TEMPORAL_NAMESPACE and the key's or certificate's permissions"
	}},
	{"server preface", closedHint},
	{"broken pipe", closedHint},
	{"connection reset by peer", closedHint},
	{"EOF", closedHint},
}

func refusedCert(dialSide) string {
	return "the server refused the client certificate: use one its client CA signed (TEMPORAL_TLS_CLIENT_CERT_PATH)"
}

// explainDial is a failed connection as one line: where, how (TLS or
// not), what to change, then the SDK's error.
func (c Config) explainDial(err error, opts client.Options) error {
	tlsConf := opts.ConnectionOptions.TLS
	side := dialSide{tls: tlsConf != nil, clientCert: tlsConf != nil && len(tlsConf.Certificates) > 0}
	e := &DialError{Address: c.TemporalAddress, Namespace: c.TemporalNamespace, How: map[bool]string{true: "TLS", false: "plaintext"}[side.tls],
		Message: oneLine(err.Error()), Err: err}
	for _, h := range dialHints {
		if strings.Contains(e.Message, h.fragment) {
			e.Message = h.hint(side) + "; " + e.Message
			break
		}
	}
	return e
}

// DialError is a connection to Temporal that failed, explained.
type DialError struct {
	Address, Namespace string
	// How is "TLS" or "plaintext".
	How     string
	Message string
	Err     error
}

func (e *DialError) Error() string {
	return fmt.Sprintf("connect to Temporal at %s (namespace %s, %s): %s", e.Address, e.Namespace, e.How, e.Message)
}

// Unwrap gives the SDK's error.
func (e *DialError) Unwrap() error { return e.Err }

// oneLine keeps an error on one line: the commands print it as the one
// line a misconfigured process dies with.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// KeyRing loads the payload encryption keys the configuration names.
func (c Config) KeyRing() (*codec.KeyRing, error) {
	return codec.Load(c.PayloadKeys, c.PayloadKeysFile)
}

// Load reads the configuration and builds the process's zap logger, named
// after the process, from LOG_FORMAT and LOG_LEVEL.
func Load(process string) (Config, *zap.Logger, error) {
	cfg, err := FromEnv()
	if err != nil {
		return Config{}, nil, err
	}
	log, err := logging.New(cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return Config{}, nil, err
	}
	return cfg, log.Named(process), nil
}
