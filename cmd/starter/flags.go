package main

import (
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/spf13/pflag"
)

// defaultResources are what register and fetch ask Belvo for unless told.
var defaultResources = []string{"ACCOUNTS", "TRANSACTIONS", "OWNERS"}

// resourcesFlag adds --resources: comma-separated or repeated, any letter
// case. It is parsed by parseResources once the flags are read, so an
// unknown name is a usage error naming the known ones.
func resourcesFlag(f *pflag.FlagSet, p *[]string, def []string, usage string) {
	f.StringSliceVar(p, "resources", def, usage)
}

// parseResources validates --resources.
func parseResources(names []string) ([]belvo.Resource, error) {
	res, err := belvo.ParseResources(names)
	if err != nil {
		return nil, usagef("--resources: %v", err)
	}
	if len(res) == 0 {
		return nil, usagef("--resources: name at least one resource")
	}
	return res, nil
}

// keyOr is the idempotency key given, or a new one: a command run twice
// without --key starts twice, on purpose.
func (a *app) keyOr(key string) string {
	if key != "" {
		return key
	}
	return a.newKey()
}
