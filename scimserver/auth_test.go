package scimserver

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimd/scimd/storage/sqlite"
	"github.com/scimd/scimd/tenants"
)

const testAdminToken = "test-admin-token-0123456789abcdefghij"

// liveServer is a Server over a real Service and SQLite store.
type liveServer struct {
	srv     *Server
	svc     *tenants.Service
	handler http.Handler
	logs    *bytes.Buffer
}

func newLiveServer(t *testing.T) *liveServer {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "scimd.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := store.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	svc := tenants.New(store, tenants.Options{Logger: logger})
	if _, err := svc.EnsureAdminCredential(ctx, testAdminToken); err != nil {
		t.Fatalf("EnsureAdminCredential: %v", err)
	}
	srv, err := New(svc, Config{BaseURL: "https://scim.example.com", Ready: store.Ping}, logger, prometheus.NewRegistry())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &liveServer{srv: srv, svc: svc, handler: srv.Handler(), logs: &logs}
}

// do sends one request; authorization is the whole header value.
func (l *liveServer) do(t *testing.T, method, path, authorization, body string) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	l.handler.ServeHTTP(rec, req)
	return rec
}

func (l *liveServer) issue(t *testing.T, tenant string) string {
	t.Helper()
	issued, err := l.svc.IssueCredential(context.Background(), tenant, "test")
	if err != nil {
		t.Fatalf("IssueCredential(%q): %v", tenant, err)
	}
	return issued.Token
}

func (l *liveServer) createSandbox(t *testing.T, id string) {
	t.Helper()
	if _, err := l.svc.CreateSandbox(context.Background(), id, id); err != nil {
		t.Fatalf("CreateSandbox(%q): %v", id, err)
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header string
		want   string
		ok     bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER  abc ", "abc", true},
		{"", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Bearerabc", "", false},
		{"Basic YWxhZGRpbjpvcGVuc2VzYW1l", "", false},
		{"Token abc", "", false},
	}
	for _, tt := range tests {
		got, ok := bearerToken(tt.header)
		if got != tt.want || ok != tt.ok {
			t.Errorf("bearerToken(%q) = %q, %v, want %q, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func TestAuthentication(t *testing.T) {
	l := newLiveServer(t)
	l.createSandbox(t, "alpha")
	l.createSandbox(t, "beta")
	mainToken := l.issue(t, "main")
	alphaToken := l.issue(t, "alpha")
	betaToken := l.issue(t, "beta")
	revoked, err := l.svc.IssueCredential(context.Background(), "alpha", "revoked")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.svc.RevokeCredential(context.Background(), revoked.Credential.ID); err != nil {
		t.Fatal(err)
	}

	const mainPath = "/scim/v2/Users/no-such-user"
	const alphaPath = "/sandboxes/alpha/scim/v2/Users/no-such-user"
	unknown := l.do(t, "GET", mainPath, "Bearer not-a-credential", "")

	tests := []struct {
		name          string
		path          string
		authorization string
		wantStatus    int
		wantChallenge string
	}{
		{"no header", mainPath, "", 401, `Bearer realm="scimd"`},
		{"basic scheme", mainPath, "Basic YWxhZGRpbjpvcGVuc2VzYW1l", 401, `Bearer realm="scimd", error="invalid_token"`},
		{"scheme only", mainPath, "Bearer", 401, `Bearer realm="scimd", error="invalid_token"`},
		{"no space", mainPath, "Bearer" + mainToken, 401, `Bearer realm="scimd", error="invalid_token"`},
		{"admin credential on SCIM", mainPath, "Bearer " + testAdminToken, 401, `Bearer realm="scimd", error="invalid_token"`},
		{"sandbox credential on main", mainPath, "Bearer " + alphaToken, 401, `Bearer realm="scimd", error="invalid_token"`},
		{"other sandbox's credential", alphaPath, "Bearer " + betaToken, 401, `Bearer realm="scimd", error="invalid_token"`},
		{"main credential on sandbox", alphaPath, "Bearer " + mainToken, 401, `Bearer realm="scimd", error="invalid_token"`},
		{"unknown sandbox", "/sandboxes/gamma/scim/v2/Users/x", "Bearer " + alphaToken, 401, `Bearer realm="scimd", error="invalid_token"`},
		{"revoked", alphaPath, "Bearer " + revoked.Token, 401, `Bearer realm="scimd", error="invalid_token"`},
		{"main accepted, scheme lower case", mainPath, "bearer " + mainToken, 404, ""},
		{"sandbox accepted", alphaPath, "Bearer " + alphaToken, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := l.do(t, "GET", tt.path, tt.authorization, "")
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tt.wantChallenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.wantChallenge)
			}
			if tt.wantStatus != 401 {
				return
			}
			if got := decodeErrorBody(t, rec.Body.Bytes()).Status; got != "401" {
				t.Errorf("error body status = %q, want 401", got)
			}
			if rec.Body.String() != unknown.Body.String() {
				t.Errorf("body differs from an unknown credential's:\ngot  %s\nwant %s", rec.Body, unknown.Body)
			}
		})
	}
}

func TestAuthenticationLogsTenantNotToken(t *testing.T) {
	l := newLiveServer(t)
	l.createSandbox(t, "alpha")
	token := l.issue(t, "alpha")
	l.do(t, "GET", "/sandboxes/alpha/scim/v2/Users/x", "Bearer "+token, "")

	records := logRecords(t, l.logs, "request")
	if len(records) != 1 {
		t.Fatalf("got %d access records, want 1", len(records))
	}
	if got := records[0]["tenant"]; got != "alpha" {
		t.Errorf("tenant = %v, want alpha", got)
	}
	if got := records[0]["credential_id"]; got == "" || got == nil {
		t.Error("access record has no credential_id")
	}
	if strings.Contains(l.logs.String(), token) {
		t.Errorf("log contains the bearer token:\n%s", l.logs)
	}
}
