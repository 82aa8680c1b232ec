package scimserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestHealthEndpoints(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		ready      func(context.Context) error
		wantStatus int
		wantBody   map[string]string
	}{
		{
			name: "liveness ignores the store", path: "/healthz",
			ready:      func(context.Context) error { return errors.New("down") },
			wantStatus: http.StatusOK, wantBody: map[string]string{"status": "ok"},
		},
		{
			name: "ready", path: "/readyz",
			ready:      func(context.Context) error { return nil },
			wantStatus: http.StatusOK, wantBody: map[string]string{"status": "ok"},
		},
		{
			name: "store fails", path: "/readyz",
			ready:      func(context.Context) error { return errors.New("dial tcp 10.0.0.1: connection refused") },
			wantStatus: http.StatusServiceUnavailable,
			wantBody:   map[string]string{"status": "unavailable", "detail": "store is unreachable"},
		},
		{
			name: "store times out", path: "/readyz",
			ready: func(ctx context.Context) error {
				<-ctx.Done()
				return ctx.Err()
			},
			wantStatus: http.StatusServiceUnavailable,
			wantBody:   map[string]string{"status": "unavailable", "detail": "store did not answer within 2s"},
		},
		{
			name: "no check", path: "/readyz",
			wantStatus: http.StatusServiceUnavailable,
			wantBody:   map[string]string{"status": "unavailable", "detail": "no readiness check is configured"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, logs, _ := newBareServer(t, Config{Ready: tt.ready})
			rec := httptest.NewRecorder()
			start := time.Now()
			s.OpsHandler().ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
			if elapsed := time.Since(start); elapsed > readyTimeout+time.Second {
				t.Errorf("took %s, want at most the %s timeout", elapsed, readyTimeout)
			}
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			var got map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if diff := cmp.Diff(got, tt.wantBody); diff != "" {
				t.Errorf("body (-got +want):\n%s", diff)
			}
			if strings.Contains(rec.Body.String(), "10.0.0.1") {
				t.Errorf("body leaks the store error: %s", rec.Body)
			}
			if tt.name == "store fails" && !strings.Contains(logs.String(), "connection refused") {
				t.Errorf("log lacks the store error:\n%s", logs)
			}
		})
	}
}

func TestOpsHandlerServesMetrics(t *testing.T) {
	s, _, _ := newBareServer(t, Config{Version: "v9.9.9"})
	h := s.OpsHandler()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	for _, want := range []string{
		`scimd_build_info{goversion="go`,
		`version="v9.9.9"} 1`,
		`scimd_http_requests_total{code="200",method="GET",route="GET /healthz"} 1`,
		`scimd_http_request_duration_seconds_bucket{method="GET",route="GET /healthz",le="0.005"}`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, rec.Body)
		}
	}
}

func TestSeparateOpsLeavesOpsOffMainHandler(t *testing.T) {
	s, _, _ := newBareServer(t, Config{SeparateOps: true, Ready: func(context.Context) error { return nil }})
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("main handler GET %s = %d, want 404", path, rec.Code)
		}
		rec = httptest.NewRecorder()
		s.OpsHandler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("ops handler GET %s = %d, want 200", path, rec.Code)
		}
	}
}
