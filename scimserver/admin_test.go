package scimserver

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/tenants"
)

const adminAuth = "Bearer " + testAdminToken

func decodeJSON[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

func TestAdminSandboxes(t *testing.T) {
	l := newLiveServer(t)

	rec := l.do(t, "POST", "/admin/v1/sandboxes", adminAuth, `{"id": "acme-test", "displayName": "ACME test"}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create = %d %s, want 201", rec.Code, rec.Body)
	}
	created := decodeJSON[sandboxJSON](t, rec.Body.Bytes())
	if created.ID != "acme-test" || created.DisplayName != "ACME test" {
		t.Errorf("created = %+v, want id acme-test and displayName ACME test", created)
	}
	if want := "https://scim.example.com/sandboxes/acme-test/scim/v2"; created.SCIMBaseURL != want {
		t.Errorf("scimBaseUrl = %q, want %q", created.SCIMBaseURL, want)
	}
	if created.Created.IsZero() || time.Since(created.Created) > time.Minute {
		t.Errorf("created time = %v, want about now", created.Created)
	}
	if got, want := rec.Header().Get("Location"), "https://scim.example.com/admin/v1/sandboxes/acme-test"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}

	rec = l.do(t, "GET", "/admin/v1/sandboxes/acme-test", adminAuth, "")
	if rec.Code != http.StatusOK {
		t.Fatalf("get = %d %s, want 200", rec.Code, rec.Body)
	}
	if diff := cmp.Diff(decodeJSON[sandboxJSON](t, rec.Body.Bytes()), created); diff != "" {
		t.Errorf("get (-got +want):\n%s", diff)
	}

	rec = l.do(t, "GET", "/admin/v1/sandboxes", adminAuth, "")
	list := decodeJSON[struct{ Sandboxes []sandboxJSON }](t, rec.Body.Bytes())
	if diff := cmp.Diff(list.Sandboxes, []sandboxJSON{created}); diff != "" {
		t.Errorf("list (-got +want):\n%s", diff)
	}

	errorCases := []struct {
		name, method, path, body string
		wantStatus               int
		wantSCIMType             string
	}{
		{"duplicate", "POST", "/admin/v1/sandboxes", `{"id": "acme-test"}`, 409, "uniqueness"},
		{"invalid id", "POST", "/admin/v1/sandboxes", `{"id": "-Bad_id"}`, 400, ""},
		{"unknown field", "POST", "/admin/v1/sandboxes", `{"id": "x", "name": "typo"}`, 400, "invalidSyntax"},
		{"not JSON", "POST", "/admin/v1/sandboxes", `{"id": `, 400, "invalidSyntax"},
		{"get unknown", "GET", "/admin/v1/sandboxes/nope", "", 404, ""},
		{"delete unknown", "DELETE", "/admin/v1/sandboxes/nope", "", 404, ""},
	}
	for _, tt := range errorCases {
		t.Run(tt.name, func(t *testing.T) {
			rec := l.do(t, tt.method, tt.path, adminAuth, tt.body)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d %s, want %d", rec.Code, rec.Body, tt.wantStatus)
			}
			body := decodeErrorBody(t, rec.Body.Bytes())
			if diff := cmp.Diff(body.Schemas, []string{schemas.ErrorURN}); diff != "" {
				t.Errorf("schemas (-got +want):\n%s", diff)
			}
			if tt.wantSCIMType != "" && body.ScimType != tt.wantSCIMType {
				t.Errorf("scimType = %q, want %q", body.ScimType, tt.wantSCIMType)
			}
		})
	}

	rec = l.do(t, "DELETE", "/admin/v1/sandboxes/acme-test", adminAuth, "")
	if rec.Code != http.StatusNoContent {
		t.Fatalf("delete = %d %s, want 204", rec.Code, rec.Body)
	}
	if rec := l.do(t, "GET", "/admin/v1/sandboxes/acme-test", adminAuth, ""); rec.Code != http.StatusNotFound {
		t.Errorf("get after delete = %d, want 404", rec.Code)
	}
	rec = l.do(t, "GET", "/admin/v1/sandboxes", adminAuth, "")
	if got := strings.TrimSpace(rec.Body.String()); got != `{"sandboxes":[]}` {
		t.Errorf("empty list = %s, want {\"sandboxes\":[]}", got)
	}
}

func TestAdminCredentials(t *testing.T) {
	l := newLiveServer(t)
	l.createSandbox(t, "alpha")

	rec := l.do(t, "POST", "/admin/v1/credentials", adminAuth, `{"tenant": "alpha", "description": "okta"}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("issue = %d %s, want 201", rec.Code, rec.Body)
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	issued := decodeJSON[credentialJSON](t, rec.Body.Bytes())
	if issued.Tenant != "alpha" || issued.Description != "okta" || issued.ID == "" || issued.Token == "" {
		t.Fatalf("issued = %+v, want tenant alpha, description okta, an id and a token", issued)
	}
	const sandboxPath = "/sandboxes/alpha/scim/v2/Groups/none"
	if rec := l.do(t, "GET", sandboxPath, "Bearer "+issued.Token, ""); rec.Code == http.StatusUnauthorized {
		t.Errorf("issued credential is rejected: %s", rec.Body)
	}

	rec = l.do(t, "GET", "/admin/v1/credentials", adminAuth, "")
	if rec.Code != http.StatusOK {
		t.Fatalf("list = %d %s, want 200", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), issued.Token) || strings.Contains(rec.Body.String(), `"token"`) {
		t.Errorf("list shows a secret: %s", rec.Body)
	}
	list := decodeJSON[struct{ Credentials []credentialJSON }](t, rec.Body.Bytes())
	var found bool
	for _, c := range list.Credentials {
		if c.ID == issued.ID {
			found = true
			want := issued
			want.Token = ""
			if diff := cmp.Diff(c, want); diff != "" {
				t.Errorf("listed credential (-got +want):\n%s", diff)
			}
		}
	}
	if !found {
		t.Errorf("list %s lacks credential %s", rec.Body, issued.ID)
	}

	for _, body := range []string{`{"description": "no tenant"}`, `{"tenant": "nowhere"}`} {
		if rec := l.do(t, "POST", "/admin/v1/credentials", adminAuth, body); rec.Code/100 != 4 {
			t.Errorf("issue %s = %d, want a 4xx", body, rec.Code)
		}
	}

	rec = l.do(t, "DELETE", "/admin/v1/credentials/"+issued.ID, adminAuth, "")
	if rec.Code != http.StatusNoContent {
		t.Fatalf("revoke = %d %s, want 204", rec.Code, rec.Body)
	}
	if rec := l.do(t, "GET", sandboxPath, "Bearer "+issued.Token, ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("revoked credential = %d, want 401", rec.Code)
	}
}

func TestAdminRequiresAdminCredential(t *testing.T) {
	l := newLiveServer(t)
	mainToken := l.issue(t, "main")
	for _, auth := range []string{"", "Bearer " + mainToken, "Bearer unknown", "Basic " + testAdminToken} {
		rec := l.do(t, "GET", "/admin/v1/sandboxes", auth, "")
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("Authorization %q: status = %d, want 401", auth, rec.Code)
			continue
		}
		if rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q: no WWW-Authenticate header", auth)
		}
		if got := decodeErrorBody(t, rec.Body.Bytes()).Status; got != "401" {
			t.Errorf("Authorization %q: body status = %q, want 401", auth, got)
		}
	}
}

func TestAdminInvitation(t *testing.T) {
	l := newLiveServer(t)
	ctx := context.Background()
	l.createSandbox(t, "alpha")
	sandbox, err := l.svc.Resolve(ctx, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	user, err := l.svc.CreateUser(ctx, tenants.Main, map[string]any{
		"schemas": []any{schemas.UserURN}, "userName": "jdoe",
	})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	group, err := l.svc.CreateGroup(ctx, sandbox, map[string]any{
		"schemas": []any{schemas.GroupURN}, "displayName": "Engineers",
	})
	if err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}

	rec := l.do(t, "POST", "/admin/v1/sandboxes/alpha/invitations", adminAuth,
		`{"userName": "JDOE", "groups": ["engineers"]}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("invite = %d %s, want 200", rec.Code, rec.Body)
	}
	got := decodeJSON[map[string]any](t, rec.Body.Bytes())
	if got["userId"] != user.ID {
		t.Errorf("userId = %v, want %s", got["userId"], user.ID)
	}
	if diff := cmp.Diff(got["groups"], []any{group.ID}); diff != "" {
		t.Errorf("groups (-got +want):\n%s", diff)
	}
	member, err := l.svc.GetUser(ctx, sandbox, user.ID)
	if err != nil || member.ID != user.ID {
		t.Errorf("user is not visible in the sandbox after the invitation: %v", err)
	}

	tests := []struct {
		name, path, body string
		wantStatus       int
		wantDetail       string
	}{
		{"unknown user", "/admin/v1/sandboxes/alpha/invitations", `{"userName": "ghost", "groups": ["Engineers"]}`, 404, "ghost"},
		{"unknown group", "/admin/v1/sandboxes/alpha/invitations", `{"userName": "jdoe", "groups": ["Nobody"]}`, 404, "Nobody"},
		{"no groups", "/admin/v1/sandboxes/alpha/invitations", `{"userName": "jdoe", "groups": []}`, 400, "at least one group"},
		{"unknown sandbox", "/admin/v1/sandboxes/zeta/invitations", `{"userName": "jdoe", "groups": ["Engineers"]}`, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := l.do(t, "POST", tt.path, adminAuth, tt.body)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d %s, want %d", rec.Code, rec.Body, tt.wantStatus)
			}
			if body := decodeErrorBody(t, rec.Body.Bytes()); !strings.Contains(body.Detail, tt.wantDetail) {
				t.Errorf("detail = %q, want it to contain %q", body.Detail, tt.wantDetail)
			}
		})
	}
}

func TestAdminBodyErrors(t *testing.T) {
	l := newLiveServer(t)
	tests := []struct {
		name, body, detail string
	}{
		{"array", `[]`, "must be a JSON object, not a JSON array"},
		{"wrong field type", `{"id": 7}`, `must be a JSON string`},
		{"unknown field", `{"id": "x", "colour": "red"}`, "unknown field"},
		{"empty", ``, "the body is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := l.do(t, "POST", "/admin/v1/sandboxes", adminAuth, tt.body)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400; body %s", rec.Code, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), tt.detail) {
				t.Errorf("body %s, want detail containing %q", rec.Body, tt.detail)
			}
		})
	}
}

func TestAdminSandboxDefaultDisplayName(t *testing.T) {
	l := newLiveServer(t)
	rec := l.do(t, "POST", "/admin/v1/sandboxes", adminAuth, `{"id": "nodn"}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create = %d %s, want 201", rec.Code, rec.Body)
	}
	if got := decodeJSON[sandboxJSON](t, rec.Body.Bytes()).DisplayName; got != "nodn" {
		t.Errorf("displayName = %q, want the id nodn", got)
	}
}
