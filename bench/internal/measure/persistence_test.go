package measure

import (
	"testing"

	"github.com/belvo-temporal/backbone/internal/promtext"
)

func TestPersistenceReadsEveryServiceAndStore(t *testing.T) {
	m := promtext.Metrics{
		`persistence_requests{namespace="default",operation="UpdateWorkflowExecution",service_name="history"} 7`,
		`persistence_requests{namespace="_unknown_",operation="UpdateWorkflowExecution",service_name="matching"} 2`,
		`persistence_requests{namespace="default",operation="GetWorkflowExecution",service_name="history"} 3`,
		`visibility_persistence_requests{operation="UpsertWorkflowExecution",service_name="history",visibility_plugin_name="sqlite"} 4`,
		`persistence_requests_total{operation="NotThisOne"} 100`,
		`persistence_latency_sum{operation="UpdateWorkflowExecution"} 0.5`,
		`persistence_requests{namespace="default",service_name="history"} 9`,
	}
	got := persistenceOf(m)
	want := Persistence{"UpdateWorkflowExecution": 9, "GetWorkflowExecution": 3, "visibility:UpsertWorkflowExecution": 4}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for op, v := range want {
		if got[op] != v {
			t.Errorf("%s = %g, want %g", op, got[op], v)
		}
	}
	requests, writes := got.Totals()
	if requests != 16 || writes != 13 {
		t.Errorf("totals = %g requests, %g writes; want 16, 13", requests, writes)
	}
}

func TestPersistenceSubAndOps(t *testing.T) {
	before := Persistence{"A": 1, "B": 5}
	after := Persistence{"A": 4, "B": 5, "C": 2}
	d := after.Sub(before)
	if len(d) != 2 || d["A"] != 3 || d["C"] != 2 {
		t.Errorf("Sub = %v, want A 3, C 2 and no B", d)
	}
	ops := Persistence{"Z": 2, "X": 21, "Y": 10}.Ops()
	if len(ops) != 3 || ops[0] != "X" || ops[1] != "Y" || ops[2] != "Z" {
		t.Errorf("Ops = %v, want [X Y Z] (most requested first)", ops)
	}
}

func TestIsWrite(t *testing.T) {
	cases := []struct {
		op   string
		want bool
	}{
		{"UpdateWorkflowExecution", true},
		{"AppendHistoryNodes", true},
		{"CreateWorkflowExecution", true},
		{"RangeCompleteHistoryTasks", true},
		{"visibility:UpsertWorkflowExecution", true},
		{"GetWorkflowExecution", false},
		{"ReadHistoryBranch", false},
		{"ListConcreteExecutions", false},
		{"visibility:CountWorkflowExecutions", false},
	}
	for _, c := range cases {
		if got := IsWrite(c.op); got != c.want {
			t.Errorf("IsWrite(%q) = %v, want %v", c.op, got, c.want)
		}
	}
}
