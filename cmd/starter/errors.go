package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"
)

// usageError is a command line the command cannot run (a missing or
// contradictory flag, an unknown operation or resource): exit 2 with the
// command's usage hint. Errors cobra itself returns (unknown flag or
// command, required flags, flag groups) are usage errors too, see report.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// failure is a command that was accepted and then failed: exit 1. It says
// what the command was doing and which execution was involved, so that the
// one line printed is enough to find the execution in the web UI; the
// error chain stays in err for errors.Is/As but is not printed whole.
type failure struct {
	// what the command was doing ("register a link at erebor_mx_retail
	// (key K)"); empty when cause says it all.
	what       string
	workflowID string
	uiURL      string
	// cause, when set, replaces the one describeCause reads from err (a
	// cooldown, an interrupted wait).
	cause string
	err   error
}

func (f *failure) Error() string { return f.line() }
func (f *failure) Unwrap() error { return f.err }

// line is what failed and why, in one line, without the "starter: " prefix.
func (f *failure) line() string {
	cause := f.cause
	if cause == "" {
		cause = describeCause(f.err)
	}
	if f.what == "" {
		return cause
	}
	return f.what + ": " + cause
}

// renamed are the flags the single flag set of an earlier starter took,
// by command: a script that still passes one is told the new name rather
// than only "unknown flag".
var renamed = map[string]map[string]string{
	"register": {"request-id": "--key"},
	"async":    {"client-request-id": "--key"},
	"refresh":  {"client-request-id": "--key"},
	"mfa":      {"request-id": "--registration"},
}

// flagError turns pflag's parse errors into usage errors, naming the new
// flag when an old one was given.
func flagError(cmd *cobra.Command, err error) error {
	var missing *pflag.NotExistError
	if errors.As(err, &missing) {
		if now, ok := renamed[cmd.Name()][missing.GetSpecifiedName()]; ok {
			return usagef("%v (renamed: use %s)", err, now)
		}
	}
	return &usageError{err.Error()}
}

// report prints err once, short, to w and returns the exit status: 1 for
// a failure (one line, then the execution's id and web UI link), 2 for
// anything else, which can only come from the command line: cobra returns
// its own errors (unknown command or flag, required flags, flag groups,
// stray arguments) before RunE, and every RunE returns either a usage
// error or a failure (app.run wraps the rest).
func report(w io.Writer, cmd *cobra.Command, err error) int {
	var f *failure
	if errors.As(err, &f) {
		fmt.Fprintln(w, "starter: "+f.line())
		if f.workflowID != "" {
			fmt.Fprintf(w, "  workflow id: %s\n", f.workflowID)
		}
		if f.uiURL != "" {
			fmt.Fprintf(w, "  web UI:      %s\n", f.uiURL)
		}
		return 1
	}
	fmt.Fprintf(w, "%s: %v\n", cmd.CommandPath(), err)
	if cmd.HasParent() {
		fmt.Fprintf(w, "usage: %s\nrun '%s -h' for its flags and an example\n", cmd.UseLine(), cmd.CommandPath())
	} else {
		fmt.Fprint(w, cmd.UsageString())
	}
	return 2
}

// wrapperTypes are the ApplicationError types the SDK gives a plain Go
// error a workflow or activity returned (its reflected type name: "" for
// errors.New, wrapError for fmt.Errorf with %w, …). Their message repeats
// the whole chain below them, SDK annotations included, so describeCause
// looks past them for a type someone chose.
var wrapperTypes = map[string]bool{"": true, "wrapError": true, "wrapErrors": true, "joinError": true}

// describeCause is the innermost useful cause of err, in one line. For a
// Temporal failure it is the first ApplicationError whose type someone
// chose, as "message (Type)", rather than the SDK's chain ("workflow
// execution error (type: …, workflowID: …, runID: …): activity error (…):
// …"), whose ids the failure prints on their own lines; a workflow's own
// typed error comes before the activity error it wraps, because its message
// already says what the activity's failure meant for the execution. Other
// errors: a server error's own message (the wrappers above it only repeat
// what the failure says), else the whole message.
func describeCause(err error) string {
	if err == nil {
		return "unknown error"
	}
	var untyped *temporal.ApplicationError
	for e := err; e != nil; e = errors.Unwrap(e) {
		switch t := e.(type) {
		case *temporal.ApplicationError:
			if !wrapperTypes[t.Type()] {
				return fmt.Sprintf("%s (%s)", t.Message(), t.Type())
			}
			untyped = t
		case *temporal.TimeoutError:
			msg := fmt.Sprintf("%s (timeout: %s)", t.Message(), t.TimeoutType())
			if last := errors.Unwrap(t); last != nil {
				msg += "; last failure: " + describeCause(last)
			}
			return msg
		case *temporal.CanceledError:
			return "canceled"
		case *temporal.TerminatedError:
			return "terminated"
		case *temporal.PanicError:
			return "panic: " + t.Error()
		}
	}
	if untyped != nil {
		// Only untyped errors below: the innermost one's message is the
		// root cause without the wrappers' prefixes.
		return untyped.Message()
	}
	switch {
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer in time"
	}
	var svc serviceerror.ServiceError
	if errors.As(err, &svc) {
		return svc.Error()
	}
	// Anything else (the configuration, the key ring) is a plain Go
	// chain whose every level adds context: printed whole, without the
	// prefix package starter gives its errors (the line has its own).
	return strings.TrimPrefix(err.Error(), "starter: ")
}

// notFound reports whether err says the execution does not exist (its web
// UI page would be empty too).
func notFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}
