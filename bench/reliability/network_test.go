package main

import (
	"strings"
	"testing"
)

// The full form has each fault on each hop alone; the short form each
// fault on all hops at once; every name is distinct (it selects with -run
// and keys the databases) and every row says its duration.
func TestNetScenariosCoverEachFaultOnEachHop(t *testing.T) {
	forms := map[string]int{}
	names := map[string]bool{}
	for _, sc := range netScenarios() {
		forms[sc.form]++
		if names[sc.name] {
			t.Errorf("scenario %s twice", sc.name)
		}
		names[sc.name] = true
		if !strings.Contains(sc.fault, "for ") {
			t.Errorf("%s: fault %q says no duration", sc.name, sc.fault)
		}
	}
	if want := len(netFaults) * len(hops); forms["full"] != want {
		t.Errorf("%d full-form rows, want %d", forms["full"], want)
	}
	if forms["short"] != len(netFaults) {
		t.Errorf("%d short-form rows, want %d", forms["short"], len(netFaults))
	}
	for _, h := range hops {
		for _, nf := range netFaults {
			if !names["net-"+hopKey(h)+"-"+nf.key] {
				t.Errorf("no scenario for %s on %s", nf.key, h)
			}
		}
	}
}
