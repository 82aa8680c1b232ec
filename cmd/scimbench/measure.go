package main

import (
	"context"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// result is the outcome of one workload at one client count.
type result struct {
	Name     string
	Clients  int
	Ops      int // operations that succeeded
	Errors   int
	FirstErr string
	Elapsed  time.Duration
	lat      []time.Duration
}

func (r *result) opsPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

func (r *result) p(q float64) time.Duration { return percentile(r.lat, q) }

// percentile returns the q-quantile (0 < q <= 1) of the durations by the
// nearest-rank method, or 0 for none. It sorts d.
func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := int(math.Ceil(q*float64(len(d)))) - 1
	return d[max(i, 0)]
}

// operation runs operation number i on behalf of worker w (0 <= w <
// clients). Each i in [0, maxOps) is handed out at most once.
type operation func(ctx context.Context, w, i int) error

// measure runs op from the given number of concurrent clients until
// maxOps operations were started or maxDur elapsed, whichever comes
// first, and records the latency of every successful operation.
func measure(ctx context.Context, name string, clients, maxOps int, maxDur time.Duration, op operation) *result {
	ctx, cancel := context.WithTimeout(ctx, maxDur)
	defer cancel()

	var next atomic.Int64
	var mu sync.Mutex
	res := &result{Name: name, Clients: clients, lat: make([]time.Duration, 0, maxOps)}
	var wg sync.WaitGroup
	start := time.Now()
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, maxOps/clients+1)
			var errs int
			var firstErr string
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= maxOps {
					break
				}
				t := time.Now()
				err := op(ctx, w, i)
				d := time.Since(t)
				if err != nil {
					// An operation cut off by the time limit is not an error
					// of the server.
					if ctx.Err() != nil {
						break
					}
					errs++
					if firstErr == "" {
						firstErr = err.Error()
					}
					continue
				}
				lat = append(lat, d)
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			res.Errors += errs
			if res.FirstErr == "" {
				res.FirstErr = firstErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Ops = len(res.lat)
	return res
}
