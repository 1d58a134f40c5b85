// Command starter starts and inspects the product's executions, one
// subcommand per task (run 'starter -h' for the list, 'starter <command> -h'
// for a command's flags and an example):
//
//	starter register --username bnk100 [--institution erebor_mx_retail] [--resources ACCOUNTS,TRANSACTIONS,OWNERS]
//	                 [--external-id ID] [--access-mode single|recurrent] [--key KEY] [--wait]
//	                 (bank password from $BELVO_LINK_PASSWORD, never a flag)
//	starter fetch    --link-id ID [--resources …] [--external-id ID] [--institution I] [--wait]
//	                 (a link the Connect Widget created)
//	starter async    --op transactions --link-id ID [--from 2026-10-01 --to 2026-10-31] [--type INFLOW]
//	                 [--account ID] [--key KEY] [--wait]
//	starter refresh  --link-id ID [--resources …] [--key KEY] [--wait]
//	starter status   --link-id ID             (a link's historical fetch)
//	starter status   --updates --link-id ID   (a link's recurrent updates: counts, failed steps)
//	starter status   --request-id RID         (an async request, by Belvo's request_id)
//	starter mfa      --registration KEY [--token T]   (token also from $BELVO_MFA_TOKEN)
//	starter retry-failed --link-id ID
//
// The Temporal connection and the timeouts given to new executions come
// from the environment (config.FromEnv). Usage errors exit 2, failures 1,
// each printed as one line (plus the execution's id and web UI link).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first Ctrl-C the command still asks Temporal for the latest
	// progress to print; giving the signal back lets a second one end the
	// process at once if that takes too long.
	go func() { <-ctx.Done(); stop() }()
	code := execute(ctx, newApp(), os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
