// Command starter starts and inspects executions:
//
//	starter register --username bnk100 [--institution erebor_mx_retail] [--resources ACCOUNTS,TRANSACTIONS,OWNERS]
//	                 [--external-id ID] [--request-id KEY] [--wait]      (bank password from $BELVO_LINK_PASSWORD)
//	starter fetch    --link-id ID [--resources …] [--wait]                (a link the Connect Widget created)
//	starter async    --op transactions --link-id ID --from 2026-10-01 --to 2026-10-31 [--type INFLOW]
//	                 [--account ID] [--client-request-id KEY] [--wait]    (ops: transactions, invoices,
//	                 employment_records, br_employments, financial_statements, cl_invoices,
//	                 cl_debt_reports, link_deletion)
//	starter refresh  --link-id ID [--resources …] [--client-request-id KEY] [--wait]
//	                 (POST /api/links/{id}/refresh/; resources default to the link's own)
//	starter status   --link-id ID | --request-id RID                      (the progress query)
//	starter mfa      --request-id KEY --token T                           (a registration waiting for MFA)
//	starter retry-failed --link-id ID                                     (a link's failed update steps, now)
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
	"time"

	"github.com/belvo-temporal/backbone/activities"
	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/config"
	"github.com/belvo-temporal/backbone/logging"
	"github.com/belvo-temporal/backbone/starter"
	"github.com/belvo-temporal/backbone/workflows"
	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"
)

const usage = `usage: starter <command> [flags]

commands:
  register  register a link by the API and fetch its history
            (the bank password is read from $BELVO_LINK_PASSWORD, never a flag)
  fetch     fetch the history of an existing link (e.g. created by the Connect Widget)
  async     send an async Belvo request (X-Belvo-Request-Mode: async) and store its data
  refresh   ask Belvo to fetch a link's history again and relist each resource into the store
            (--resources, or the link's own fetch_resources; Belvo allows one refresh per link every 10 minutes)
  status    print the progress of a link's historical fetch (--link-id) or of an async request (--request-id)
  mfa       give a registration that Belvo paused for MFA the user's token (--request-id of register, --token)
  retry-failed
            apply again, now, a link's recurrent-update steps that failed (--link-id); they are also
            retried by themselves after 1 h, then less and less often

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
	requestID := fs.String("request-id", "", "register: idempotency key (default: a new UUID); status: Belvo request_id of an async request")
	accessMode := fs.String("access-mode", "single", "single or recurrent")
	wait := fs.Bool("wait", false, "wait for the execution to end and print its progress")
	op := fs.String("op", "transactions", "async operation")
	from := fs.String("from", "", "date_from (YYYY-MM-DD) of an async request")
	to := fs.String("to", "", "date_to (YYYY-MM-DD) of an async request")
	typ := fs.String("type", "", "INFLOW or OUTFLOW (invoices)")
	account := fs.String("account", "", "account id (async transactions, optional)")
	clientRequestID := fs.String("client-request-id", "", "idempotency key for async (default: a new UUID)")
	token := fs.String("token", "", "MFA token (mfa; or $BELVO_MFA_TOKEN)")
	switch cmd {
	case "register", "fetch", "status", "async", "mfa", "refresh", "retry-failed":
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
	s := starter.Starter{Client: c, TaskQueue: cfg.TaskQueue, FetchTimeout: cfg.HistoricalFetchTimeout, FetchGrace: cfg.HistoricalWebhookGrace, AsyncTimeout: cfg.AsyncTimeout}

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
		fmt.Fprintf(out, "if the bank asks for an MFA token, send it with: starter mfa --request-id %s --token <token>\n", *requestID)
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
	case "async":
		if *clientRequestID == "" {
			*clientRequestID = uuid.NewString()
		}
		req := belvo.AsyncRequest{Op: belvo.Operation(*op), LinkID: *linkID, Account: *account, DateFrom: *from, DateTo: *to, Type: *typ}
		if err := req.Validate(); err != nil {
			return usageError{err.Error()}
		}
		fmt.Fprintf(out, "sending async %s for link %s (client request id %s)…\n", req.Op, req.LinkID, *clientRequestID)
		res, err := s.StartAsync(ctx, *clientRequestID, req)
		if err != nil {
			return err
		}
		return followRequest(ctx, out, s, cfg, res, *wait)
	case "refresh":
		if *linkID == "" {
			return usageError{"refresh needs --link-id"}
		}
		var named []belvo.Resource
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "resources" {
				named = res // only when given: the default is the link's own
			}
		})
		if *clientRequestID == "" {
			*clientRequestID = uuid.NewString()
		}
		fmt.Fprintf(out, "asking Belvo to refresh link %s (client request id %s)…\n", *linkID, *clientRequestID)
		res, err := s.Refresh(ctx, *clientRequestID, *linkID, named)
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.Type() == belvo.ClassRefreshCooldown {
			var c workflows.RefreshCooldown
			if appErr.Details(&c) == nil {
				return fmt.Errorf("link %s was refreshed less than %s ago (Belvo's cooldown): try again in %s (at %s)", *linkID, belvo.RefreshCooldown,
					c.Wait.Round(time.Second), c.RetryAt.Local().Format(time.Kitchen))
			}
		}
		if err != nil {
			return err
		}
		return followRequest(ctx, out, s, cfg, res, *wait)
	case "retry-failed":
		if *linkID == "" {
			return usageError{"retry-failed needs --link-id"}
		}
		if err := s.RetryFailedSteps(ctx, *linkID); err != nil {
			return err
		}
		p, err := s.LinkUpdatesProgress(ctx, *linkID)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "asked link-updates-%s to retry its failed steps now (%d failed at the time of asking)\n", *linkID, len(p.Failed))
		return nil
	case "mfa":
		if *token == "" {
			*token = os.Getenv("BELVO_MFA_TOKEN")
		}
		if *requestID == "" || *token == "" {
			return usageError{"mfa needs --request-id (the register request id) and --token (or $BELVO_MFA_TOKEN)"}
		}
		if err := s.SendMFAToken(ctx, *requestID, *token); err != nil {
			return err
		}
		fmt.Fprintln(out, "MFA token sent; the registration resumes")
		return nil
	case "status":
		switch {
		case *requestID != "":
			p, err := s.AsyncProgress(ctx, *requestID)
			if err != nil {
				return err
			}
			starter.FormatAsync(out, p)
		case *linkID != "":
			p, err := s.Progress(ctx, *linkID)
			if err != nil {
				return err
			}
			starter.FormatProgress(out, p)
		default:
			return usageError{"status needs --link-id or --request-id"}
		}
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

// followRequest prints where an accepted request is waited for and, with
// wait, waits for it and prints its progress.
func followRequest(ctx context.Context, out io.Writer, s starter.Starter, cfg config.Config, res workflows.AsyncPostResult, wait bool) error {
	runID, _ := s.LatestRunID(ctx, res.RequestWorkflowID)
	fmt.Fprintf(out, "belvo request id: %s\nworkflow id:      %s\nweb UI:           %s\n", res.RequestID, res.RequestWorkflowID,
		starter.UIURL(cfg.TemporalUIURL, cfg.TemporalNamespace, res.RequestWorkflowID, runID))
	if !wait {
		return nil
	}
	fmt.Fprintln(out, "waiting for Belvo's webhooks and the data…")
	p, err := s.WaitAsync(ctx, res.RequestID)
	starter.FormatAsync(out, p)
	return err
}
