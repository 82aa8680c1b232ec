package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/storage"
)

func testUserCreateGet(t *testing.T, s storage.Store) {
	u := newUser("u1", "bjensen", base, map[string]any{
		"name":   map[string]any{"givenName": "Barbara", "familyName": "Jensen"},
		"emails": []any{map[string]any{"value": "b@example.com", "type": "work", "primary": true}},
		"active": true,
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{
			"employeeNumber": "701984",
			"manager":        map[string]any{"value": "u2"},
		},
	})
	mustCreateUser(t, s, u)
	if u.Version != 1 {
		t.Errorf("CreateUser set Version %d, want 1", u.Version)
	}

	got, err := s.GetUser(ctx(t), "u1")
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	want := newUser("u1", "bjensen", base, u.Attributes)
	want.Version = 1
	if diff := cmp.Diff(want, got, timeEqual); diff != "" {
		t.Errorf("GetUser (-want +got):\n%s", diff)
	}

	_, err = s.GetUser(ctx(t), "nobody")
	wantErr(t, "GetUser of an unknown id", err, storage.ErrNotFound)
	err = s.CreateUser(ctx(t), newUser("u1", "other", base, nil))
	wantErr(t, "CreateUser with a taken id", err, storage.ErrAlreadyExists)
}

func testUserNameUnique(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, newUser("u1", "BJensen", base, nil))
	for _, name := range []string{"BJensen", "bjensen", "BJENSEN"} {
		err := s.CreateUser(ctx(t), newUser("u-"+name, name, base, nil))
		wantErr(t, "CreateUser("+name+")", err, storage.ErrAlreadyExists)
	}
	mustCreateUser(t, s, newUser("u2", "jsmith", base, nil))

	_, err := s.UpdateUser(ctx(t), "u2", base, func(u *storage.User) error {
		u.Attributes["userName"] = "bJENSEN"
		return nil
	})
	wantErr(t, "UpdateUser to a taken userName", err, storage.ErrAlreadyExists)
	got, err := s.GetUser(ctx(t), "u2")
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if got.UserName() != "jsmith" || got.Version != 1 {
		t.Errorf("after a failed rename got userName %q version %d, want jsmith 1", got.UserName(), got.Version)
	}

	// A user may change the case of its own userName.
	if _, err := s.UpdateUser(ctx(t), "u1", base, func(u *storage.User) error {
		u.Attributes["userName"] = "bjensen"
		return nil
	}); err != nil {
		t.Errorf("UpdateUser changing the case of its own userName: %v", err)
	}
}

func testUserUpdate(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, newUser("u1", "bjensen", base, map[string]any{"title": "Guide"}))
	later := base.Add(time.Hour)

	calls := 0
	got, err := s.UpdateUser(ctx(t), "u1", later, func(u *storage.User) error {
		calls++
		if u.Version != 1 || u.Attributes["title"] != "Guide" {
			t.Errorf("update got version %d title %v, want 1 Guide", u.Version, u.Attributes["title"])
		}
		u.Attributes["title"] = "Manager"
		delete(u.Attributes, "nickName")
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if calls < 1 {
		t.Errorf("update ran %d times, want at least 1", calls)
	}
	if got.Version != 2 || !got.LastModified.Equal(later) || !got.Created.Equal(base) {
		t.Errorf("UpdateUser returned version %d lastModified %v created %v, want 2 %v %v",
			got.Version, got.LastModified, got.Created, later, base)
	}
	stored, err := s.GetUser(ctx(t), "u1")
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if diff := cmp.Diff(got, stored, timeEqual); diff != "" {
		t.Errorf("stored user differs from the returned one (-returned +stored):\n%s", diff)
	}

	got, err = s.UpdateUser(ctx(t), "u1", later.Add(time.Hour), func(u *storage.User) error { return nil })
	if err != nil {
		t.Fatalf("second UpdateUser: %v", err)
	}
	if got.Version != 3 {
		t.Errorf("second UpdateUser version %d, want 3", got.Version)
	}
}

func testUserUpdateErrors(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, newUser("u1", "bjensen", base, map[string]any{"title": "Guide"}))

	_, err := s.UpdateUser(ctx(t), "nobody", base, func(*storage.User) error { return nil })
	wantErr(t, "UpdateUser of an unknown id", err, storage.ErrNotFound)

	abort := errors.New("abort")
	_, err = s.UpdateUser(ctx(t), "u1", base.Add(time.Hour), func(u *storage.User) error {
		u.Attributes["title"] = "changed"
		return abort
	})
	wantErr(t, "UpdateUser whose update fails", err, abort)
	got, err := s.GetUser(ctx(t), "u1")
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if got.Attributes["title"] != "Guide" || got.Version != 1 || !got.LastModified.Equal(base) {
		t.Errorf("after an aborted update got title %v version %d lastModified %v, want Guide 1 %v",
			got.Attributes["title"], got.Version, got.LastModified, base)
	}
}

func testUserDelete(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, newUser("u1", "bjensen", base, nil))
	if err := s.DeleteUser(ctx(t), "u1", 0); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err := s.GetUser(ctx(t), "u1")
	wantErr(t, "GetUser after DeleteUser", err, storage.ErrNotFound)
	wantErr(t, "DeleteUser twice", s.DeleteUser(ctx(t), "u1", 0), storage.ErrNotFound)
	// The userName is free again.
	mustCreateUser(t, s, newUser("u2", "BJENSEN", base, nil))
}

func mustGetUser(t *testing.T, s storage.Store, id string) *storage.User {
	t.Helper()
	u, err := s.GetUser(ctx(t), id)
	if err != nil {
		t.Fatalf("GetUser(%q): %v", id, err)
	}
	return u
}

// staleVersions returns conditional versions that do not match current:
// a newer one, an older one if there is one, and a negative one.
func staleVersions(current int64) []int64 {
	stale := []int64{current + 1, -1}
	if current > 1 {
		stale = append(stale, current-1)
	}
	return stale
}

// testConditionalDelete checks that a delete given a version other than
// the stored one changes nothing, and that one given the stored version,
// or 0, deletes.
func testConditionalDelete(t *testing.T, s storage.Store) {
	mustCreateSandbox(t, s, "sbkey")
	mustCreateUser(t, s, newUser("u1", "bjensen", base, nil))
	mustCreateUser(t, s, newUser("u2", "jsmith", base, nil))
	mustCreateGroup(t, s, newGroup("g1", storage.MainTenant, "Admins", base, nil), "u1", "u2")
	mustCreateGroup(t, s, newGroup("g2", "sbkey", "Admins", base, nil), "u1")

	user := mustGetUser(t, s, "u1")
	group := mustGetGroup(t, s, storage.MainTenant, "g1")
	for _, stale := range staleVersions(user.Version) {
		err := s.DeleteUser(ctx(t), "u1", stale)
		wantErr(t, fmt.Sprintf("DeleteUser with version %d of %d", stale, user.Version), err, storage.ErrVersionMismatch)
	}
	if got := mustGetUser(t, s, "u1"); got.Version != user.Version {
		t.Errorf("user version %d after failed deletes, want %d", got.Version, user.Version)
	}
	if got, want := members(t, s, storage.MainTenant, "g1"), []string{"u1", "u2"}; !slices.Equal(got, want) {
		t.Errorf("g1 members after failed user deletes %v, want %v", got, want)
	}
	if got, want := members(t, s, "sbkey", "g2"), []string{"u1"}; !slices.Equal(got, want) {
		t.Errorf("g2 members after failed user deletes %v, want %v", got, want)
	}

	for _, stale := range staleVersions(group.Version) {
		err := s.DeleteGroup(ctx(t), storage.MainTenant, "g1", stale)
		wantErr(t, fmt.Sprintf("DeleteGroup with version %d of %d", stale, group.Version), err, storage.ErrVersionMismatch)
	}
	if got := mustGetGroup(t, s, storage.MainTenant, "g1"); got.Version != group.Version {
		t.Errorf("group version %d after failed deletes, want %d", got.Version, group.Version)
	}
	if got, want := members(t, s, storage.MainTenant, "g1"), []string{"u1", "u2"}; !slices.Equal(got, want) {
		t.Errorf("g1 members after failed group deletes %v, want %v", got, want)
	}

	// An unknown id, or a group of another tenant, is not found whatever
	// the version.
	sandboxGroup := mustGetGroup(t, s, "sbkey", "g2")
	for _, v := range []int64{0, 1, -1} {
		wantErr(t, fmt.Sprintf("DeleteUser of an unknown id with version %d", v),
			s.DeleteUser(ctx(t), "nobody", v), storage.ErrNotFound)
		wantErr(t, fmt.Sprintf("DeleteGroup of an unknown id with version %d", v),
			s.DeleteGroup(ctx(t), storage.MainTenant, "nowhere", v), storage.ErrNotFound)
	}
	wantErr(t, "DeleteGroup from another tenant with its version",
		s.DeleteGroup(ctx(t), storage.MainTenant, "g2", sandboxGroup.Version), storage.ErrNotFound)

	if err := s.DeleteGroup(ctx(t), storage.MainTenant, "g1", group.Version); err != nil {
		t.Fatalf("DeleteGroup with the current version: %v", err)
	}
	_, err := s.GetGroup(ctx(t), storage.MainTenant, "g1")
	wantErr(t, "GetGroup after a conditional DeleteGroup", err, storage.ErrNotFound)

	// Deleting g1 changed u1's version; the stale one no longer matches.
	wantErr(t, "DeleteUser with the version before the group's delete",
		s.DeleteUser(ctx(t), "u1", user.Version), storage.ErrVersionMismatch)
	user = mustGetUser(t, s, "u1")
	if err := s.DeleteUser(ctx(t), "u1", user.Version); err != nil {
		t.Fatalf("DeleteUser with the current version: %v", err)
	}
	_, err = s.GetUser(ctx(t), "u1")
	wantErr(t, "GetUser after a conditional DeleteUser", err, storage.ErrNotFound)
	if got := members(t, s, "sbkey", "g2"); len(got) != 0 {
		t.Errorf("g2 members after a conditional DeleteUser %v, want none", got)
	}

	if err := s.DeleteUser(ctx(t), "u2", 0); err != nil {
		t.Fatalf("DeleteUser unconditionally: %v", err)
	}
	if err := s.DeleteGroup(ctx(t), "sbkey", "g2", 0); err != nil {
		t.Fatalf("DeleteGroup unconditionally: %v", err)
	}
	wantErr(t, "DeleteUser after an unconditional delete", s.DeleteUser(ctx(t), "u2", 0), storage.ErrNotFound)
}

func testGroupCreateGet(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, newUser("u1", "bjensen", base, nil))
	g := newGroup("g1", storage.MainTenant, "Admins", base, map[string]any{"externalId": "E1"})
	mustCreateGroup(t, s, g, "u1")
	if g.Version != 1 {
		t.Errorf("CreateGroup set Version %d, want 1", g.Version)
	}
	got := mustGetGroup(t, s, storage.MainTenant, "g1")
	want := newGroup("g1", storage.MainTenant, "Admins", base, map[string]any{"externalId": "E1"})
	want.Version = 1
	if diff := cmp.Diff(want, got, timeEqual); diff != "" {
		t.Errorf("GetGroup (-want +got):\n%s", diff)
	}
	if got := members(t, s, storage.MainTenant, "g1"); !slices.Equal(got, []string{"u1"}) {
		t.Errorf("members %v, want [u1]", got)
	}
	err := s.CreateGroup(ctx(t), newGroup("g1", storage.MainTenant, "Other", base, nil), nil)
	wantErr(t, "CreateGroup with a taken id", err, storage.ErrAlreadyExists)
}

func testGroupTenantIsolation(t *testing.T, s storage.Store) {
	mustCreateSandbox(t, s, "sbkey")
	mustCreateUser(t, s, newUser("u1", "bjensen", base, nil))
	mustCreateGroup(t, s, newGroup("g1", "sbkey", "Admins", base, nil), "u1")

	_, err := s.GetGroup(ctx(t), storage.MainTenant, "g1")
	wantErr(t, "GetGroup from another tenant", err, storage.ErrNotFound)
	_, err = s.UpdateGroup(ctx(t), storage.MainTenant, "g1", base, func(*storage.Group) (*storage.MemberChange, error) {
		return nil, nil
	})
	wantErr(t, "UpdateGroup from another tenant", err, storage.ErrNotFound)
	_, err = s.ListMembers(ctx(t), storage.MainTenant, "g1", "", 10)
	wantErr(t, "ListMembers from another tenant", err, storage.ErrNotFound)
	_, err = s.IsMember(ctx(t), storage.MainTenant, "g1", "u1")
	wantErr(t, "IsMember from another tenant", err, storage.ErrNotFound)
	wantErr(t, "DeleteGroup from another tenant", s.DeleteGroup(ctx(t), storage.MainTenant, "g1", 0), storage.ErrNotFound)
	_, err = s.GetGroup(ctx(t), "sbkey", "nowhere")
	wantErr(t, "GetGroup of an unknown id", err, storage.ErrNotFound)

	page, err := s.QueryGroups(ctx(t), storage.MainTenant, storage.Query{Limit: 10, Count: true})
	if err != nil {
		t.Fatalf("QueryGroups: %v", err)
	}
	if len(page.Items) != 0 || page.Total != 0 {
		t.Errorf("main tenant lists %d groups (total %d) of a sandbox, want 0", len(page.Items), page.Total)
	}
	// The group is intact in its own tenant.
	if g := mustGetGroup(t, s, "sbkey", "g1"); g.Version != 1 {
		t.Errorf("group version %d after calls from another tenant, want 1", g.Version)
	}
}

func testGroupDisplayNameUnique(t *testing.T, s storage.Store) {
	mustCreateSandbox(t, s, "sbkey")
	mustCreateGroup(t, s, newGroup("g1", storage.MainTenant, "Admins", base, nil))
	err := s.CreateGroup(ctx(t), newGroup("g2", storage.MainTenant, "ADMINS", base, nil), nil)
	wantErr(t, "CreateGroup with a taken displayName", err, storage.ErrAlreadyExists)
	// Another tenant may use the name.
	mustCreateGroup(t, s, newGroup("g3", "sbkey", "admins", base, nil))

	mustCreateGroup(t, s, newGroup("g4", storage.MainTenant, "Users", base, nil))
	_, err = s.UpdateGroup(ctx(t), storage.MainTenant, "g4", base, func(g *storage.Group) (*storage.MemberChange, error) {
		g.Attributes["displayName"] = "admINS"
		return nil, nil
	})
	wantErr(t, "UpdateGroup to a taken displayName", err, storage.ErrAlreadyExists)
	if g := mustGetGroup(t, s, storage.MainTenant, "g4"); g.DisplayName() != "Users" || g.Version != 1 {
		t.Errorf("after a failed rename got %q version %d, want Users 1", g.DisplayName(), g.Version)
	}
}

func testGroupMemberNotFound(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, newUser("u1", "bjensen", base, nil))
	err := s.CreateGroup(ctx(t), newGroup("g1", storage.MainTenant, "Admins", base, nil), []string{"u1", "ghost"})
	var mnf *storage.MemberNotFoundError
	if !errors.As(err, &mnf) || mnf.UserID != "ghost" {
		t.Fatalf("CreateGroup with an unknown member: got %v, want a MemberNotFoundError for ghost", err)
	}
	wantErr(t, "CreateGroup with an unknown member", err, storage.ErrMemberNotFound)
	_, err = s.GetGroup(ctx(t), storage.MainTenant, "g1")
	wantErr(t, "GetGroup after a failed CreateGroup", err, storage.ErrNotFound)
	// Nothing was stored, so the name is free.
	mustCreateGroup(t, s, newGroup("g1", storage.MainTenant, "Admins", base, nil), "u1")

	_, err = s.UpdateGroup(ctx(t), storage.MainTenant, "g1", base.Add(time.Hour), func(g *storage.Group) (*storage.MemberChange, error) {
		g.Attributes["displayName"] = "Renamed"
		return &storage.MemberChange{Add: []string{"ghost2"}, Remove: []string{"u1"}}, nil
	})
	if !errors.As(err, &mnf) || mnf.UserID != "ghost2" {
		t.Fatalf("UpdateGroup adding an unknown member: got %v, want a MemberNotFoundError for ghost2", err)
	}
	g := mustGetGroup(t, s, storage.MainTenant, "g1")
	if g.DisplayName() != "Admins" || g.Version != 1 {
		t.Errorf("after a failed update got %q version %d, want Admins 1", g.DisplayName(), g.Version)
	}
	if got := members(t, s, storage.MainTenant, "g1"); !slices.Equal(got, []string{"u1"}) {
		t.Errorf("members after a failed update %v, want [u1]", got)
	}

	_, err = s.UpdateGroup(ctx(t), storage.MainTenant, "g1", base, func(g *storage.Group) (*storage.MemberChange, error) {
		return &storage.MemberChange{Replace: true, Set: []string{"ghost3"}}, nil
	})
	wantErr(t, "UpdateGroup replacing members with an unknown one", err, storage.ErrMemberNotFound)
	if got := members(t, s, storage.MainTenant, "g1"); !slices.Equal(got, []string{"u1"}) {
		t.Errorf("members after a failed replace %v, want [u1]", got)
	}
}

func testGroupMembers(t *testing.T, s storage.Store) {
	for _, id := range []string{"u1", "u2", "u3", "u4"} {
		mustCreateUser(t, s, newUser(id, "name-"+id, base, nil))
	}
	mustCreateGroup(t, s, newGroup("g1", storage.MainTenant, "Admins", base, nil), "u1", "u2")

	steps := []struct {
		name    string
		change  *storage.MemberChange
		want    []string
		version int64
	}{
		{"nil change keeps members", nil, []string{"u1", "u2"}, 2},
		{"add", &storage.MemberChange{Add: []string{"u3"}}, []string{"u1", "u2", "u3"}, 3},
		{"add existing and remove absent", &storage.MemberChange{Add: []string{"u1"}, Remove: []string{"u4"}}, []string{"u1", "u2", "u3"}, 4},
		{"remove", &storage.MemberChange{Remove: []string{"u2"}}, []string{"u1", "u3"}, 5},
		{"add and remove", &storage.MemberChange{Add: []string{"u4"}, Remove: []string{"u1"}}, []string{"u3", "u4"}, 6},
		{"replace", &storage.MemberChange{Replace: true, Set: []string{"u2", "u1"}}, []string{"u1", "u2"}, 7},
		{"replace with none", &storage.MemberChange{Replace: true}, nil, 8},
	}
	for _, step := range steps {
		g, err := s.UpdateGroup(ctx(t), storage.MainTenant, "g1", base.Add(time.Minute), func(*storage.Group) (*storage.MemberChange, error) {
			return step.change, nil
		})
		if err != nil {
			t.Fatalf("%s: UpdateGroup: %v", step.name, err)
		}
		if g.Version != step.version {
			t.Errorf("%s: version %d, want %d", step.name, g.Version, step.version)
		}
		if got := members(t, s, storage.MainTenant, "g1"); !slices.Equal(got, step.want) {
			t.Errorf("%s: members %v, want %v", step.name, got, step.want)
		}
	}

	mustCreateGroup(t, s, newGroup("g2", storage.MainTenant, "Guides", base, nil), "u3")
	for _, tc := range []struct {
		user string
		want bool
	}{{"u3", true}, {"u1", false}, {"ghost", false}} {
		got, err := s.IsMember(ctx(t), storage.MainTenant, "g2", tc.user)
		if err != nil {
			t.Fatalf("IsMember(%q): %v", tc.user, err)
		}
		if got != tc.want {
			t.Errorf("IsMember(%q) = %v, want %v", tc.user, got, tc.want)
		}
	}
	_, err := s.IsMember(ctx(t), storage.MainTenant, "ghost", "u3")
	wantErr(t, "IsMember of an unknown group", err, storage.ErrNotFound)
}

func testGroupUpdateErrors(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, newUser("u1", "bjensen", base, nil))
	mustCreateGroup(t, s, newGroup("g1", storage.MainTenant, "Admins", base, nil), "u1")
	abort := errors.New("abort")
	_, err := s.UpdateGroup(ctx(t), storage.MainTenant, "g1", base.Add(time.Hour), func(g *storage.Group) (*storage.MemberChange, error) {
		g.Attributes["displayName"] = "changed"
		return &storage.MemberChange{Remove: []string{"u1"}}, abort
	})
	wantErr(t, "UpdateGroup whose update fails", err, abort)
	g := mustGetGroup(t, s, storage.MainTenant, "g1")
	if g.DisplayName() != "Admins" || g.Version != 1 || !g.LastModified.Equal(base) {
		t.Errorf("after an aborted update got %q version %d lastModified %v, want Admins 1 %v",
			g.DisplayName(), g.Version, g.LastModified, base)
	}
	if got := members(t, s, storage.MainTenant, "g1"); !slices.Equal(got, []string{"u1"}) {
		t.Errorf("members after an aborted update %v, want [u1]", got)
	}

	later := base.Add(2 * time.Hour)
	g, err = s.UpdateGroup(ctx(t), storage.MainTenant, "g1", later, func(g *storage.Group) (*storage.MemberChange, error) {
		g.Attributes["displayName"] = "Administrators"
		return nil, nil
	})
	if err != nil {
		t.Fatalf("UpdateGroup: %v", err)
	}
	if g.DisplayName() != "Administrators" || g.Version != 2 || !g.LastModified.Equal(later) || g.Tenant != storage.MainTenant {
		t.Errorf("UpdateGroup returned %q version %d lastModified %v tenant %q, want Administrators 2 %v main",
			g.DisplayName(), g.Version, g.LastModified, g.Tenant, later)
	}
	stored := mustGetGroup(t, s, storage.MainTenant, "g1")
	if diff := cmp.Diff(g, stored, timeEqual); diff != "" {
		t.Errorf("stored group differs from the returned one (-returned +stored):\n%s", diff)
	}
}

func testGroupDelete(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, newUser("u1", "bjensen", base, nil))
	mustCreateGroup(t, s, newGroup("g1", storage.MainTenant, "Admins", base, nil), "u1")
	if err := s.DeleteGroup(ctx(t), storage.MainTenant, "g1", 0); err != nil {
		t.Fatalf("DeleteGroup: %v", err)
	}
	_, err := s.GetGroup(ctx(t), storage.MainTenant, "g1")
	wantErr(t, "GetGroup after DeleteGroup", err, storage.ErrNotFound)
	wantErr(t, "DeleteGroup twice", s.DeleteGroup(ctx(t), storage.MainTenant, "g1", 0), storage.ErrNotFound)
	groups, err := s.UserGroups(ctx(t), storage.MainTenant, []string{"u1"})
	if err != nil {
		t.Fatalf("UserGroups: %v", err)
	}
	if len(groups["u1"]) != 0 {
		t.Errorf("UserGroups after DeleteGroup = %v, want none", groups["u1"])
	}
	// A new group with the same id and name starts without members.
	mustCreateGroup(t, s, newGroup("g1", storage.MainTenant, "Admins", base, nil))
	if got := members(t, s, storage.MainTenant, "g1"); len(got) != 0 {
		t.Errorf("members of a recreated group %v, want none", got)
	}
}

func testUserGroups(t *testing.T, s storage.Store) {
	mustCreateSandbox(t, s, "sbkey")
	for _, id := range []string{"u1", "u2", "u3"} {
		mustCreateUser(t, s, newUser(id, "name-"+id, base, nil))
	}
	mustCreateGroup(t, s, newGroup("g1", storage.MainTenant, "zeta", base, nil), "u1", "u2")
	mustCreateGroup(t, s, newGroup("g2", storage.MainTenant, "Alpha", base, nil), "u1")
	mustCreateGroup(t, s, newGroup("g3", storage.MainTenant, "beta", base, nil), "u1")
	mustCreateGroup(t, s, newGroup("g4", "sbkey", "Sandboxed", base, nil), "u1", "u3")

	got, err := s.UserGroups(ctx(t), storage.MainTenant, []string{"u1", "u2", "u3", "ghost"})
	if err != nil {
		t.Fatalf("UserGroups: %v", err)
	}
	want := map[string][]storage.GroupRef{
		"u1": {ref("g2", "Alpha"), ref("g3", "beta"), ref("g1", "zeta")},
		"u2": {ref("g1", "zeta")},
	}
	if diff := cmp.Diff(want, got, cmpEmptyMap()); diff != "" {
		t.Errorf("UserGroups(main) (-want +got):\n%s", diff)
	}
	got, err = s.UserGroups(ctx(t), "sbkey", []string{"u1", "u2", "u3"})
	if err != nil {
		t.Fatalf("UserGroups: %v", err)
	}
	want = map[string][]storage.GroupRef{"u1": {ref("g4", "Sandboxed")}, "u3": {ref("g4", "Sandboxed")}}
	if diff := cmp.Diff(want, got, cmpEmptyMap()); diff != "" {
		t.Errorf("UserGroups(sandbox) (-want +got):\n%s", diff)
	}
}

// testUserVersionFollowsMemberships checks that every change of a user's
// memberships changes the user's version, since each tenant's view of
// the user lists its groups and an ETag must not stay the same.
func testUserVersionFollowsMemberships(t *testing.T, s storage.Store) {
	mustCreateSandbox(t, s, "sbkey")
	mustCreateUser(t, s, newUser("u1", "bjensen", base, nil))
	mustCreateUser(t, s, newUser("u2", "jsmith", base, nil))
	version := func(id string) int64 {
		t.Helper()
		u, err := s.GetUser(ctx(t), id)
		if err != nil {
			t.Fatalf("GetUser(%q): %v", id, err)
		}
		return u.Version
	}
	update := func(tenant, groupID string, change *storage.MemberChange) {
		t.Helper()
		_, err := s.UpdateGroup(ctx(t), tenant, groupID, base, func(*storage.Group) (*storage.MemberChange, error) {
			return change, nil
		})
		if err != nil {
			t.Fatalf("UpdateGroup(%q): %v", groupID, err)
		}
	}
	steps := []struct {
		name   string
		change func()
		bumped bool
	}{
		{"create group with member", func() {
			mustCreateGroup(t, s, newGroup("g1", "sbkey", "One", base, nil), "u1")
		}, true},
		{"add to a second group", func() {
			mustCreateGroup(t, s, newGroup("g2", "sbkey", "Two", base, nil))
			update("sbkey", "g2", &storage.MemberChange{Add: []string{"u1"}})
		}, true},
		{"add again, no change", func() {
			update("sbkey", "g2", &storage.MemberChange{Add: []string{"u1"}})
		}, false},
		{"remove from a group", func() {
			update("sbkey", "g2", &storage.MemberChange{Remove: []string{"u1"}})
		}, true},
		{"remove a non-member, no change", func() {
			update("sbkey", "g2", &storage.MemberChange{Remove: []string{"u1"}})
		}, false},
		{"replace members without the user", func() {
			update("sbkey", "g1", &storage.MemberChange{Replace: true, Set: []string{"u2"}})
		}, true},
		{"add back and remove from tenant", func() {
			update("sbkey", "g1", &storage.MemberChange{Add: []string{"u1"}})
			if _, err := s.RemoveUserFromTenant(ctx(t), "sbkey", "u1"); err != nil {
				t.Fatalf("RemoveUserFromTenant: %v", err)
			}
		}, true},
		{"delete a group the user is in", func() {
			update("sbkey", "g2", &storage.MemberChange{Add: []string{"u1"}})
			if err := s.DeleteGroup(ctx(t), "sbkey", "g2", 0); err != nil {
				t.Fatalf("DeleteGroup: %v", err)
			}
		}, true},
	}
	for _, step := range steps {
		before := version("u1")
		step.change()
		after := version("u1")
		if step.bumped && after <= before {
			t.Errorf("%s: version %d -> %d, want it to grow", step.name, before, after)
		}
		if !step.bumped && after != before {
			t.Errorf("%s: version %d -> %d, want it unchanged", step.name, before, after)
		}
	}
}

// testGroupVersionFollowsMemberDisplay checks that renaming a member
// changes the version of its groups, which list the member's display text.
func testGroupVersionFollowsMemberDisplay(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, newUser("u1", "bjensen", base, nil))
	mustCreateGroup(t, s, newGroup("g1", storage.MainTenant, "Admins", base, nil), "u1")
	rename := func(attr, value string) {
		t.Helper()
		_, err := s.UpdateUser(ctx(t), "u1", base, func(u *storage.User) error {
			u.Attributes[attr] = value
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
	}
	steps := []struct {
		name, attr, value string
		bumped            bool
	}{
		{"userName shown as display", "userName", "babs", true},
		{"displayName set", "displayName", "Barbara Jensen", true},
		{"userName hidden behind displayName", "userName", "bjensen2", false},
		{"other attribute", "title", "Lead", false},
	}
	for _, step := range steps {
		before := mustGetGroup(t, s, storage.MainTenant, "g1").Version
		rename(step.attr, step.value)
		after := mustGetGroup(t, s, storage.MainTenant, "g1").Version
		if step.bumped && after <= before {
			t.Errorf("%s: group version %d -> %d, want it to grow", step.name, before, after)
		}
		if !step.bumped && after != before {
			t.Errorf("%s: group version %d -> %d, want it unchanged", step.name, before, after)
		}
	}
}

func ref(id, name string) storage.GroupRef {
	return storage.GroupRef{GroupID: id, DisplayName: name}
}

// cmpEmptyMap treats a map entry holding an empty slice as absent.
func cmpEmptyMap() cmp.Option {
	return cmp.FilterValues(func(a, b map[string][]storage.GroupRef) bool { return true },
		cmp.Transformer("dropEmpty", func(m map[string][]storage.GroupRef) map[string][]storage.GroupRef {
			out := map[string][]storage.GroupRef{}
			for k, v := range m {
				if len(v) > 0 {
					out[k] = v
				}
			}
			return out
		}))
}

func testRemoveUserFromTenant(t *testing.T, s storage.Store) {
	mustCreateSandbox(t, s, "sbkey")
	mustCreateSandbox(t, s, "otherkey")
	mustCreateUser(t, s, newUser("u1", "bjensen", base, nil))
	mustCreateUser(t, s, newUser("u2", "jsmith", base, nil))
	mustCreateGroup(t, s, newGroup("s1", "sbkey", "One", base, nil), "u1", "u2")
	mustCreateGroup(t, s, newGroup("s2", "sbkey", "Two", base, nil), "u1")
	mustCreateGroup(t, s, newGroup("s3", "sbkey", "Three", base, nil), "u2")
	mustCreateGroup(t, s, newGroup("m1", storage.MainTenant, "Main", base, nil), "u1")
	mustCreateGroup(t, s, newGroup("o1", "otherkey", "Other", base, nil), "u1")

	n, err := s.RemoveUserFromTenant(ctx(t), "sbkey", "u1")
	if err != nil {
		t.Fatalf("RemoveUserFromTenant: %v", err)
	}
	if n != 2 {
		t.Errorf("RemoveUserFromTenant removed %d memberships, want 2", n)
	}
	checks := []struct {
		tenant, group string
		members       []string
		version       int64
	}{
		{"sbkey", "s1", []string{"u2"}, 2},
		{"sbkey", "s2", nil, 2},
		{"sbkey", "s3", []string{"u2"}, 1},
		{storage.MainTenant, "m1", []string{"u1"}, 1},
		{"otherkey", "o1", []string{"u1"}, 1},
	}
	for _, c := range checks {
		if got := members(t, s, c.tenant, c.group); !slices.Equal(got, c.members) {
			t.Errorf("members of %s = %v, want %v", c.group, got, c.members)
		}
		if g := mustGetGroup(t, s, c.tenant, c.group); g.Version != c.version {
			t.Errorf("version of %s = %d, want %d", c.group, g.Version, c.version)
		}
	}
	if _, err := s.GetUser(ctx(t), "u1"); err != nil {
		t.Errorf("GetUser after RemoveUserFromTenant: %v", err)
	}
	n, err = s.RemoveUserFromTenant(ctx(t), "sbkey", "u1")
	if err != nil || n != 0 {
		t.Errorf("second RemoveUserFromTenant = %d, %v, want 0, nil", n, err)
	}
}

func testDeleteUserCascade(t *testing.T, s storage.Store) {
	mustCreateSandbox(t, s, "sbkey")
	mustCreateUser(t, s, newUser("u1", "bjensen", base, nil))
	mustCreateUser(t, s, newUser("u2", "jsmith", base, nil))
	mustCreateGroup(t, s, newGroup("m1", storage.MainTenant, "Main", base, nil), "u1", "u2")
	mustCreateGroup(t, s, newGroup("s1", "sbkey", "Sandboxed", base, nil), "u1")
	mustCreateGroup(t, s, newGroup("s2", "sbkey", "Untouched", base, nil), "u2")

	if err := s.DeleteUser(ctx(t), "u1", 0); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	checks := []struct {
		tenant, group string
		members       []string
		version       int64
	}{
		{storage.MainTenant, "m1", []string{"u2"}, 2},
		{"sbkey", "s1", nil, 2},
		{"sbkey", "s2", []string{"u2"}, 1},
	}
	for _, c := range checks {
		if got := members(t, s, c.tenant, c.group); !slices.Equal(got, c.members) {
			t.Errorf("members of %s = %v, want %v", c.group, got, c.members)
		}
		if g := mustGetGroup(t, s, c.tenant, c.group); g.Version != c.version {
			t.Errorf("version of %s = %d, want %d", c.group, g.Version, c.version)
		}
	}
	page, err := s.QueryUsers(ctx(t), "sbkey", storage.Query{Limit: 10, Count: true})
	if err != nil {
		t.Fatalf("QueryUsers: %v", err)
	}
	if got := userIDs(page.Items); !slices.Equal(got, []string{"u2"}) || page.Total != 1 {
		t.Errorf("sandbox users after DeleteUser = %v (total %d), want [u2] (1)", got, page.Total)
	}
}

func testSandboxes(t *testing.T, s storage.Store) {
	sb := &storage.Sandbox{ID: "acme-test", Key: "k1", DisplayName: "ACME test", Created: base}
	if err := s.CreateSandbox(ctx(t), sb); err != nil {
		t.Fatalf("CreateSandbox: %v", err)
	}
	err := s.CreateSandbox(ctx(t), &storage.Sandbox{ID: "acme-test", Key: "k2", Created: base})
	wantErr(t, "CreateSandbox with a taken id", err, storage.ErrAlreadyExists)
	if err := s.CreateSandbox(ctx(t), &storage.Sandbox{ID: "beta", Key: "k3", DisplayName: "Beta", Created: base}); err != nil {
		t.Fatalf("CreateSandbox: %v", err)
	}

	got, err := s.GetSandbox(ctx(t), "acme-test")
	if err != nil {
		t.Fatalf("GetSandbox: %v", err)
	}
	if diff := cmp.Diff(sb, got, timeEqual); diff != "" {
		t.Errorf("GetSandbox (-want +got):\n%s", diff)
	}
	_, err = s.GetSandbox(ctx(t), "nowhere")
	wantErr(t, "GetSandbox of an unknown id", err, storage.ErrNotFound)

	list, err := s.ListSandboxes(ctx(t))
	if err != nil {
		t.Fatalf("ListSandboxes: %v", err)
	}
	var ids []string
	for _, sb := range list {
		ids = append(ids, sb.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"acme-test", "beta"}) {
		t.Errorf("ListSandboxes ids %v, want [acme-test beta]", ids)
	}
	wantErr(t, "DeleteSandbox of an unknown id", s.DeleteSandbox(ctx(t), "nowhere"), storage.ErrNotFound)
}

func testDeleteSandboxCascade(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, newUser("u1", "bjensen", base, nil))
	for _, sb := range []*storage.Sandbox{
		{ID: "doomed", Key: "k-doomed", Created: base},
		{ID: "kept", Key: "k-kept", Created: base},
	} {
		if err := s.CreateSandbox(ctx(t), sb); err != nil {
			t.Fatalf("CreateSandbox: %v", err)
		}
	}
	mustCreateGroup(t, s, newGroup("d1", "k-doomed", "Admins", base, nil), "u1")
	mustCreateGroup(t, s, newGroup("k1", "k-kept", "Admins", base, nil), "u1")
	mustCreateGroup(t, s, newGroup("m1", storage.MainTenant, "Admins", base, nil), "u1")
	creds := []*storage.Credential{
		{ID: "c-doomed", Tenant: "k-doomed", Created: base, Hash: []byte("hash-doomed")},
		{ID: "c-kept", Tenant: "k-kept", Created: base, Hash: []byte("hash-kept")},
		{ID: "c-main", Tenant: storage.MainTenant, Created: base, Hash: []byte("hash-main")},
	}
	for _, c := range creds {
		if err := s.CreateCredential(ctx(t), c); err != nil {
			t.Fatalf("CreateCredential: %v", err)
		}
	}

	if err := s.DeleteSandbox(ctx(t), "doomed"); err != nil {
		t.Fatalf("DeleteSandbox: %v", err)
	}
	_, err := s.GetSandbox(ctx(t), "doomed")
	wantErr(t, "GetSandbox after DeleteSandbox", err, storage.ErrNotFound)
	_, err = s.GetGroup(ctx(t), "k-doomed", "d1")
	wantErr(t, "GetGroup of a deleted sandbox", err, storage.ErrNotFound)
	_, err = s.CredentialByHash(ctx(t), []byte("hash-doomed"))
	wantErr(t, "CredentialByHash of a deleted sandbox", err, storage.ErrNotFound)
	groups, err := s.UserGroups(ctx(t), "k-doomed", []string{"u1"})
	if err != nil {
		t.Fatalf("UserGroups: %v", err)
	}
	if len(groups["u1"]) != 0 {
		t.Errorf("UserGroups of a deleted sandbox = %v, want none", groups["u1"])
	}
	page, err := s.QueryUsers(ctx(t), "k-doomed", storage.Query{Limit: 10, Count: true})
	if err != nil {
		t.Fatalf("QueryUsers: %v", err)
	}
	if len(page.Items) != 0 || page.Total != 0 {
		t.Errorf("users of a deleted sandbox: %d (total %d), want 0", len(page.Items), page.Total)
	}

	// Everything else stays.
	if _, err := s.GetUser(ctx(t), "u1"); err != nil {
		t.Errorf("GetUser after DeleteSandbox: %v", err)
	}
	for _, g := range []struct{ tenant, id string }{{"k-kept", "k1"}, {storage.MainTenant, "m1"}} {
		if got := members(t, s, g.tenant, g.id); !slices.Equal(got, []string{"u1"}) {
			t.Errorf("members of %s = %v, want [u1]", g.id, got)
		}
	}
	for _, h := range []string{"hash-kept", "hash-main"} {
		if _, err := s.CredentialByHash(ctx(t), []byte(h)); err != nil {
			t.Errorf("CredentialByHash(%s) after DeleteSandbox: %v", h, err)
		}
	}
	// The id can be created again, empty, with a new key.
	if err := s.CreateSandbox(ctx(t), &storage.Sandbox{ID: "doomed", Key: "k-doomed-2", Created: base}); err != nil {
		t.Fatalf("CreateSandbox again: %v", err)
	}
	gp, err := s.QueryGroups(ctx(t), "k-doomed-2", storage.Query{Limit: 10, Count: true})
	if err != nil {
		t.Fatalf("QueryGroups: %v", err)
	}
	if gp.Total != 0 {
		t.Errorf("recreated sandbox has %d groups, want 0", gp.Total)
	}
}

// testCreateInDeletedSandbox checks that a group or credential written
// with the key of a deleted sandbox, as by a request that resolved the
// sandbox just before the delete, is rejected and leaves nothing behind.
func testCreateInDeletedSandbox(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, newUser("u1", "bjensen", base, nil))
	mustCreateSandbox(t, s, "k-gone")
	if err := s.DeleteSandbox(ctx(t), "sb-k-gone"); err != nil {
		t.Fatalf("DeleteSandbox: %v", err)
	}

	err := s.CreateGroup(ctx(t), newGroup("g1", "k-gone", "Admins", base, nil), []string{"u1"})
	wantErr(t, "CreateGroup in a deleted sandbox", err, storage.ErrTenantNotFound)
	err = s.CreateGroup(ctx(t), newGroup("g2", "k-never", "Admins", base, nil), nil)
	wantErr(t, "CreateGroup in an unknown tenant", err, storage.ErrTenantNotFound)
	gone := &storage.Credential{ID: "c-gone", Tenant: "k-gone", Created: base, Hash: []byte("hash-gone")}
	err = s.CreateCredential(ctx(t), gone)
	wantErr(t, "CreateCredential in a deleted sandbox", err, storage.ErrTenantNotFound)

	page, err := s.QueryGroups(ctx(t), "k-gone", storage.Query{Limit: 10, Count: true})
	if err != nil {
		t.Fatalf("QueryGroups: %v", err)
	}
	if len(page.Items) != 0 || page.Total != 0 {
		t.Errorf("groups of a deleted sandbox: %d (total %d), want 0", len(page.Items), page.Total)
	}
	groups, err := s.UserGroups(ctx(t), "k-gone", []string{"u1"})
	if err != nil {
		t.Fatalf("UserGroups: %v", err)
	}
	if len(groups["u1"]) != 0 {
		t.Errorf("UserGroups of a deleted sandbox = %v, want none", groups["u1"])
	}
	users, err := s.QueryUsers(ctx(t), "k-gone", storage.Query{Limit: 10, Count: true})
	if err != nil {
		t.Fatalf("QueryUsers: %v", err)
	}
	if len(users.Items) != 0 || users.Total != 0 {
		t.Errorf("users of a deleted sandbox: %d (total %d), want 0", len(users.Items), users.Total)
	}
	_, err = s.CredentialByHash(ctx(t), gone.Hash)
	wantErr(t, "CredentialByHash of a rejected credential", err, storage.ErrNotFound)
	u, err := s.GetUser(ctx(t), "u1")
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if u.Version != 1 {
		t.Errorf("user version after a rejected CreateGroup = %d, want 1", u.Version)
	}

	// The main account and the administrators have no sandbox record.
	mustCreateGroup(t, s, newGroup("m1", storage.MainTenant, "Admins", base, nil), "u1")
	creds := []*storage.Credential{
		{ID: "c-main", Tenant: storage.MainTenant, Created: base, Hash: []byte("hash-main")},
		{ID: "c-admin", Tenant: storage.AdminTenant, Created: base, Hash: []byte("hash-admin")},
	}
	for _, c := range creds {
		if err := s.CreateCredential(ctx(t), c); err != nil {
			t.Errorf("CreateCredential(%q): %v", c.ID, err)
		}
	}
}

func testCredentials(t *testing.T, s storage.Store) {
	c := &storage.Credential{ID: "c1", Tenant: storage.AdminTenant, Description: "ops", Created: base, Hash: bytes.Repeat([]byte{1}, 32)}
	if err := s.CreateCredential(ctx(t), c); err != nil {
		t.Fatalf("CreateCredential: %v", err)
	}
	c2 := &storage.Credential{ID: "c2", Tenant: storage.MainTenant, Description: "okta", Created: base, Hash: bytes.Repeat([]byte{2}, 32)}
	if err := s.CreateCredential(ctx(t), c2); err != nil {
		t.Fatalf("CreateCredential: %v", err)
	}
	err := s.CreateCredential(ctx(t), &storage.Credential{ID: "c1", Tenant: storage.MainTenant, Created: base, Hash: []byte("other")})
	wantErr(t, "CreateCredential with a taken id", err, storage.ErrAlreadyExists)
	err = s.CreateCredential(ctx(t), &storage.Credential{ID: "c3", Tenant: storage.MainTenant, Created: base, Hash: c.Hash})
	wantErr(t, "CreateCredential with a taken hash", err, storage.ErrAlreadyExists)

	got, err := s.CredentialByHash(ctx(t), c2.Hash)
	if err != nil {
		t.Fatalf("CredentialByHash: %v", err)
	}
	if diff := cmp.Diff(c2, got, timeEqual); diff != "" {
		t.Errorf("CredentialByHash (-want +got):\n%s", diff)
	}
	_, err = s.CredentialByHash(ctx(t), bytes.Repeat([]byte{3}, 32))
	wantErr(t, "CredentialByHash of an unknown hash", err, storage.ErrNotFound)

	list, err := s.ListCredentials(ctx(t))
	if err != nil {
		t.Fatalf("ListCredentials: %v", err)
	}
	slices.SortFunc(list, func(a, b *storage.Credential) int { return strings.Compare(a.ID, b.ID) })
	if diff := cmp.Diff([]*storage.Credential{c, c2}, list, timeEqual); diff != "" {
		t.Errorf("ListCredentials (-want +got):\n%s", diff)
	}

	if err := s.DeleteCredential(ctx(t), "c1"); err != nil {
		t.Fatalf("DeleteCredential: %v", err)
	}
	_, err = s.CredentialByHash(ctx(t), c.Hash)
	wantErr(t, "CredentialByHash after DeleteCredential", err, storage.ErrNotFound)
	wantErr(t, "DeleteCredential twice", s.DeleteCredential(ctx(t), "c1"), storage.ErrNotFound)
}

func testPing(t *testing.T, s storage.Store) {
	if err := s.Ping(ctx(t)); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func userIDs(users []*storage.User) []string {
	ids := []string{}
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	return ids
}

func groupIDs(groups []*storage.Group) []string {
	ids := []string{}
	for _, g := range groups {
		ids = append(ids, g.ID)
	}
	return ids
}
