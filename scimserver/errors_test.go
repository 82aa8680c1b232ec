package scimserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/storage"
	"github.com/scimd/scimd/tenants"
)

// leakMarkers are fragments of driver, runtime and source text that must
// never reach a response body.
var leakMarkers = []string{"sql", "sqlite", "mongo", "runtime", "panic", "goroutine", ".go:"}

func TestWriteErrorMapping(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		status   int
		scimType string
		detail   string
	}{
		{"schema error", fmt.Errorf("create user: %w", schemas.Errorf("invalidValue", "userName is required")),
			400, "invalidValue", "userName is required"},
		{"schema uniqueness", schemas.Errorf("uniqueness", "userName taken"), 409, "uniqueness", "userName taken"},
		{"tenants forbidden", &tenants.Error{Kind: tenants.ErrForbidden, Detail: "users are created in the main account"},
			403, "", "users are created in the main account"},
		{"tenants unauthorized", &tenants.Error{Kind: tenants.ErrUnauthorized, Detail: "bad credential"},
			401, "", "bad credential"},
		{"tenants precondition", fmt.Errorf("patch: %w", &tenants.Error{Kind: tenants.ErrPreconditionFailed, Detail: "version mismatch"}),
			412, "", "version mismatch"},
		{"tenants not found", &tenants.Error{Kind: storage.ErrNotFound, Detail: "user u1 not found"},
			404, "", "user u1 not found"},
		{"tenants uniqueness", &tenants.Error{Kind: storage.ErrAlreadyExists, Detail: "userName taken"},
			409, "uniqueness", "userName taken"},
		{"tenants invalid with type", &tenants.Error{Kind: tenants.ErrInvalid, ScimType: "invalidSyntax", Detail: "bad id"},
			400, "invalidSyntax", "bad id"},
		{"plain not found", fmt.Errorf("get user: %w", storage.ErrNotFound), 404, "", "resource not found"},
		{"plain precondition", tenants.ErrPreconditionFailed, 412, "",
			"the resource has changed: its version does not match If-Match"},
		{"member not found", fmt.Errorf("create group: %w", &storage.MemberNotFoundError{UserID: "u9"}),
			400, "invalidValue", `member "u9" is not an existing user`},
		{"body too large", &http.MaxBytesError{Limit: 10}, 413, "", "request body exceeds the maximum of 10 bytes"},
		{"http error", errorf(415, "", "unsupported"), 415, "", "unsupported"},
		{"driver error", fmt.Errorf("query users: %w", errors.New("sqlite: database is locked (5) at store.go:12")),
			500, "", internalDetail},
		{"tenants error wrapping driver", &tenants.Error{Kind: sql.ErrConnDone, Detail: "sql: connection is already closed"},
			500, "", internalDetail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, logs, _ := newBareServer(t, Config{})
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "/scim/v2/Users", nil)
			s.writeError(w, r, tt.err)

			if w.Code != tt.status {
				t.Errorf("status = %d, want %d", w.Code, tt.status)
			}
			if ct := w.Header().Get("Content-Type"); ct != scimContentType {
				t.Errorf("Content-Type = %q, want %q", ct, scimContentType)
			}
			body := decodeErrorBody(t, w.Body.Bytes())
			if body.Status != fmt.Sprint(tt.status) {
				t.Errorf("body status = %q, want %q", body.Status, fmt.Sprint(tt.status))
			}
			if len(body.Schemas) != 1 || body.Schemas[0] != schemas.ErrorURN {
				t.Errorf("body schemas = %v, want [%s]", body.Schemas, schemas.ErrorURN)
			}
			if body.ScimType != tt.scimType {
				t.Errorf("scimType = %q, want %q", body.ScimType, tt.scimType)
			}
			if body.Detail != tt.detail {
				t.Errorf("detail = %q, want %q", body.Detail, tt.detail)
			}
			if tt.status == http.StatusInternalServerError {
				lower := strings.ToLower(w.Body.String())
				for _, m := range leakMarkers {
					if strings.Contains(lower, m) {
						t.Errorf("500 body %q contains %q", w.Body.String(), m)
					}
				}
				if n := len(logRecords(t, logs, "scim request failed")); n != 1 {
					t.Errorf("logged %d error records, want 1", n)
				}
			}
		})
	}
}

func TestWriteErrorUnauthorizedChallenge(t *testing.T) {
	s, _, _ := newBareServer(t, Config{})
	w := httptest.NewRecorder()
	s.writeError(w, httptest.NewRequest(http.MethodGet, "/scim/v2/Users", nil), tenants.ErrUnauthorized)
	if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
		t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", got)
	}
}

func TestWriteErrorCanceledIsNotLoggedAsError(t *testing.T) {
	s, logs, _ := newBareServer(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest(http.MethodGet, "/scim/v2/Users", nil).WithContext(ctx)
	s.writeError(httptest.NewRecorder(), r, fmt.Errorf("query users: %w", context.Canceled))
	if n := len(logRecords(t, logs, "scim request failed")); n != 0 {
		t.Errorf("logged %d error records for a canceled request, want 0", n)
	}

	// A driver may report the cancellation in its own words.
	w := httptest.NewRecorder()
	s.writeError(w, r, errors.New("query users: interrupted (9)"))
	if n := len(logRecords(t, logs, "scim request failed")); n != 0 {
		t.Errorf("logged %d error records for a driver error after the client left, want 0", n)
	}
	if w.Code != statusClientClosedRequest {
		t.Errorf("status after the client left = %d, want %d", w.Code, statusClientClosedRequest)
	}
}

func TestWriteErrorAfterResponseStartedAborts(t *testing.T) {
	s, logs, _ := newBareServer(t, Config{})
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", p)
		}
		if n := len(logRecords(t, logs, "scim response failed after it started")); n != 1 {
			t.Errorf("logged %d records, want 1", n)
		}
	}()
	err := fmt.Errorf("%w: list members: %w", errResponseStarted, errors.New("store down"))
	s.writeError(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/scim/v2/Groups", nil), err)
}

func TestCheckContentType(t *testing.T) {
	tests := []struct {
		contentType string
		wantErr     bool
	}{
		{"", false},
		{"application/scim+json", false},
		{"application/json", false},
		{"application/scim+json; charset=utf-8", false},
		{"Application/JSON; charset=UTF-8", false},
		{"text/plain", true},
		{"application/x-www-form-urlencoded", true},
		{"application/json; charset=latin1", true},
		{"application/json; =", true},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodPost, "/scim/v2/Users", nil)
		if tt.contentType != "" {
			r.Header.Set("Content-Type", tt.contentType)
		}
		err := checkContentType(r)
		if (err != nil) != tt.wantErr {
			t.Errorf("checkContentType(%q) = %v, want error %t", tt.contentType, err, tt.wantErr)
			continue
		}
		var he *httpError
		if err != nil && (!errors.As(err, &he) || he.Status != http.StatusUnsupportedMediaType) {
			t.Errorf("checkContentType(%q) = %v, want a 415 error", tt.contentType, err)
		}
	}
}

func TestErrorDetailIsBounded(t *testing.T) {
	long := strings.Repeat("é", 2000) // two bytes each
	body := newErrorBody(http.StatusNotFound, "", long)
	if len(body.Detail) > maxDetailBytes+len("…") {
		t.Errorf("detail is %d bytes, want at most %d", len(body.Detail), maxDetailBytes+len("…"))
	}
	if !utf8.ValidString(body.Detail) {
		t.Errorf("truncated detail is not valid UTF-8")
	}
}
