package config

import (
	"slices"
	"strings"

	"go.temporal.io/sdk/contrib/envconfig"
)

// TemporalClientVariables are the variables the SDK's envconfig reads for
// a client, as the temporal CLI does (temporalGRPCMetaPrefix names a
// family). The deployment checks accept them in manifests.
var TemporalClientVariables = []string{
	"TEMPORAL_CONFIG_FILE", "TEMPORAL_PROFILE", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY",
	"TEMPORAL_CLIENT_AUTHORITY", "TEMPORAL_TLS", "TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_CERT_DATA",
	"TEMPORAL_TLS_CLIENT_KEY_PATH", "TEMPORAL_TLS_CLIENT_KEY_DATA", "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
	"TEMPORAL_TLS_SERVER_CA_CERT_DATA", "TEMPORAL_TLS_SERVER_NAME", "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION",
	"TEMPORAL_CODEC_ENDPOINT", "TEMPORAL_CODEC_AUTH",
}

// TemporalClientSecrets are those of TemporalClientVariables that hold
// secrets: never printed, carried by Secrets in deployments.
var TemporalClientSecrets = []string{"TEMPORAL_API_KEY", "TEMPORAL_TLS_CLIENT_KEY_DATA", "TEMPORAL_CODEC_AUTH"}

// temporalGRPCMetaPrefix starts the variables of extra gRPC metadata.
const temporalGRPCMetaPrefix = "TEMPORAL_GRPC_META_"

// IsTemporalClientVariable reports whether envconfig reads name.
func IsTemporalClientVariable(name string) bool {
	return slices.Contains(TemporalClientVariables, name) || strings.HasPrefix(name, temporalGRPCMetaPrefix) && len(name) > len(temporalGRPCMetaPrefix)
}

// profileEnviron is a client profile as the variables envconfig reads
// (Address and Namespace aside). Only what is set is written: envconfig
// takes a variable that is present but empty as set, and an empty
// TEMPORAL_TLS_* would turn TLS on.
func profileEnviron(p envconfig.ClientConfigProfile) []string {
	var env []string
	add := func(name, value string) {
		if value != "" {
			env = append(env, name+"="+value)
		}
	}
	add("TEMPORAL_API_KEY", p.APIKey)
	add("TEMPORAL_CLIENT_AUTHORITY", p.Authority)
	if t := p.TLS; t != nil {
		env = append(env, "TEMPORAL_TLS="+map[bool]string{true: "false", false: "true"}[t.Disabled])
		add("TEMPORAL_TLS_CLIENT_CERT_PATH", t.ClientCertPath)
		add("TEMPORAL_TLS_CLIENT_CERT_DATA", string(t.ClientCertData))
		add("TEMPORAL_TLS_CLIENT_KEY_PATH", t.ClientKeyPath)
		add("TEMPORAL_TLS_CLIENT_KEY_DATA", string(t.ClientKeyData))
		add("TEMPORAL_TLS_SERVER_CA_CERT_PATH", t.ServerCACertPath)
		add("TEMPORAL_TLS_SERVER_CA_CERT_DATA", string(t.ServerCACertData))
		add("TEMPORAL_TLS_SERVER_NAME", t.ServerName)
		if t.DisableHostVerification {
			env = append(env, "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION=true")
		}
	}
	if c := p.Codec; c != nil {
		add("TEMPORAL_CODEC_ENDPOINT", c.Endpoint)
		add("TEMPORAL_CODEC_AUTH", c.Auth)
	}
	keys := make([]string, 0, len(p.GRPCMeta))
	for k := range p.GRPCMeta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		add(temporalGRPCMetaPrefix+strings.ToUpper(strings.ReplaceAll(k, "-", "_")), p.GRPCMeta[k])
	}
	return env
}

// temporalSummary describes the client profile for people: whether TLS,
// a client certificate and an API key are used, never their values.
func temporalSummary(p envconfig.ClientConfigProfile) string {
	tls := p.TLS != nil && !p.TLS.Disabled || p.TLS == nil && p.APIKey != ""
	parts := []string{"tls=" + map[bool]string{true: "on", false: "off"}[tls]}
	if tls && p.TLS != nil && (p.TLS.ClientCertPath != "" || len(p.TLS.ClientCertData) > 0) {
		parts = append(parts, "client_cert=set")
	}
	if tls && p.TLS != nil && p.TLS.ServerName != "" {
		parts = append(parts, "server_name="+p.TLS.ServerName)
	}
	parts = append(parts, "api_key="+Mask(p.APIKey))
	return strings.Join(parts, " ")
}
