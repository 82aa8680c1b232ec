package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests build the real binary and run it as a process on loopback
// ports chosen by the kernel, with a temporary data directory.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the scimd binary; skipped with -short")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "scimd-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "scimd")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// process is a running scimd with its standard error collected.
type process struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	addrs  map[string]string // listener name to address
	done   chan error
	exited bool // set once done has been received from
}

// startProcess starts the binary with an API and an ops listener and waits
// until both are listening.
func startProcess(t *testing.T, bin, dataDir string, env ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--ops-listen", "127.0.0.1:0", "--data-dir", dataDir)
	cmd.Env = append(os.Environ(), env...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, addrs: map[string]string{}, done: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start scimd: %v", err)
	}
	t.Cleanup(func() {
		if !p.exited {
			_ = cmd.Process.Kill()
			<-p.done
		}
	})

	listening := make(chan struct{})
	go func() {
		scanner := bufio.NewScanner(pipe)
		signalled := false
		for scanner.Scan() {
			line := scanner.Text()
			p.mu.Lock()
			p.stderr.WriteString(line + "\n")
			var rec struct{ Msg, Listener, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				p.addrs[rec.Listener] = rec.Addr
				if len(p.addrs) == 2 && !signalled {
					signalled = true
					close(listening)
				}
			}
			p.mu.Unlock()
		}
		p.done <- cmd.Wait()
	}()

	select {
	case <-listening:
	case err := <-p.done:
		p.done <- err
		t.Fatalf("scimd exited before listening: %v\n%s", err, p.output())
	case <-time.After(60 * time.Second):
		t.Fatalf("scimd did not listen within 60s:\n%s", p.output())
	}
	return p
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func (p *process) url(listener, path string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return "http://" + p.addrs[listener] + path
}

// stop sends SIGTERM and requires a clean exit.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("send SIGTERM: %v", err)
	}
	select {
	case err := <-p.done:
		p.exited = true
		if err != nil {
			t.Fatalf("scimd exited with %v after SIGTERM:\n%s", err, p.output())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("scimd did not exit within 30s of SIGTERM:\n%s", p.output())
	}
	if !strings.Contains(p.output(), `"msg":"scimd stopped"`) {
		t.Errorf("log has no stop record:\n%s", p.output())
	}
}

func request(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s %s: %v", method, url, err)
	}
	return resp.StatusCode, b
}

func TestBinaryServesAndStopsOnSIGTERM(t *testing.T) {
	bin := buildBinary(t)
	p := startProcess(t, bin, t.TempDir(), "SCIMD_ADMIN_TOKEN="+strings.Repeat("a", 40))

	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := request(t, "GET", p.url("ops", path), "", ""); code != http.StatusOK {
			t.Errorf("GET %s = %d %s, want 200", path, code, body)
		}
	}
	code, body := request(t, "GET", p.url("ops", "/metrics"), "", "")
	if code != http.StatusOK || !bytes.Contains(body, []byte("scimd_build_info{")) {
		t.Errorf("GET /metrics = %d without scimd_build_info:\n%s", code, body)
	}
	if code, _ := request(t, "GET", p.url("api", "/healthz"), "", ""); code != http.StatusNotFound {
		t.Errorf("GET /healthz on the API listener = %d, want 404 with a separate ops listener", code)
	}
	if code, _ := request(t, "GET", p.url("api", "/scim/v2/Users"), "", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /scim/v2/Users without a credential = %d, want 401", code)
	}
	p.stop(t)
}

var printedToken = regexp.MustCompile(`(?m)^    (\S+)$`)

func TestBinaryRestartKeepsData(t *testing.T) {
	bin := buildBinary(t)
	dataDir := t.TempDir()

	// First start: no admin token is configured, so one is created and
	// printed once.
	p := startProcess(t, bin, dataDir)
	m := printedToken.FindStringSubmatch(p.output())
	if m == nil {
		t.Fatalf("first start printed no admin token:\n%s", p.output())
	}
	admin := m[1]

	code, body := request(t, "POST", p.url("api", "/admin/v1/credentials"), admin,
		`{"tenant": "main", "description": "restart test"}`)
	if code != http.StatusCreated {
		t.Fatalf("issue credential = %d %s, want 201", code, body)
	}
	var cred struct{ Token string }
	if err := json.Unmarshal(body, &cred); err != nil || cred.Token == "" {
		t.Fatalf("issue credential body %s: token missing (%v)", body, err)
	}

	code, body = request(t, "POST", p.url("api", "/scim/v2/Users"), cred.Token,
		`{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "restart.user"}`)
	if code != http.StatusCreated {
		t.Fatalf("create user = %d %s, want 201", code, body)
	}
	var user struct{ ID string }
	if err := json.Unmarshal(body, &user); err != nil || user.ID == "" {
		t.Fatalf("create user body %s: id missing (%v)", body, err)
	}
	p.stop(t)

	p = startProcess(t, bin, dataDir)
	if printedToken.MatchString(p.output()) {
		t.Errorf("second start printed an admin token again:\n%s", p.output())
	}
	code, body = request(t, "GET", p.url("api", "/scim/v2/Users/"+user.ID), cred.Token, "")
	if code != http.StatusOK {
		t.Fatalf("read user after restart = %d %s, want 200", code, body)
	}
	var got struct{ UserName string }
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("decode user %s: %v", body, err)
	}
	if got.UserName != "restart.user" {
		t.Errorf("userName after restart = %q, want restart.user", got.UserName)
	}
	if code, _ := request(t, "GET", p.url("api", "/admin/v1/sandboxes"), admin, ""); code != http.StatusOK {
		t.Errorf("admin token after restart: GET /admin/v1/sandboxes = %d, want 200", code)
	}
	p.stop(t)
}
