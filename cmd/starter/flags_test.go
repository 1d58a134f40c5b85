package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/belvo-temporal/backbone/workflows"
)

// TestCommandLines holds each command to its flags: what a command line
// asks of the backbone, and which command lines are refused (exit 2, one
// line naming the problem, the command's usage hint) without dialing.
func TestCommandLines(t *testing.T) {
	password := map[string]string{"BELVO_LINK_PASSWORD": "full"}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		// want are the calls made, in order (exit 0); wantErr the
		// substrings of a refused command line (exit 2, no calls).
		want    []string
		wantErr []string
	}{
		{name: "register defaults", args: []string{"register", "--username", "bnk100"}, env: password,
			want: []string{"RegisterLink key=key-1 institution=erebor_mx_retail username=bnk100 password=full external= mode=single resources=[ACCOUNTS TRANSACTIONS OWNERS]"}},
		{name: "register every flag",
			args: []string{"register", "--username", "u", "--institution", "i", "--resources", "owners", "--resources", "accounts",
				"--external-id", "ext-1", "--access-mode", "recurrent", "--key", "K", "--wait"},
			env: password,
			want: []string{"RegisterLink key=K institution=i username=u password=full external=ext-1 mode=recurrent resources=[OWNERS ACCOUNTS]",
				"WaitFetch link=link-1"}},
		{name: "register without password", args: []string{"register", "--username", "bnk100"},
			wantErr: []string{"starter register: the bank password must be in $BELVO_LINK_PASSWORD", "usage: starter register --username USER"}},
		{name: "register without username", args: []string{"register"}, env: password,
			wantErr: []string{`required flag(s) "username" not set`}},
		{name: "register password flag does not exist", args: []string{"register", "--username", "u", "--password", "x"}, env: password,
			wantErr: []string{"unknown flag: --password"}},
		{name: "register old key flag", args: []string{"register", "--username", "u", "--request-id", "K"}, env: password,
			wantErr: []string{"unknown flag: --request-id (renamed: use --key)"}},
		{name: "register bad access mode", args: []string{"register", "--username", "u", "--access-mode", "forever"}, env: password,
			wantErr: []string{"--access-mode must be single or recurrent"}},
		{name: "register unknown resource", args: []string{"register", "--username", "u", "--resources", "ACCOUNTS,BOGUS"}, env: password,
			wantErr: []string{`--resources: unknown Belvo resource "BOGUS"`}},

		{name: "fetch", args: []string{"fetch", "--link-id", "L", "--resources", "ACCOUNTS", "--external-id", "E", "--wait"},
			want: []string{"FetchLink link=L resources=[ACCOUNTS] external=E institution=", "WaitFetch link=L"}},
		{name: "fetch default resources", args: []string{"fetch", "--link-id", "L", "--institution", "I"},
			want: []string{"FetchLink link=L resources=[ACCOUNTS TRANSACTIONS OWNERS] external= institution=I"}},
		{name: "fetch without link", args: []string{"fetch"}, wantErr: []string{`required flag(s) "link-id" not set`, "usage: starter fetch --link-id ID"}},
		{name: "fetch stray argument", args: []string{"fetch", "--link-id", "L", "extra"}, wantErr: []string{`unknown command "extra" for "starter fetch"`}},
		{name: "fetch empty resources", args: []string{"fetch", "--link-id", "L", "--resources", ""}, wantErr: []string{"name at least one resource"}},

		{name: "async transactions",
			args: []string{"async", "--op", "transactions", "--link-id", "L", "--from", "2026-09-01", "--to", "2026-10-31", "--account", "A", "--key", "K"},
			want: []string{"StartAsync key=K op=transactions link=L account=A from=2026-09-01 to=2026-10-31 type="}},
		{name: "async invoices wait",
			args: []string{"async", "--op", "invoices", "--link-id", "L", "--from", "2026-09-01", "--to", "2026-10-31", "--type", "INFLOW", "--wait"},
			want: []string{"StartAsync key=key-1 op=invoices link=L account= from=2026-09-01 to=2026-10-31 type=INFLOW", "WaitAsync rid=rid-1"}},
		{name: "async unknown op", args: []string{"async", "--op", "loans", "--link-id", "L"}, wantErr: []string{`unknown async operation "loans"`}},
		{name: "async without op", args: []string{"async", "--link-id", "L"}, wantErr: []string{`required flag(s) "op" not set`}},
		{name: "async invoices without type", args: []string{"async", "--op", "invoices", "--link-id", "L", "--from", "2026-09-01", "--to", "2026-10-31"},
			wantErr: []string{"invoices"}},
		{name: "async without dates", args: []string{"async", "--op", "transactions", "--link-id", "L"}, wantErr: []string{"date_from and date_to are required"}},
		{name: "async old key flag", args: []string{"async", "--op", "employment_records", "--link-id", "L", "--client-request-id", "K"},
			wantErr: []string{"unknown flag: --client-request-id (renamed: use --key)"}},

		{name: "refresh link's own resources", args: []string{"refresh", "--link-id", "L"}, want: []string{"Refresh key=key-1 link=L resources=[]"}},
		{name: "refresh named resources", args: []string{"refresh", "--link-id", "L", "--resources", "accounts,transactions", "--key", "K", "--wait"},
			want: []string{"Refresh key=K link=L resources=[ACCOUNTS TRANSACTIONS]", "WaitAsync rid=rid-1"}},
		{name: "refresh without link", args: []string{"refresh"}, wantErr: []string{`required flag(s) "link-id" not set`}},
		{name: "refresh old key flag", args: []string{"refresh", "--link-id", "L", "--client-request-id", "K"}, wantErr: []string{"renamed: use --key"}},

		{name: "status fetch", args: []string{"status", "--link-id", "L"}, want: []string{"Progress link=L"}},
		{name: "status async", args: []string{"status", "--request-id", "R"}, want: []string{"AsyncProgress rid=R"}},
		{name: "status updates", args: []string{"status", "--updates", "--link-id", "L"}, want: []string{"LinkUpdatesProgress link=L"}},
		{name: "status nothing", args: []string{"status"}, wantErr: []string{"say which execution: --link-id ID", "usage: starter status"}},
		{name: "status both", args: []string{"status", "--link-id", "L", "--request-id", "R"}, wantErr: []string{"give one"}},
		{name: "status updates of a request", args: []string{"status", "--updates", "--request-id", "R"}, wantErr: []string{"it goes with --link-id"}},
		{name: "status updates alone", args: []string{"status", "--updates"}, wantErr: []string{"say which execution"}},

		{name: "mfa", args: []string{"mfa", "--registration", "K", "--token", "123456"}, want: []string{"SendMFAToken registration=K token=123456"}},
		{name: "mfa token from env", args: []string{"mfa", "--registration", "K"}, env: map[string]string{"BELVO_MFA_TOKEN": "654321"},
			want: []string{"SendMFAToken registration=K token=654321"}},
		{name: "mfa without token", args: []string{"mfa", "--registration", "K"}, wantErr: []string{"--token or $BELVO_MFA_TOKEN"}},
		{name: "mfa without registration", args: []string{"mfa", "--token", "1"}, wantErr: []string{`required flag(s) "registration" not set`}},
		{name: "mfa old flag", args: []string{"mfa", "--request-id", "K", "--token", "1"}, wantErr: []string{"unknown flag: --request-id (renamed: use --registration)"}},

		{name: "retry-failed", args: []string{"retry-failed", "--link-id", "L"}, want: []string{"RetryFailedSteps link=L", "LinkUpdatesProgress link=L"}},
		{name: "retry-failed without link", args: []string{"retry-failed"}, wantErr: []string{`required flag(s) "link-id" not set`}},

		{name: "relist", args: []string{"relist", "--link-id", "L", "--resources", "transactions,accounts"},
			want: []string{"Relist key=key-1 link=L resources=[TRANSACTIONS ACCOUNTS]"}},
		{name: "relist with key", args: []string{"relist", "--link-id", "L", "--resources", "owners", "--key", "K"},
			want: []string{"Relist key=K link=L resources=[OWNERS]"}},
		{name: "relist without resources", args: []string{"relist", "--link-id", "L"}, wantErr: []string{`required flag(s) "resources" not set`}},
		{name: "relist unknown resource", args: []string{"relist", "--link-id", "L", "--resources", "bananas"}, wantErr: []string{`unknown Belvo resource "bananas"`}},
		{name: "relist without link", args: []string{"relist", "--resources", "owners"}, wantErr: []string{`required flag(s) "link-id" not set`}},

		{name: "no command", args: nil, wantErr: []string{"a command is required", "register", "retry-failed"}},
		{name: "unknown command", args: []string{"start"}, wantErr: []string{`unknown command "start" for "starter"`, "Available Commands"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Every query answers, so each command makes only its own calls.
			f := &fake{progress: workflows.Progress{LinkID: "L", Status: workflows.StatusCompleted},
				asyncProg: workflows.AsyncProgress{RequestID: "rid-1", Status: workflows.StatusCompleted},
				updates:   workflows.LinkUpdatesProgress{LinkID: "L", Status: workflows.StatusWaiting}}
			r := runCLI(context.Background(), t, f, tc.env, tc.args...)
			if tc.wantErr != nil {
				if r.code != 2 {
					t.Fatalf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
				}
				if len(r.calls) > 0 {
					t.Errorf("a refused command line called the backbone: %q", r.calls)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
					}
				}
				return
			}
			if r.code != 0 {
				t.Fatalf("exit %d, want 0; stderr:\n%s", r.code, r.stderr)
			}
			if !slices.Equal(r.calls, tc.want) {
				t.Errorf("calls\n  %q\nwant\n  %q", r.calls, tc.want)
			}
		})
	}
}

// TestHelp: -h shows each command's example; starter -h lists every
// command. Help is not an error.
func TestHelp(t *testing.T) {
	commands := []string{"register", "fetch", "async", "refresh", "status", "mfa", "retry-failed", "relist"}
	r := runCLI(context.Background(), t, &fake{}, nil, "-h")
	if r.code != 0 {
		t.Fatalf("starter -h: exit %d", r.code)
	}
	for _, c := range commands {
		if !strings.Contains(r.stdout, "\n  "+c+" ") {
			t.Errorf("starter -h does not list %s:\n%s", c, r.stdout)
		}
	}
	for _, c := range commands {
		r := runCLI(context.Background(), t, &fake{}, nil, c, "-h")
		if r.code != 0 || !strings.Contains(r.stdout, "Examples:\n  ") || !strings.Contains(r.stdout, "starter "+c) {
			t.Errorf("starter %s -h: exit %d, no example:\n%s", c, r.code, r.stdout)
		}
		if len(r.calls) > 0 {
			t.Errorf("starter %s -h called the backbone: %q", c, r.calls)
		}
	}
}
