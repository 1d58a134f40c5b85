package fetchaudit

import (
	"testing"

	"github.com/belvo-temporal/backbone/belvo"
	"github.com/belvo-temporal/backbone/workflows"
)

// run is a fetch run's progress with the given listings per resource.
func run(fetches map[belvo.Resource]int) workflows.Progress {
	p := workflows.Progress{Resources: map[belvo.Resource]*workflows.ResourceProgress{}}
	for r, n := range fetches {
		p.Resources[r] = &workflows.ResourceProgress{State: workflows.StateStored, Fetches: n}
	}
	return p
}

func TestJudge(t *testing.T) {
	listed := run(map[belvo.Resource]int{belvo.Accounts: 1, belvo.Transactions: 1, belvo.Owners: 1})
	// A run that found every resource stored by an earlier one: loadStored
	// marks them stored without listing.
	nothing := run(map[belvo.Resource]int{belvo.Accounts: 0, belvo.Transactions: 0})
	tests := []struct {
		name string
		runs []workflows.Progress
		want Runs
	}{
		{"one run", []workflows.Progress{listed}, Runs{}},
		{"a late copy's run after it", []workflows.Progress{listed, nothing}, Runs{Absorbed: 1}},
		{"a late copy's run before it in visibility's order", []workflows.Progress{nothing, listed}, Runs{Absorbed: 1}},
		{"two runs that listed", []workflows.Progress{listed, listed}, Runs{Twice: 1}},
		{"three runs that listed", []workflows.Progress{listed, listed, listed, nothing}, Runs{Twice: 2, Absorbed: 1}},
		{"a resource listed twice in one run", []workflows.Progress{run(map[belvo.Resource]int{belvo.Transactions: 2, belvo.Owners: 1})}, Runs{Refetch: 1}},
		{"a run with no resources at all", []workflows.Progress{{}}, Runs{Absorbed: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := judge(tt.runs)
			if got != tt.want {
				t.Errorf("judge = %+v, want %+v", got, tt.want)
			}
			if got.Duplicates() != tt.want.Twice+tt.want.Refetch {
				t.Errorf("Duplicates() = %d, want %d", got.Duplicates(), tt.want.Twice+tt.want.Refetch)
			}
		})
	}
}

func TestRunsAdd(t *testing.T) {
	got := Runs{Twice: 1, Refetch: 2, Absorbed: 3}.add(Runs{Twice: 10, Refetch: 20, Absorbed: 30})
	if want := (Runs{Twice: 11, Refetch: 22, Absorbed: 33}); got != want {
		t.Errorf("add = %+v, want %+v", got, want)
	}
}
