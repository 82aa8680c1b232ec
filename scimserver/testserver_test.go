package scimserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimd/scimd/scimserver"
	"github.com/scimd/scimd/storage/sqlite"
	"github.com/scimd/scimd/tenants"
)

// testServer is a scimd on a temporary SQLite store, served over loopback
// HTTP by httptest, with an admin and a main-account credential.
type testServer struct {
	url        string // server root, such as http://127.0.0.1:41234
	svc        *tenants.Service
	adminToken string
	mainToken  string
	client     *http.Client
	logs       *lockedBuffer

	store       *sqlite.Store
	storeClosed bool
}

// lockedBuffer collects the server's JSON log from concurrent handlers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startTestServer starts a server with cfg. A zero CursorKey gets a fixed
// test key and a nil Ready pings the store.
func startTestServer(t *testing.T, cfg scimserver.Config) *testServer {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "scimd.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("open SQLite store: %v", err)
	}
	ts := &testServer{store: store}
	t.Cleanup(func() {
		if ts.storeClosed {
			return
		}
		if err := store.Close(); err != nil {
			t.Errorf("close SQLite store: %v", err)
		}
	})

	logs := &lockedBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc := tenants.New(store, tenants.Options{Logger: logger})
	if len(cfg.CursorKey) == 0 {
		cfg.CursorKey = []byte("scimserver test cursor key")
	}
	if cfg.Ready == nil {
		cfg.Ready = store.Ping
	}
	srv, err := scimserver.New(svc, cfg, logger, prometheus.NewRegistry())
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	httpServer := httptest.NewServer(srv.Handler())
	t.Cleanup(httpServer.Close)

	ts.url = httpServer.URL
	ts.svc = svc
	ts.client = &http.Client{Timeout: 30 * time.Second}
	ts.logs = logs
	ts.adminToken = ts.issueCredential(t, "admin")
	ts.mainToken = ts.issueCredential(t, "main")
	return ts
}

// issueCredential issues a credential for "admin", "main" or a sandbox id
// and returns its secret.
func (s *testServer) issueCredential(t *testing.T, tenant string) string {
	t.Helper()
	issued, err := s.svc.IssueCredential(context.Background(), tenant, "test")
	if err != nil {
		t.Fatalf("issue credential for %q: %v", tenant, err)
	}
	return issued.Token
}

// newSandbox creates a sandbox and returns a credential for it.
func (s *testServer) newSandbox(t *testing.T, id string) string {
	t.Helper()
	if _, err := s.svc.CreateSandbox(context.Background(), id, "Sandbox "+id); err != nil {
		t.Fatalf("create sandbox %q: %v", id, err)
	}
	return s.issueCredential(t, id)
}

// closeStore closes the store under the running server, so that every
// later store call fails with a driver error.
func (s *testServer) closeStore(t *testing.T) {
	t.Helper()
	if err := s.store.Close(); err != nil {
		t.Fatalf("close SQLite store: %v", err)
	}
	s.storeClosed = true
}

// testResponse is a response with its body read.
type testResponse struct {
	status int
	header http.Header
	body   []byte
}

// object decodes the body as a JSON object.
func (r *testResponse) object(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("response body is not a JSON object: %v; body %s", err, r.body)
	}
	return doc
}

// send issues a request with a bearer credential (none when token is "")
// and an application/scim+json body (none when body is ""). headers are
// name, value pairs that are set after the defaults.
func (s *testServer) send(t *testing.T, token, method, path, body string, headers ...string) *testResponse {
	t.Helper()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url+path, reader)
	if err != nil {
		t.Fatalf("new request %s %s: %v", method, path, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return &testResponse{status: resp.StatusCode, header: resp.Header, body: data}
}

// mustSend is send that fails the test unless the status is want, and
// returns the decoded JSON object (nil for an empty body).
func (s *testServer) mustSend(t *testing.T, want int, token, method, path, body string, headers ...string) map[string]any {
	t.Helper()
	resp := s.send(t, token, method, path, body, headers...)
	if resp.status != want {
		t.Fatalf("%s %s: got status %d, want %d; body %s", method, path, resp.status, want, resp.body)
	}
	if len(bytes.TrimSpace(resp.body)) == 0 {
		return nil
	}
	return resp.object(t)
}
