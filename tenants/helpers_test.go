package tenants

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/storage"
	"github.com/scimd/scimd/storage/sqlite"
)

// newTestService returns a Service over a new SQLite store in a temporary
// directory, with a fixed clock.
func newTestService(t *testing.T) *Service {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "scimd.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() {
		if err := store.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	clock := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	return New(store, Options{Now: func() time.Time { return clock }})
}

func userBody(userName string) map[string]any {
	return map[string]any{
		"schemas":  []any{schemas.UserURN},
		"userName": userName,
	}
}

func groupBody(displayName string, members ...string) map[string]any {
	body := map[string]any{
		"schemas":     []any{schemas.GroupURN},
		"displayName": displayName,
	}
	if len(members) > 0 {
		list := make([]any, len(members))
		for i, id := range members {
			list[i] = map[string]any{"value": id}
		}
		body["members"] = list
	}
	return body
}

func mustCreateUser(t *testing.T, s *Service, userName string) *storage.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), Main, userBody(userName))
	if err != nil {
		t.Fatalf("CreateUser(%q): %v", userName, err)
	}
	return u
}

func mustCreateSandbox(t *testing.T, s *Service, id string) *Tenant {
	t.Helper()
	ctx := context.Background()
	if _, err := s.CreateSandbox(ctx, id, "sandbox "+id); err != nil {
		t.Fatalf("CreateSandbox(%q): %v", id, err)
	}
	tenant, err := s.Resolve(ctx, id)
	if err != nil {
		t.Fatalf("Resolve(%q): %v", id, err)
	}
	return tenant
}

func mustCreateGroup(t *testing.T, s *Service, tenant *Tenant, displayName string, members ...string) *storage.Group {
	t.Helper()
	g, err := s.CreateGroup(context.Background(), tenant, groupBody(displayName, members...))
	if err != nil {
		t.Fatalf("CreateGroup(%s, %q): %v", tenant.ID, displayName, err)
	}
	return g
}

func mustIssue(t *testing.T, s *Service, tenantID string) *IssuedCredential {
	t.Helper()
	issued, err := s.IssueCredential(context.Background(), tenantID, "test")
	if err != nil {
		t.Fatalf("IssueCredential(%q): %v", tenantID, err)
	}
	return issued
}

// memberIDs returns the user ids of the group's members.
func memberIDs(t *testing.T, s *Service, tenant *Tenant, groupID string) []string {
	t.Helper()
	members, err := s.ListMembers(context.Background(), tenant, groupID, "", 1000)
	if err != nil {
		t.Fatalf("ListMembers(%s, %s): %v", tenant.ID, groupID, err)
	}
	ids := []string{}
	for _, m := range members {
		ids = append(ids, m.UserID)
	}
	return ids
}

// visibleUserNames returns the userNames that QueryUsers lists for the
// tenant.
func visibleUserNames(t *testing.T, s *Service, tenant *Tenant) []string {
	t.Helper()
	page, err := s.QueryUsers(context.Background(), tenant, storage.Query{Limit: 1000, Count: true}, false)
	if err != nil {
		t.Fatalf("QueryUsers(%s): %v", tenant.ID, err)
	}
	names := []string{}
	for _, u := range page.Users {
		names = append(names, u.UserName())
	}
	return names
}

// wantError checks that err is an *Error of the kind, with the scimType,
// and that its detail contains each of the fragments.
func wantError(t *testing.T, err error, kind error, scimType string, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", kind)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("got error %v, want kind %v", err, kind)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %T %v, want *Error", err, err)
	}
	if e.ScimType != scimType {
		t.Errorf("got scimType %q, want %q", e.ScimType, scimType)
	}
	for _, f := range fragments {
		if !strings.Contains(e.Detail, f) {
			t.Errorf("got detail %q, want it to contain %q", e.Detail, f)
		}
	}
}
