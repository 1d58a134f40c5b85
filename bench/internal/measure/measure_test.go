package measure

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

func TestPercentiles(t *testing.T) {
	cases := []struct {
		name string
		xs   []float64
		ps   []float64
		want []float64
	}{
		{"nearest rank of 1..100", seq(100), []float64{50, 95, 99, 100}, []float64{50, 95, 99, 100}},
		{"unsorted input", []float64{3, 1, 2}, []float64{50, 99}, []float64{2, 3}},
		{"one sample is every percentile", []float64{7}, []float64{1, 50, 99}, []float64{7, 7, 7}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Percentiles(c.xs, c.ps...)
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("p%g = %g, want %g", c.ps[i], got[i], c.want[i])
				}
			}
		})
	}
	if !math.IsNaN(Percentiles(nil, 50)[0]) {
		t.Error("no samples must give NaN, not a number")
	}
}

func seq(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(i + 1)
	}
	return out
}

func TestLinearFitAndNoise(t *testing.T) {
	cases := []struct {
		name       string
		ys         []float64
		wantSlope  float64
		wantWithin bool
	}{
		{"flat but noisy", []float64{10, 12, 9, 11, 10, 12, 9, 11}, 0, true},
		{"steady growth", []float64{100, 110, 120, 130, 140, 150, 160, 170}, 10, false},
		{"quiet series, tiny drift within 5 % of the mean", []float64{100, 100.1, 100.2, 100.3, 100.4}, 0.1, true},
		{"falling: memory returned, latency improving", []float64{170, 160, 150, 140, 130, 120, 110, 100}, -10, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := LinearFit(c.ys)
			if math.Abs(f.Slope-c.wantSlope) > 1e-3 {
				t.Errorf("slope %g, want %g", f.Slope, c.wantSlope)
			}
			if got := f.WithinNoise(len(c.ys), 2, 5); got != c.wantWithin {
				t.Errorf("within noise = %v, want %v (%+v)", got, c.wantWithin, f)
			}
		})
	}
}

func TestLogTailReadsOnlyNewCompleteSamples(t *testing.T) {
	path := filepath.Join(t.TempDir(), "worker.log")
	write := func(s string) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"level":"info","msg":"webhook to data","flow":"historical","resource":"ACCOUNTS","id":"L0","seconds":9}` + "\n")
	tail := LogTail{Path: path}
	if err := tail.Skip(); err != nil {
		t.Fatal(err)
	}
	write(`{"level":"info","msg":"resource stored","resource":"ACCOUNTS"}` + "\n" +
		`{"level":"info","msg":"webhook to data","flow":"async","resource":"INVOICES","id":"R1","seconds":0.25}` + "\n" +
		`{"level":"info","msg":"webhook to data","flow":"historical","resource":"OWNERS","id":"L1","sec`)
	got, err := tail.Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != (Sample{Flow: "async", Resource: "INVOICES", ID: "R1", Seconds: 0.25}) {
		t.Fatalf("first read %+v, want the one complete new sample", got)
	}
	write(`onds":1.5}` + "\n")
	got, err = tail.Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "L1" || got[0].Seconds != 1.5 {
		t.Fatalf("second read %+v, want the line completed since", got)
	}
}

func TestOpenLoopStartsEveryOne(t *testing.T) {
	var calls atomic.Int64
	seen := make([]atomic.Bool, 50)
	_, err := OpenLoop(context.Background(), 1000, len(seen), func(i int) error {
		calls.Add(1)
		seen[i].Store(true)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range seen {
		if !seen[i].Load() {
			t.Fatalf("f(%d) never ran", i)
		}
	}
	if calls.Load() != int64(len(seen)) {
		t.Errorf("%d calls, want %d", calls.Load(), len(seen))
	}
}
