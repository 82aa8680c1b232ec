// Command scimbench measures scimd over HTTP. It builds cmd/scimd and
// starts it on 127.0.0.1 with a fresh data directory, or a fresh database
// on the MongoDB server given by --mongodb-uri. It then builds a dataset
// through the SCIM API and runs a fixed set of workloads at each client
// count. Last, it measures the same reads and writes issued straight to the
// store as a baseline, and writes a markdown report.
//
// It is a benchmark, not a test: nothing asserts a time and CI does not
// run it. Every loop is bounded both by an operation count and by time.
//
//	go run ./cmd/scimbench --users 2000 --big-group 2000 --out docs/benchmarks-raw.md
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type config struct {
	users            int
	sandboxes        int
	groupsPerSandbox int
	sandboxMembers   int
	bigGroup         int
	smallGroup       int
	batch            int
	buildClients     int
	clients          []int
	duration         time.Duration
	ops              int
	pagingTimeout    time.Duration
	out              string
	mongoURI         string
	scimdLog         string
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "scimbench:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, cfg); err != nil {
		log.Error("benchmark failed", "err", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("scimbench", flag.ContinueOnError)
	fs.IntVar(&cfg.users, "users", 100000, "number of users in the dataset")
	fs.IntVar(&cfg.sandboxes, "sandboxes", 3, "number of sandboxes to create")
	fs.IntVar(&cfg.groupsPerSandbox, "groups-per-sandbox", 50, "number of groups in each sandbox")
	fs.IntVar(&cfg.sandboxMembers, "sandbox-group-members", 100, "members of each sandbox group")
	fs.IntVar(&cfg.bigGroup, "big-group", 100000, "members of the big main-account group (at most --users)")
	fs.IntVar(&cfg.smallGroup, "small-group", 100, "members of the small main-account group (at most --users)")
	fs.IntVar(&cfg.batch, "batch", 1000, "members per PATCH add request when pushing membership")
	fs.IntVar(&cfg.buildClients, "build-clients", 8, "concurrent clients that build the dataset")
	clients := fs.String("clients", "1,8", "comma-separated concurrent client counts for each workload")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "maximum time of one workload at one client count")
	fs.IntVar(&cfg.ops, "ops", 2000, "maximum operations of one workload at one client count")
	fs.DurationVar(&cfg.pagingTimeout, "paging-timeout", 5*time.Minute, "maximum time of one paging pass through all users")
	fs.StringVar(&cfg.out, "out", "docs/benchmarks-raw.md", "markdown report file (- for standard output)")
	fs.StringVar(&cfg.mongoURI, "mongodb-uri", "", "MongoDB URI passed to scimd; empty uses the embedded SQLite store")
	fs.StringVar(&cfg.scimdLog, "scimd-log", "", "file for scimd's standard error (default: in the temporary directory)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}

	var problems []string
	for _, f := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			problems = append(problems, fmt.Sprintf("--clients: invalid client count %q", f))
			continue
		}
		cfg.clients = append(cfg.clients, n)
	}
	positive := map[string]int{
		"--users": cfg.users, "--sandboxes": cfg.sandboxes, "--groups-per-sandbox": cfg.groupsPerSandbox,
		"--sandbox-group-members": cfg.sandboxMembers, "--big-group": cfg.bigGroup,
		"--small-group": cfg.smallGroup, "--batch": cfg.batch, "--build-clients": cfg.buildClients,
		"--ops": cfg.ops,
	}
	for name, v := range positive {
		if v < 1 {
			problems = append(problems, fmt.Sprintf("%s: must be at least 1, got %d", name, v))
		}
	}
	if cfg.bigGroup > cfg.users {
		problems = append(problems, fmt.Sprintf("--big-group %d exceeds --users %d", cfg.bigGroup, cfg.users))
	}
	if cfg.smallGroup > cfg.users {
		problems = append(problems, fmt.Sprintf("--small-group %d exceeds --users %d", cfg.smallGroup, cfg.users))
	}
	if cfg.duration <= 0 || cfg.pagingTimeout <= 0 {
		problems = append(problems, "--duration and --paging-timeout must be positive")
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return cfg, nil
}

func run(ctx context.Context, log *slog.Logger, cfg *config) error {
	started := time.Now()
	srv, err := startServer(ctx, log, cfg)
	if err != nil {
		return err
	}
	defer srv.stop(log)

	rep := newReport(cfg, started)
	rep.source = srv.source
	b, err := newBench(ctx, log, cfg, srv, rep)
	if err != nil {
		return err
	}
	if err := b.buildDataset(ctx); err != nil {
		return err
	}
	rep.rssAfterBuild = srv.mem.current()
	if err := b.runWorkloads(ctx); err != nil {
		return err
	}
	rep.peakRSS, rep.hwm = srv.mem.peak(), readHWM(srv.cmd.Process.Pid)
	if srv.dataDir != "" {
		rep.dataBytes = dirSize(srv.dataDir)
	}

	// scimd is stopped before the baseline so that the two never compete
	// for the CPU.
	srv.stop(log)
	if err := runBaseline(ctx, log, cfg, rep, b.ds, srv.mongoDB); err != nil {
		rep.baselineErr = err.Error()
		log.Error("baseline failed", "err", err)
	}
	rep.elapsed = time.Since(started)
	if err := rep.write(cfg.out); err != nil {
		return err
	}
	log.Info("report written", "path", cfg.out, "elapsed", rep.elapsed.Round(time.Second))
	return nil
}

// dirSize returns the total size of the regular files under dir, or 0 if
// it cannot be read.
func dirSize(dir string) int64 {
	var total int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if info, err := d.Info(); err == nil && info.Mode().IsRegular() {
			total += info.Size()
		}
		return nil
	})
	return total
}
