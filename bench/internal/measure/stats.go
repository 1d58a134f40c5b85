package measure

import (
	"math"
	"slices"
)

// Percentiles are the nearest-rank percentiles (0 < p ≤ 100) of xs: each is
// one of the samples, no interpolation. NaN for no samples.
func Percentiles(xs []float64, ps ...float64) []float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	out := make([]float64, len(ps))
	for i, p := range ps {
		if len(s) == 0 {
			out[i] = math.NaN()
			continue
		}
		rank := int(math.Ceil(p / 100 * float64(len(s))))
		out[i] = s[min(max(rank, 1), len(s))-1]
	}
	return out
}

// Fit is a least-squares line through points (i, ys[i]).
type Fit struct {
	// Slope is the change per step; Mean the ys' mean; Residual the
	// standard deviation of the points around the line.
	Slope, Mean, Residual float64
}

// LinearFit fits ys against their index; fewer than 3 points fit nothing
// (zero Fit).
func LinearFit(ys []float64) Fit {
	n := float64(len(ys))
	if len(ys) < 3 {
		return Fit{}
	}
	var sx, sy, sxx, sxy float64
	for i, y := range ys {
		x := float64(i)
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	slope := (n*sxy - sx*sy) / (n*sxx - sx*sx)
	icept := (sy - slope*sx) / n
	var ss float64
	for i, y := range ys {
		d := y - (icept + slope*float64(i))
		ss += d * d
	}
	return Fit{Slope: slope, Mean: sy / n, Residual: math.Sqrt(ss / (n - 2))}
}

// WithinNoise is the drift rule, one-sided since only growth is a
// problem (memory that leaks, latency that degrades): the line's rise over
// the run (slope × steps) is at most k residual standard deviations, or at
// most pct % of the mean (a smooth series has a residual near 0, where any
// rise would otherwise count). A falling series is within it.
func (f Fit) WithinNoise(steps int, k, pct float64) bool {
	rise := f.Slope * float64(steps)
	return rise <= k*f.Residual || rise <= pct/100*math.Abs(f.Mean)
}
