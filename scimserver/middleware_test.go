package scimserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/tenants"
)

// newBareServer returns a Server whose Service has no store, for tests of
// the layers that run before any Service call. logs receives the JSON log.
func newBareServer(t *testing.T, cfg Config) (*Server, *bytes.Buffer, *prometheus.Registry) {
	t.Helper()
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	s, err := New(&tenants.Service{}, cfg, logger, reg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, &logs, reg
}

// logRecords decodes the JSON log lines with the given message.
func logRecords(t *testing.T, logs *bytes.Buffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func decodeErrorBody(t *testing.T, body []byte) errorBody {
	t.Helper()
	var got errorBody
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body is not a SCIM error: %q: %v", body, err)
	}
	return got
}

func TestRequestID(t *testing.T) {
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	tests := []struct {
		name   string
		header string
		want   string // empty: a generated id
	}{
		{"accepted", "req-1.2_3:abc", "req-1.2_3:abc"},
		{"missing", "", ""},
		{"space", "two words", ""},
		{"newline", "a\nb", ""},
		{"too long", strings.Repeat("x", 129), ""},
		{"longest accepted", strings.Repeat("x", 128), strings.Repeat("x", 128)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := requestID(tt.header)
			if tt.want != "" && got != tt.want {
				t.Errorf("requestID(%q) = %q, want it unchanged", tt.header, got)
			}
			if tt.want == "" && !generated.MatchString(got) {
				t.Errorf("requestID(%q) = %q, want 32 generated hex digits", tt.header, got)
			}
		})
	}
	if a, b := requestID(""), requestID(""); a == b {
		t.Errorf("two generated ids are equal: %q", a)
	}
}

func TestMiddlewareEchoesRequestIDAndLogsOnce(t *testing.T) {
	s, logs, _ := newBareServer(t, Config{})
	h := s.middleware(s.handle("POST /test/{id}", func(w http.ResponseWriter, r *http.Request) error {
		if got := requestIDFrom(r.Context()); got != "abc-123" {
			t.Errorf("requestIDFrom = %q, want abc-123", got)
		}
		if _, err := io.ReadAll(r.Body); err != nil {
			t.Errorf("read body: %v", err)
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte("12345"))
		return nil
	}))
	req := httptest.NewRequest("POST", "/test/42", strings.NewReader(`{"password":"body-secret"}`))
	req.Header.Set("X-Request-Id", "abc-123")
	req.Header.Set("Authorization", "Bearer header-secret")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	if got := rec.Header().Get("X-Request-Id"); got != "abc-123" {
		t.Errorf("X-Request-Id = %q, want abc-123", got)
	}
	records := logRecords(t, logs, "request")
	if len(records) != 1 {
		t.Fatalf("got %d access records, want 1:\n%s", len(records), logs)
	}
	got := records[0]
	want := map[string]any{
		"request_id": "abc-123",
		"method":     "POST",
		"route":      "POST /test/{id}",
		"path":       "/test/42",
		"status":     float64(202),
		"bytes":      float64(5),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("access record %s = %v, want %v", k, got[k], v)
		}
	}
	if d, ok := got["duration_ms"].(float64); !ok || d < 0 {
		t.Errorf("access record duration_ms = %v, want a non-negative number", got["duration_ms"])
	}
	for _, secret := range []string{"header-secret", "body-secret"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
}

func TestMiddlewareRecoversPanic(t *testing.T) {
	s, logs, _ := newBareServer(t, Config{})
	h := s.middleware(s.handle("GET /boom", func(w http.ResponseWriter, r *http.Request) error {
		panic("runtime detail that must stay in the log")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))

	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", rec.Code)
	}
	body := decodeErrorBody(t, rec.Body.Bytes())
	want := errorBody{Schemas: []string{schemas.ErrorURN}, Status: "500", Detail: internalDetail}
	if diff := cmp.Diff(body, want); diff != "" {
		t.Errorf("body (-got +want):\n%s", diff)
	}
	panics := logRecords(t, logs, "handler panicked")
	if len(panics) != 1 {
		t.Fatalf("got %d panic records, want 1:\n%s", len(panics), logs)
	}
	if stack, _ := panics[0]["stack"].(string); !strings.Contains(stack, "middleware_test.go") {
		t.Errorf("panic record has no stack naming the handler: %q", stack)
	}
	if got := testutil.ToFloat64(s.metrics.requests.WithLabelValues("GET /boom", "GET", "500")); got != 1 {
		t.Errorf("requests{GET /boom, 500} = %v, want 1", got)
	}
}

func TestMiddlewareAbortHandlerIsNotRecovered(t *testing.T) {
	s, _, _ := newBareServer(t, Config{})
	h := s.middleware(s.handle("GET /abort", func(w http.ResponseWriter, r *http.Request) error {
		panic(http.ErrAbortHandler)
	}))
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler passed on", p)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/abort", nil))
}

func TestMiddlewarePanicAfterWriteAborts(t *testing.T) {
	s, logs, _ := newBareServer(t, Config{})
	h := s.middleware(s.handle("GET /half", func(w http.ResponseWriter, r *http.Request) error {
		_, _ = w.Write([]byte("partial"))
		panic("late failure")
	}))
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler to cut the connection", p)
		}
		records := logRecords(t, logs, "request")
		if len(records) != 1 || records[0]["status"] != float64(500) {
			t.Errorf("access records = %v, want one with status 500", records)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/half", nil))
}

func TestMiddlewareBodyLimit(t *testing.T) {
	s, _, _ := newBareServer(t, Config{MaxBodyBytes: 10, MaxBulkPayloadBytes: 20})
	var readErr error
	h := s.middleware(s.handle("POST /any", func(w http.ResponseWriter, r *http.Request) error {
		_, readErr = io.ReadAll(r.Body)
		return nil
	}))

	tests := []struct {
		name       string
		path       string
		body       string
		chunked    bool
		wantStatus int
		wantLimit  bool // the handler's read fails with *http.MaxBytesError
	}{
		{"under limit", "/scim/v2/Users", "0123456789", false, http.StatusOK, false},
		{"declared over limit", "/scim/v2/Users", "0123456789x", false, http.StatusRequestEntityTooLarge, false},
		{"streamed over limit", "/scim/v2/Users", "0123456789x", true, http.StatusOK, true},
		{"bulk under its limit", "/scim/v2/Bulk", "0123456789x", false, http.StatusOK, false},
		{"bulk over its limit", "/sandboxes/a/scim/v2/Bulk", strings.Repeat("x", 21), false, http.StatusRequestEntityTooLarge, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			readErr = nil
			req := httptest.NewRequest("POST", tt.path, strings.NewReader(tt.body))
			if tt.chunked {
				req.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if tt.wantStatus == http.StatusRequestEntityTooLarge {
				if got := decodeErrorBody(t, rec.Body.Bytes()).Status; got != "413" {
					t.Errorf("error body status = %q, want 413", got)
				}
			}
			var tooLarge *http.MaxBytesError
			if got := errors.As(readErr, &tooLarge); got != tt.wantLimit {
				t.Errorf("read error = %v, want MaxBytesError: %v", readErr, tt.wantLimit)
			}
		})
	}
}

func TestUnmatchedRoutesAnswerSCIMErrors(t *testing.T) {
	s, _, _ := newBareServer(t, Config{})
	h := s.Handler()

	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantAllow  string
	}{
		{"unknown path", "GET", "/nothing/here", http.StatusNotFound, ""},
		{"unknown admin path", "GET", "/admin/v1/unknown", http.StatusNotFound, ""},
		{"wrong method", "PUT", "/admin/v1/sandboxes", http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{"wrong method on ops", "POST", "/healthz", http.StatusMethodNotAllowed, "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := rec.Header().Get("Content-Type"); got != "application/scim+json" {
				t.Errorf("Content-Type = %q, want application/scim+json", got)
			}
			body := decodeErrorBody(t, rec.Body.Bytes())
			if body.Status != strconv.Itoa(tt.wantStatus) {
				t.Errorf("body status = %q, want %d", body.Status, tt.wantStatus)
			}
			if got := rec.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
		})
	}
}

func TestRouteLabelsAreBounded(t *testing.T) {
	s, _, _ := newBareServer(t, Config{Ready: func(context.Context) error { return nil }})
	h := s.Handler()
	for _, path := range []string{"/healthz", "/user/1", "/user/2", "/sandboxes/secret-name/whatever"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("BREW", "/healthz", nil))

	tests := []struct {
		route, method, code string
		want                float64
	}{
		{"GET /healthz", "GET", "200", 1},
		{routeUnmatched, "GET", "404", 3},
		{routeUnmatched, "other", "405", 1},
	}
	for _, tt := range tests {
		got := testutil.ToFloat64(s.metrics.requests.WithLabelValues(tt.route, tt.method, tt.code))
		if got != tt.want {
			t.Errorf("requests{%s,%s,%s} = %v, want %v", tt.route, tt.method, tt.code, got, tt.want)
		}
	}
	if n := testutil.CollectAndCount(s.metrics.requests); n != len(tests) {
		t.Errorf("requests has %d series, want %d: a raw path became a label", n, len(tests))
	}
}
