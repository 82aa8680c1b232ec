// Package storagetest is the conformance suite that every storage.Store
// implementation passes. A backend's tests call Run with a function that
// opens a fresh, empty store.
package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/storage"
)

// Options tunes the suite to a backend.
type Options struct {
	Concurrent bool              // run the tests that need concurrent writers
	Skip       map[string]string // subtest name -> reason, for engines that cannot run it
}

// test is one named subtest of the suite.
type test struct {
	name string
	fn   func(t *testing.T, s storage.Store)
	// concurrent marks tests that need Options.Concurrent.
	concurrent bool
}

// Run runs the whole suite. Each subtest opens its own store with open,
// which returns an empty store and arranges for it to be closed (for
// example with t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) storage.Store, opts Options) {
	t.Helper()
	for _, tc := range tests() {
		t.Run(tc.name, func(t *testing.T) {
			if reason, ok := opts.Skip[tc.name]; ok {
				t.Skipf("skipped by the backend: %s", reason)
			}
			if tc.concurrent && !opts.Concurrent {
				t.Skip("needs concurrent writers (Options.Concurrent)")
			}
			tc.fn(t, open(t))
		})
	}
}

func tests() []test {
	return []test{
		{name: "UserCreateGet", fn: testUserCreateGet},
		{name: "UserNameUnique", fn: testUserNameUnique},
		{name: "UserUpdate", fn: testUserUpdate},
		{name: "UserUpdateErrors", fn: testUserUpdateErrors},
		{name: "UserDelete", fn: testUserDelete},
		{name: "ConditionalDelete", fn: testConditionalDelete},
		{name: "GroupCreateGet", fn: testGroupCreateGet},
		{name: "GroupTenantIsolation", fn: testGroupTenantIsolation},
		{name: "GroupDisplayNameUnique", fn: testGroupDisplayNameUnique},
		{name: "GroupMemberNotFound", fn: testGroupMemberNotFound},
		{name: "GroupMembers", fn: testGroupMembers},
		{name: "GroupUpdateErrors", fn: testGroupUpdateErrors},
		{name: "GroupDelete", fn: testGroupDelete},
		{name: "UserGroups", fn: testUserGroups},
		{name: "UserVersionFollowsMemberships", fn: testUserVersionFollowsMemberships},
		{name: "GroupVersionFollowsMemberDisplay", fn: testGroupVersionFollowsMemberDisplay},
		{name: "RemoveUserFromTenant", fn: testRemoveUserFromTenant},
		{name: "DeleteUserCascade", fn: testDeleteUserCascade},
		{name: "Sandboxes", fn: testSandboxes},
		{name: "DeleteSandboxCascade", fn: testDeleteSandboxCascade},
		{name: "CreateInDeletedSandbox", fn: testCreateInDeletedSandbox},
		{name: "Credentials", fn: testCredentials},
		{name: "UserFilters", fn: testUserFilters},
		{name: "UserFiltersTyped", fn: testUserFiltersTyped},
		{name: "SandboxUserFilters", fn: testSandboxUserFilters},
		{name: "GroupFilters", fn: testGroupFilters},
		{name: "UserSort", fn: testUserSort},
		{name: "GroupSort", fn: testGroupSort},
		{name: "Paging", fn: testPaging},
		{name: "CursorPaging", fn: testCursorPaging},
		{name: "LargeGroup", fn: testLargeGroup},
		{name: "Ping", fn: testPing},
		{name: "ConcurrentMemberAdds", fn: testConcurrentMemberAdds, concurrent: true},
		{name: "ConcurrentUserUpdates", fn: testConcurrentUserUpdates, concurrent: true},
		{name: "ConcurrentUserNameCreates", fn: testConcurrentUserNameCreates, concurrent: true},
	}
}

// base is the time of the fixtures. Times are whole milliseconds, the
// precision every backend keeps.
var base = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func ctx(t *testing.T) context.Context {
	t.Helper()
	return t.Context()
}

func newUser(id, userName string, created time.Time, attrs map[string]any) *storage.User {
	a := map[string]any{
		"schemas":  []any{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": userName,
	}
	for k, v := range attrs {
		a[k] = v
	}
	return &storage.User{ID: id, Attributes: a, Created: created, LastModified: created}
}

func newGroup(id, tenant, displayName string, created time.Time, attrs map[string]any) *storage.Group {
	a := map[string]any{
		"schemas":     []any{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"displayName": displayName,
	}
	for k, v := range attrs {
		a[k] = v
	}
	return &storage.Group{ID: id, Tenant: tenant, Attributes: a, Created: created, LastModified: created}
}

func mustCreateUser(t *testing.T, s storage.Store, u *storage.User) {
	t.Helper()
	if err := s.CreateUser(ctx(t), u); err != nil {
		t.Fatalf("CreateUser(%q): %v", u.ID, err)
	}
}

// mustCreateSandbox creates a sandbox with the tenant key and the id
// "sb-" plus the key, so that groups and credentials can use the key.
func mustCreateSandbox(t *testing.T, s storage.Store, key string) {
	t.Helper()
	sb := &storage.Sandbox{ID: "sb-" + key, Key: key, DisplayName: key, Created: base}
	if err := s.CreateSandbox(ctx(t), sb); err != nil {
		t.Fatalf("CreateSandbox(%q): %v", sb.ID, err)
	}
}

func mustCreateGroup(t *testing.T, s storage.Store, g *storage.Group, members ...string) {
	t.Helper()
	if err := s.CreateGroup(ctx(t), g, members); err != nil {
		t.Fatalf("CreateGroup(%q): %v", g.ID, err)
	}
}

func mustGetGroup(t *testing.T, s storage.Store, tenant, id string) *storage.Group {
	t.Helper()
	g, err := s.GetGroup(ctx(t), tenant, id)
	if err != nil {
		t.Fatalf("GetGroup(%q, %q): %v", tenant, id, err)
	}
	return g
}

// members lists all members of a group in pieces of 2.
func members(t *testing.T, s storage.Store, tenant, groupID string) []string {
	t.Helper()
	var ids []string
	after := ""
	for {
		page, err := s.ListMembers(ctx(t), tenant, groupID, after, 2)
		if err != nil {
			t.Fatalf("ListMembers(%q, %q, %q): %v", tenant, groupID, after, err)
		}
		for _, m := range page {
			ids = append(ids, m.UserID)
		}
		if len(page) < 2 {
			return ids
		}
		after = page[len(page)-1].UserID
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want %v", what, err, want)
	}
}

// timeEqual compares times by instant, so that a backend may return
// them in another location.
var timeEqual = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })
