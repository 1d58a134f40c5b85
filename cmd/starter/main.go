// Command starter starts and inspects executions:
//
//	starter register --username bnk100 [--institution erebor_mx_retail] [--resources ACCOUNTS,TRANSACTIONS,OWNERS]
//	                 [--external-id ID] [--request-id KEY] [--wait]      (bank password from $BELVO_LINK_PASSWORD)
//	starter fetch    --link-id ID [--resources …] [--wait]                (a link the Connect Widget created)
//	starter status   --link-id ID                                         (the progress query, as a table)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/logging"
	"github.com/belvo-temporal/backbone/starter"
	"github.com/belvo-temporal/backbone/workflows"
	"github.com/google/uuid"
)

const usage = `usage: starter <command> [flags]

commands:
  register  register a link by the API and fetch its history
            (the bank password is read from $BELVO_LINK_PASSWORD, never a flag)
  fetch     fetch the history of an existing link (e.g. created by the Connect Widget)
  status    print the progress of a link's historical fetch

run 'starter <command> -h' for a command's flags`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1], os.Args[2:], os.Stdout)
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, "starter:", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "starter:", err)
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, cmd string, args []string, out io.Writer) error {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	linkID := fs.String("link-id", "", "Belvo link id")
	resources := fs.String("resources", "ACCOUNTS,TRANSACTIONS,OWNERS", "comma-separated resources to fetch")
	institution := fs.String("institution", "erebor_mx_retail", "Belvo institution")
	username := fs.String("username", "", "bank username (register)")
	externalID := fs.String("external-id", "", "your id for the link (3 to 256 characters)")
	requestID := fs.String("request-id", "", "idempotency key for register (default: a new UUID)")
	accessMode := fs.String("access-mode", "single", "single or recurrent")
	wait := fs.Bool("wait", false, "wait for the historical fetch to end and print its progress")
	switch cmd {
	case "register", "fetch", "status":
	case "-h", "--help", "help":
		fmt.Fprintln(out, usage)
		return nil
	default:
		return usageError{fmt.Sprintf("unknown command %q\n%s", cmd, usage)}
	}
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	res, err := belvo.ParseResources(strings.Split(*resources, ","))
	if err != nil {
		return usageError{err.Error()}
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	log, err := logging.New(cfg.LogFormat, "warn")
	if err != nil {
		return err
	}
	c, err := cfg.DialTemporal(log)
	if err != nil {
		return err
	}
	defer c.Close()
	s := starter.Starter{Client: c, TaskQueue: cfg.TaskQueue, FetchTimeout: cfg.HistoricalFetchTimeout}

	switch cmd {
	case "register":
		password := os.Getenv("BELVO_LINK_PASSWORD")
		if *username == "" || password == "" {
			return usageError{"register needs --username and the password in $BELVO_LINK_PASSWORD"}
		}
		if *requestID == "" {
			*requestID = uuid.NewString()
		}
		fmt.Fprintf(out, "registering link at %s (request id %s)…\n", *institution, *requestID)
		reg, err := s.RegisterLink(ctx, *requestID, activities.RegisterLinkInput{
			Institution: *institution, Username: *username, Password: password,
			ExternalID: *externalID, AccessMode: *accessMode, FetchResources: res,
		})
		if err != nil {
			return err
		}
		*linkID = reg.LinkID
		regID := workflows.LinkRegistrationWorkflowID(*requestID)
		runID, _ := s.LatestRunID(ctx, regID)
		fmt.Fprintf(out, "link id:      %s\nregistration: %s\n", reg.LinkID, starter.UIURL(cfg.TemporalUIURL, cfg.TemporalNamespace, regID, runID))
	case "fetch":
		if *linkID == "" {
			return usageError{"fetch needs --link-id"}
		}
		if _, err := s.FetchLink(ctx, *linkID, workflows.FetchRequest{Resources: res, ExternalID: *externalID, Institution: *institution}); err != nil {
			return err
		}
	case "status":
		if *linkID == "" {
			return usageError{"status needs --link-id"}
		}
		p, err := s.Progress(ctx, *linkID)
		if err != nil {
			return err
		}
		starter.FormatProgress(out, p)
		return nil
	}
	wfID := workflows.HistoricalFetchWorkflowID(*linkID)
	runID, _ := s.LatestRunID(ctx, wfID) // the page without a run id works too
	fmt.Fprintf(out, "workflow id:  %s\nweb UI:       %s\n", wfID, starter.UIURL(cfg.TemporalUIURL, cfg.TemporalNamespace, wfID, runID))
	if !*wait {
		return nil
	}
	fmt.Fprintln(out, "waiting for the historical fetch to end…")
	p, err := s.WaitFetch(ctx, *linkID)
	if err != nil {
		if q, qerr := s.Progress(ctx, *linkID); qerr == nil {
			starter.FormatProgress(out, q)
		}
		return err
	}
	starter.FormatProgress(out, p)
	return nil
}
