package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is the scimd process that the benchmark started.
type server struct {
	cmd        *exec.Cmd
	baseURL    string // http://127.0.0.1:port
	adminToken string
	tmpDir     string
	dataDir    string // empty when scimd runs on MongoDB
	mongoDB    string // the fresh database name when scimd runs on MongoDB
	logPath    string
	logFile    *os.File
	exited     chan struct{}
	mem        *memSampler
	source     string // the scimd source that was built, for the report
}

// startServer builds cmd/scimd, starts it on a free 127.0.0.1 port and
// waits for /readyz.
func startServer(ctx context.Context, log *slog.Logger, cfg *config) (*server, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "scimbench-")
	if err != nil {
		return nil, fmt.Errorf("create temporary directory: %w", err)
	}
	srv := &server{tmpDir: tmp, exited: make(chan struct{}), source: sourceRevision(ctx, root)}

	bin := filepath.Join(tmp, "scimd")
	log.Info("building scimd", "module", root, "binary", bin)
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/scimd")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("build scimd: %w\n%s", err, out)
	}

	addr, err := freeAddr()
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	srv.baseURL = "http://" + addr
	srv.adminToken = randomHex(32)

	args := []string{"--listen", addr}
	if cfg.mongoURI != "" {
		srv.mongoDB = "scimbench_" + randomHex(6)
		args = append(args, "--mongodb-uri", cfg.mongoURI, "--mongodb-database", srv.mongoDB)
	} else {
		srv.dataDir = filepath.Join(tmp, "data")
		args = append(args, "--data-dir", srv.dataDir)
	}
	srv.logPath = cfg.scimdLog
	if srv.logPath == "" {
		srv.logPath = filepath.Join(tmp, "scimd.log")
	}
	if srv.logFile, err = os.Create(srv.logPath); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("create scimd log: %w", err)
	}

	// The process is not tied to ctx: stop sends SIGTERM and waits, so
	// that an interrupted benchmark still shuts scimd down gracefully.
	srv.cmd = exec.Command(bin, args...)
	srv.cmd.Env = append(os.Environ(), "SCIMD_ADMIN_TOKEN="+srv.adminToken)
	srv.cmd.Stdout = srv.logFile
	srv.cmd.Stderr = srv.logFile
	if err := srv.cmd.Start(); err != nil {
		srv.logFile.Close()
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("start scimd: %w", err)
	}
	go func() {
		srv.cmd.Wait()
		close(srv.exited)
	}()
	srv.mem = startMemSampler(srv.cmd.Process.Pid, 100*time.Millisecond)
	log.Info("started scimd", "pid", srv.cmd.Process.Pid, "url", srv.baseURL, "log", srv.logPath)

	if err := srv.waitReady(ctx, 60*time.Second); err != nil {
		srv.stop(log)
		return nil, err
	}
	return srv, nil
}

func (s *server) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("scimd exited before it was ready (%v); see %s", s.cmd.ProcessState, s.logPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := client.Get(s.baseURL + "/readyz")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
	}
	return fmt.Errorf("scimd not ready after %v; see %s", timeout, s.logPath)
}

// stop sends SIGTERM, waits up to 15 seconds for a graceful shutdown,
// then kills the process, and removes the temporary directory unless
// scimd failed (its log is kept then).
func (s *server) stop(log *slog.Logger) {
	s.mem.stop()
	select {
	case <-s.exited:
	default:
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(15 * time.Second):
			log.Warn("scimd did not stop after SIGTERM; killing it", "pid", s.cmd.Process.Pid)
			s.cmd.Process.Kill()
			<-s.exited
		}
	}
	s.logFile.Close()
	if s.cmd.ProcessState != nil && !s.cmd.ProcessState.Success() {
		log.Warn("scimd exited with an error; keeping its log", "state", s.cmd.ProcessState.String(), "log", s.logPath)
		return
	}
	os.RemoveAll(s.tmpDir)
}

// sourceRevision describes the checked-out source: the commit and how many
// files differ from it, or "unknown" outside a git work tree.
func sourceRevision(ctx context.Context, root string) string {
	head, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown (not a git work tree)"
	}
	status, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain").Output()
	if err != nil {
		return "commit " + strings.TrimSpace(string(head))
	}
	changed := 0
	for _, line := range strings.Split(string(status), "\n") {
		if strings.TrimSpace(line) != "" {
			changed++
		}
	}
	return fmt.Sprintf("commit %s with %d changed or new files in the work tree", strings.TrimSpace(string(head)), changed)
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("find module root: run scimbench inside the scimd module")
	}
	return filepath.Dir(gomod), nil
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago. Another process could take it before scimd binds it; scimd then
// fails to start and the benchmark reports that.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// memSampler reads a process's resident set size (VmRSS) at an interval
// and keeps the maximum.
type memSampler struct {
	pid  int
	mu   sync.Mutex
	max  int64 // bytes
	done chan struct{}
	once sync.Once
}

func startMemSampler(pid int, every time.Duration) *memSampler {
	m := &memSampler{pid: pid, done: make(chan struct{})}
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			m.current()
			select {
			case <-m.done:
				return
			case <-t.C:
			}
		}
	}()
	return m
}

// current reads VmRSS now and returns it in bytes (0 if unreadable).
func (m *memSampler) current() int64 {
	v := readStatus(m.pid, "VmRSS")
	m.mu.Lock()
	m.max = max(m.max, v)
	m.mu.Unlock()
	return v
}

func (m *memSampler) peak() int64 {
	m.current()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.max
}

func (m *memSampler) stop() { m.once.Do(func() { close(m.done) }) }

// readHWM returns the kernel's peak resident set size of the process
// (VmHWM), which also covers peaks between two samples.
func readHWM(pid int) int64 { return readStatus(pid, "VmHWM") }

// readStatus returns a "kB" field of /proc/<pid>/status in bytes, or 0.
func readStatus(pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0
		}
		return kb * 1024
	}
	return 0
}
