package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		d := make([]time.Duration, len(v))
		for i, x := range v {
			d[i] = time.Duration(x) * time.Millisecond
		}
		return d
	}
	tests := []struct {
		name string
		in   []time.Duration
		q    float64
		want time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one value", ms(7), 0.99, 7 * time.Millisecond},
		{"median of unsorted", ms(5, 1, 4, 2, 3), 0.5, 3 * time.Millisecond},
		{"p99 of 100", ms(seq(1, 101)...), 0.99, 99 * time.Millisecond},
		{"p100 is max", ms(3, 9, 1), 1, 9 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.in, tt.q); got != tt.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.in, tt.q, got, tt.want)
			}
		})
	}
}

func TestCaseVariantMatchesFold(t *testing.T) {
	const name = "ada.jensen.0000042@example.com"
	seen := map[string]bool{}
	for k := range 4 {
		got := caseVariant(name, k)
		if !strings.EqualFold(got, name) {
			t.Errorf("caseVariant(%q, %d) = %q, not equal under case folding", name, k, got)
		}
		seen[got] = true
	}
	if len(seen) != 4 {
		t.Errorf("caseVariant produced %d distinct spellings, want 4: %v", len(seen), seen)
	}
}

func TestMeasureBoundedByOps(t *testing.T) {
	var calls atomic.Int64
	r := measure(context.Background(), "count", 8, 100, time.Minute, func(ctx context.Context, w, i int) error {
		calls.Add(1)
		if i%10 == 0 {
			return errors.New("failed")
		}
		return nil
	})
	if got := calls.Load(); got != 100 {
		t.Errorf("operations run = %d, want 100", got)
	}
	if r.Ops != 90 {
		t.Errorf("Ops = %d, want 90", r.Ops)
	}
	if r.Errors != 10 {
		t.Errorf("Errors = %d, want 10", r.Errors)
	}
	if r.FirstErr != "failed" {
		t.Errorf("FirstErr = %q, want %q", r.FirstErr, "failed")
	}
}

func TestMeasureBoundedByTime(t *testing.T) {
	start := time.Now()
	r := measure(context.Background(), "slow", 2, 1_000_000, 50*time.Millisecond, func(ctx context.Context, w, i int) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
			return nil
		}
	})
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("measure ran %v with a 50ms limit", elapsed)
	}
	if r.Ops == 0 || r.Ops >= 1_000_000 {
		t.Errorf("Ops = %d, want between 1 and the operation limit", r.Ops)
	}
	if r.Errors != 0 {
		t.Errorf("Errors = %d, want 0: operations cut off by the limit are not errors", r.Errors)
	}
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"--users", "2000", "--big-group", "2000", "--clients", "1, 4,8"})
	if err != nil {
		t.Fatalf("parseFlags: %v", err)
	}
	if diff := cmp.Diff([]int{1, 4, 8}, cfg.clients); diff != "" {
		t.Errorf("clients (-want +got):\n%s", diff)
	}
	if cfg.users != 2000 || cfg.bigGroup != 2000 {
		t.Errorf("users, big group = %d, %d, want 2000, 2000", cfg.users, cfg.bigGroup)
	}
}

func TestParseFlagsReportsEveryProblem(t *testing.T) {
	_, err := parseFlags([]string{"--users", "10", "--big-group", "20", "--clients", "0,x", "--ops", "0"})
	if err == nil {
		t.Fatal("parseFlags returned no error")
	}
	for _, want := range []string{`"0"`, `"x"`, "--big-group 20 exceeds --users 10", "--ops: must be at least 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestReadStatusOwnProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc on this system")
	}
	rss := readStatus(os.Getpid(), "VmRSS")
	if rss <= 0 {
		t.Errorf("VmRSS of this process = %d, want > 0", rss)
	}
	if hwm := readHWM(os.Getpid()); hwm < rss {
		t.Errorf("VmHWM = %d, want at least VmRSS %d", hwm, rss)
	}
	if got := readStatus(os.Getpid(), "NoSuchField"); got != 0 {
		t.Errorf("unknown field = %d, want 0", got)
	}
}

func TestNewUserManager(t *testing.T) {
	_, body := newUser(150, "", "manager-id")
	ext, ok := body[enterpriseURN].(map[string]any)
	if !ok {
		t.Fatalf("user has no enterprise extension: %v", body)
	}
	if diff := cmp.Diff(map[string]any{"value": "manager-id"}, ext["manager"]); diff != "" {
		t.Errorf("manager (-want +got):\n%s", diff)
	}
	_, body = newUser(5, "", "")
	if _, ok := body[enterpriseURN].(map[string]any)["manager"]; ok {
		t.Error("user without a manager id has a manager")
	}
}

func TestRatioVerdicts(t *testing.T) {
	tests := []struct {
		name     string
		num, den time.Duration
		wantOK   bool
		wantPass bool
	}{
		{"under limit", 3 * time.Millisecond, 2 * time.Millisecond, true, true},
		{"at limit", 4 * time.Millisecond, 2 * time.Millisecond, true, true},
		{"over limit", 5 * time.Millisecond, 2 * time.Millisecond, true, false},
		{"not measured", 0, 2 * time.Millisecond, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := atMost("x", tt.num, tt.den, 2)
			if got.ok != tt.wantOK || got.pass != tt.wantPass {
				t.Errorf("atMost(%v, %v, 2) ok, pass = %v, %v, want %v, %v", tt.num, tt.den, got.ok, got.pass, tt.wantOK, tt.wantPass)
			}
		})
	}
}
