package config

import (
	"fmt"
	"strings"

	"github.com/belvo-temporal/backbone/internal/loopback"
)

// RefuseSandboxCredentials fails when the worker would call a Belvo that is
// not on this machine with the sandbox emulator's published credentials:
// a production deployment that forgot its secret keys stops at start-up,
// naming what to set, instead of calling Belvo with keys anyone can read.
func (c Config) RefuseSandboxCredentials() error {
	if loopback.URL(c.BelvoBaseURL) {
		return nil
	}
	var unset []string
	if c.BelvoSecretID == DefaultSecretID {
		unset = append(unset, "BELVO_SECRET_ID")
	}
	if c.BelvoSecretPassword == DefaultSecretPassword {
		unset = append(unset, "BELVO_SECRET_PASSWORD")
	}
	if len(unset) == 0 {
		return nil
	}
	return fmt.Errorf("config: BELVO_BASE_URL=%s is not this machine, but %s still hold the sandbox emulator's published defaults: "+
		"set %s to your Belvo secret keys", c.BelvoBaseURL, strings.Join(unset, " and "), strings.Join(unset, " and "))
}

// RefuseLocalWebhookSecret fails when the bridge would listen beyond this
// machine with the published local webhook secret: anyone could then post
// webhooks it accepts.
func (c Config) RefuseLocalWebhookSecret() error {
	if c.WebhookAuthorization != DefaultWebhookAuthorization || loopback.Addr(c.WebhookListenAddr) {
		return nil
	}
	return fmt.Errorf("config: BELVO_WEBHOOK_AUTHORIZATION is the published local default; set your own value before listening on %s",
		c.WebhookListenAddr)
}
