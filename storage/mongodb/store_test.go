package mongodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/storage"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// backendTests are this backend's own tests, beside the conformance
// suite: they pin down the MongoDB-specific translation of filters,
// sorting and cascades. ferret skips what FerretDB cannot run.
func backendTests(t *testing.T, open func(*testing.T) storage.Store, ferret bool) {
	t.Run("user uniqueness", func(t *testing.T) { testUserUniqueness(t, open(t), ferret) })
	t.Run("filters", func(t *testing.T) { testFilters(t, open(t), ferret) })
	t.Run("sort missing last", func(t *testing.T) { testSortMissing(t, open(t)) })
	t.Run("memberships", func(t *testing.T) { testMemberships(t, open(t)) })
	t.Run("sandbox cascade", func(t *testing.T) { testSandboxCascade(t, open(t)) })
	t.Run("sandbox recheck", func(t *testing.T) { testSandboxRecheck(t, open(t).(*Store)) })
	t.Run("tenant listing", func(t *testing.T) { testTenantListing(t, open(t).(*Store)) })
	t.Run("group members by filter", func(t *testing.T) { testGroupMembersFilter(t, open(t)) })
	t.Run("tenant listing repair", func(t *testing.T) { testTenantListingRepair(t, open(t).(*Store)) })
	t.Run("user versions", func(t *testing.T) { testUserVersions(t, open(t)) })
	t.Run("user versions in batches", func(t *testing.T) {
		if ferret {
			t.Skip(ferretScans)
		}
		testUserVersionBatches(t, open(t).(*Store))
	})
}

func mustCreateUser(t *testing.T, s storage.Store, id string, attrs map[string]any) {
	t.Helper()
	u := &storage.User{ID: id, Attributes: attrs, Created: t0, LastModified: t0}
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("create user %s: %v", id, err)
	}
}

func testUserUniqueness(t *testing.T, s storage.Store, ferret bool) {
	ctx := context.Background()
	mustCreateUser(t, s, "u1", map[string]any{"userName": "BJensen", "active": true, "x": int64(3), "f": 1.5})
	err := s.CreateUser(ctx, &storage.User{ID: "u2", Attributes: map[string]any{"userName": "bjensen"}})
	if !errors.Is(err, storage.ErrAlreadyExists) {
		t.Errorf("create user with userName differing in case: got %v, want ErrAlreadyExists", err)
	}
	got, err := s.GetUser(ctx, "u1")
	if err != nil {
		t.Fatalf("get user: %v", err)
	}
	want := &storage.User{ID: "u1", Version: 1, Created: t0, LastModified: t0,
		Attributes: map[string]any{"userName": "BJensen", "active": true, "x": int64(3), "f": 1.5}}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("user read back (-got +want):\n%s", diff)
	}
	if _, err := s.GetUser(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("get unknown user: got %v, want ErrNotFound", err)
	}
	if ferret {
		t.Skip(ferretUniqueUpdate)
	}
	mustCreateUser(t, s, "u3", map[string]any{"userName": "other"})
	_, err = s.UpdateUser(ctx, "u3", t0, func(u *storage.User) error {
		u.Attributes["userName"] = "BJENSEN"
		return nil
	})
	if !errors.Is(err, storage.ErrAlreadyExists) {
		t.Errorf("rename to a taken userName: got %v, want ErrAlreadyExists", err)
	}
}

func testFilters(t *testing.T, s storage.Store, ferret bool) {
	ctx := context.Background()
	mustCreateUser(t, s, "a", map[string]any{
		"userName": "Alice", "displayName": "Alice A.", "active": true, "externalId": "EXT-1",
		"name":                    map[string]any{"familyName": "Smith", "givenName": "Alice"},
		"emails":                  []any{map[string]any{"type": "work", "value": "alice@Example.com"}, map[string]any{"type": "home", "value": "a@home.org"}},
		"title":                   "a.b*c",
		schemas.EnterpriseUserURN: map[string]any{"employeeNumber": "701"},
	})
	mustCreateUser(t, s, "b", map[string]any{
		"userName": "bob", "active": false, "externalId": "ext-1",
		"emails": []any{map[string]any{"type": "home", "value": "bob@example.com"}},
	})
	mustCreateUser(t, s, "c", map[string]any{"userName": "carol", "nickName": "2026-01-02T00:00:00Z"})
	g := &storage.Group{ID: "g1", Tenant: storage.MainTenant, Attributes: map[string]any{"displayName": "Admins"}}
	if err := s.CreateGroup(ctx, g, []string{"a", "c"}); err != nil {
		t.Fatalf("create group: %v", err)
	}

	tests := []struct {
		filter    string
		want      []string
		elemMatch bool
	}{
		{`userName eq "ALICE"`, []string{"a"}, false},
		{`userName ne "alice"`, []string{"b", "c"}, false},
		{`externalId eq "ext-1"`, []string{"b"}, false},
		{`title co "b*c"`, []string{"a"}, false},
		{`title co ".*"`, nil, false},
		{`userName sw "A"`, []string{"a"}, false},
		{`userName ew "OL"`, []string{"c"}, false},
		{`userName gt "b"`, []string{"b", "c"}, false},
		{`active eq false`, []string{"b"}, false},
		{`not (active eq true)`, []string{"b", "c"}, false},
		{`displayName pr`, []string{"a"}, false},
		{`not (displayName pr)`, []string{"b", "c"}, false},
		{`emails.value co "example.COM"`, []string{"a", "b"}, false},
		{`emails co "@home"`, []string{"a"}, false},
		{`name.familyName eq "smith" or userName eq "bob"`, []string{"a", "b"}, false},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701"`, []string{"a"}, false},
		{`meta.created ge "2026-03-01T12:00:00Z" and meta.created lt "2026-03-01T13:00:00+01:00"`, nil, false},
		{`meta.created ge "2026-03-01T12:00:00Z" and meta.created lt "2026-03-01T14:00:00+01:00"`, []string{"a", "b", "c"}, false},
		{`groups.value eq "g1"`, []string{"a", "c"}, false},
		{`groups.display eq "admins"`, []string{"a", "c"}, false},
		{`groups.value ne "g1"`, []string{"b"}, false},
		{`groups pr`, []string{"a", "c"}, false},
		{`id eq "b"`, []string{"b"}, false},
		{`emails[type eq "work" and value co "example.com"]`, []string{"a"}, true},
		{`emails[type eq "home" and value co "example.com"]`, []string{"b"}, true},
		{`emails[not (type eq "home")]`, []string{"a"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			if ferret && tc.elemMatch {
				t.Skip(ferretElemMatch)
			}
			f, err := schemas.User.ParseFilter(tc.filter)
			if err != nil {
				t.Fatalf("parse filter: %v", err)
			}
			page, err := s.QueryUsers(ctx, storage.MainTenant, storage.Query{Filter: f, Limit: 10, Count: true})
			if err != nil {
				t.Fatalf("query users: %v", err)
			}
			var got []string
			for _, u := range page.Items {
				got = append(got, u.ID)
			}
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("ids (-got +want):\n%s", diff)
			}
			if page.Total != len(tc.want) {
				t.Errorf("total: got %d, want %d", page.Total, len(tc.want))
			}
		})
	}
}

func testSortMissing(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustCreateUser(t, s, "1", map[string]any{"userName": "u1", "displayName": "b"})
	mustCreateUser(t, s, "2", map[string]any{"userName": "u2"})
	mustCreateUser(t, s, "3", map[string]any{"userName": "u3", "displayName": "A"})
	mustCreateUser(t, s, "4", map[string]any{"userName": "u4"})
	path, err := schemas.User.Lookup("displayName")
	if err != nil {
		t.Fatalf("lookup displayName: %v", err)
	}
	tests := []struct {
		name          string
		desc          bool
		offset, limit int
		want          []string
		more          bool
	}{
		{"ascending", false, 0, 10, []string{"3", "1", "2", "4"}, false},
		{"descending", true, 0, 10, []string{"4", "2", "1", "3"}, false},
		{"page across parts", false, 1, 2, []string{"1", "2"}, true},
		{"offset past sorted part", false, 3, 2, []string{"4"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.QueryUsers(ctx, storage.MainTenant, storage.Query{
				SortBy: &path, Descending: tc.desc, Offset: tc.offset, Limit: tc.limit,
			})
			if err != nil {
				t.Fatalf("query users: %v", err)
			}
			var got []string
			for _, u := range page.Items {
				got = append(got, u.ID)
			}
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("order (-got +want):\n%s", diff)
			}
			if page.More != tc.more {
				t.Errorf("more: got %v, want %v", page.More, tc.more)
			}
		})
	}
}

func testMemberships(t *testing.T, s storage.Store) {
	ctx := context.Background()
	for _, id := range []string{"u1", "u2", "u3"} {
		mustCreateUser(t, s, id, map[string]any{"userName": "name-" + id})
	}
	mustCreateSandbox(t, s, "sb")
	g := &storage.Group{ID: "g", Tenant: "sb", Attributes: map[string]any{"displayName": "G"}}
	err := s.CreateGroup(ctx, g, []string{"u1", "missing"})
	var missing *storage.MemberNotFoundError
	if !errors.As(err, &missing) || missing.UserID != "missing" {
		t.Fatalf("create group with unknown member: got %v, want MemberNotFoundError for missing", err)
	}
	if _, err := s.GetGroup(ctx, "sb", "g"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("group after failed create: got %v, want ErrNotFound", err)
	}
	if err := s.CreateGroup(ctx, g, []string{"u1", "u2"}); err != nil {
		t.Fatalf("create group: %v", err)
	}
	updated, err := s.UpdateGroup(ctx, "sb", "g", t0, func(g *storage.Group) (*storage.MemberChange, error) {
		return &storage.MemberChange{Add: []string{"u3"}, Remove: []string{"u1"}}, nil
	})
	if err != nil {
		t.Fatalf("update group: %v", err)
	}
	if updated.Version != 2 {
		t.Errorf("version after update: got %d, want 2", updated.Version)
	}
	first, err := s.ListMembers(ctx, "sb", "g", "", 1)
	if err != nil {
		t.Fatalf("list members: %v", err)
	}
	rest, err := s.ListMembers(ctx, "sb", "g", first[0].UserID, 10)
	if err != nil {
		t.Fatalf("list members after %s: %v", first[0].UserID, err)
	}
	want := []storage.Member{{UserID: "u2", Display: "name-u2"}, {UserID: "u3", Display: "name-u3"}}
	if diff := cmp.Diff(slices.Concat(first, rest), want); diff != "" {
		t.Errorf("members (-got +want):\n%s", diff)
	}
	page, err := s.QueryUsers(ctx, "sb", storage.Query{Limit: 10})
	if err != nil {
		t.Fatalf("query sandbox users: %v", err)
	}
	if len(page.Items) != 2 {
		t.Errorf("sandbox users: got %d, want 2", len(page.Items))
	}
	n, err := s.RemoveUserFromTenant(ctx, "sb", "u2")
	if err != nil || n != 1 {
		t.Errorf("remove user from tenant: got %d, %v, want 1, nil", n, err)
	}
	if err := s.DeleteUser(ctx, "u3", 0); err != nil {
		t.Fatalf("delete user: %v", err)
	}
	if ok, err := s.IsMember(ctx, "sb", "g", "u3"); err != nil || ok {
		t.Errorf("deleted user is member: got %v, %v, want false, nil", ok, err)
	}
	got, err := s.GetGroup(ctx, "sb", "g")
	if err != nil {
		t.Fatalf("get group: %v", err)
	}
	if got.Version != 4 {
		t.Errorf("group version after two member removals: got %d, want 4", got.Version)
	}
}

func testSandboxCascade(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustCreateUser(t, s, "u", map[string]any{"userName": "u"})
	sb := &storage.Sandbox{ID: "acme", Key: "k1", DisplayName: "ACME", Created: t0}
	if err := s.CreateSandbox(ctx, sb); err != nil {
		t.Fatalf("create sandbox: %v", err)
	}
	if err := s.CreateSandbox(ctx, sb); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Errorf("create sandbox twice: got %v, want ErrAlreadyExists", err)
	}
	g := &storage.Group{ID: "g", Tenant: "k1", Attributes: map[string]any{"displayName": "G"}}
	if err := s.CreateGroup(ctx, g, []string{"u"}); err != nil {
		t.Fatalf("create group: %v", err)
	}
	c := &storage.Credential{ID: "c", Tenant: "k1", Created: t0, Hash: []byte{1, 2, 3}}
	if err := s.CreateCredential(ctx, c); err != nil {
		t.Fatalf("create credential: %v", err)
	}
	if err := s.DeleteSandbox(ctx, "acme"); err != nil {
		t.Fatalf("delete sandbox: %v", err)
	}
	if _, err := s.CredentialByHash(ctx, []byte{1, 2, 3}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("credential after sandbox delete: got %v, want ErrNotFound", err)
	}
	if _, err := s.GetGroup(ctx, "k1", "g"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("group after sandbox delete: got %v, want ErrNotFound", err)
	}
	refs, err := s.UserGroups(ctx, "k1", []string{"u"})
	if err != nil || len(refs["u"]) != 0 {
		t.Errorf("user groups after sandbox delete: got %v, %v, want none", refs, err)
	}
	if _, err := s.GetUser(ctx, "u"); err != nil {
		t.Errorf("user after sandbox delete: %v", err)
	}
}

// testSandboxRecheck plays a DeleteSandbox whose cascade ran before a
// group and a credential were written without a transaction. The test
// deletes only the sandbox record, and recheckSandbox must then report
// the sandbox gone and delete everything written under its key.
func testSandboxRecheck(t *testing.T, s *Store) {
	ctx := context.Background()
	mustCreateUser(t, s, "u", map[string]any{"userName": "u"})
	mustCreateSandbox(t, s, "k")
	mustCreateGroup(t, s, "k", "g", "u")
	c := &storage.Credential{ID: "c", Tenant: "k", Created: t0, Hash: []byte{4, 5, 6}}
	if err := s.CreateCredential(ctx, c); err != nil {
		t.Fatalf("create credential: %v", err)
	}
	if err := s.recheckSandbox(ctx, "k"); err != nil {
		t.Fatalf("recheck of a live sandbox: %v", err)
	}
	if got := tenantUserIDs(t, s, "k"); !slices.Equal(got, []string{"u"}) {
		t.Fatalf("users of the live sandbox: got %v, want [u]", got)
	}

	if _, err := s.sandboxes.DeleteOne(ctx, bson.D{{Key: "_id", Value: "sb-k"}}); err != nil {
		t.Fatalf("delete sandbox record: %v", err)
	}
	before, err := s.GetUser(ctx, "u")
	if err != nil {
		t.Fatalf("get user: %v", err)
	}
	if err := s.recheckSandbox(ctx, "k"); !errors.Is(err, storage.ErrTenantNotFound) {
		t.Fatalf("recheck of a deleted sandbox: got %v, want ErrTenantNotFound", err)
	}

	if _, err := s.GetGroup(ctx, "k", "g"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("group after recheck: got %v, want ErrNotFound", err)
	}
	if _, err := s.CredentialByHash(ctx, c.Hash); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("credential after recheck: got %v, want ErrNotFound", err)
	}
	n, err := s.memberships.CountDocuments(ctx, bson.D{{Key: "tenant", Value: "k"}})
	if err != nil {
		t.Fatalf("count memberships: %v", err)
	}
	if n != 0 {
		t.Errorf("memberships after recheck: got %d, want 0", n)
	}
	if got := counters(t, s, "k"); len(got) != 0 {
		t.Errorf("counters after recheck: got %v, want none", got)
	}
	if got := tenantUserIDs(t, s, "k"); len(got) != 0 {
		t.Errorf("users after recheck: got %v, want none", got)
	}
	after, err := s.GetUser(ctx, "u")
	if err != nil {
		t.Fatalf("get user after recheck: %v", err)
	}
	if after.Version <= before.Version {
		t.Errorf("user version after recheck: got %d, want more than %d", after.Version, before.Version)
	}
}

// tenantUserIDs lists the ids of the tenant's users, one per page to
// follow the cursor, and checks that the sorted listing has the same
// users.
func tenantUserIDs(t *testing.T, s storage.Store, tenant string) []string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	after := ""
	for {
		page, err := s.QueryUsers(ctx, tenant, storage.Query{After: after, Limit: 1, Count: true})
		if err != nil {
			t.Fatalf("query users of %s after %q: %v", tenant, after, err)
		}
		if page.Total < len(ids)+len(page.Items) {
			t.Errorf("users of %s: total %d, but %d listed", tenant, page.Total, len(ids)+len(page.Items))
		}
		for _, u := range page.Items {
			ids = append(ids, u.ID)
		}
		if !page.More {
			break
		}
		after = ids[len(ids)-1]
	}

	path, err := schemas.User.Lookup("userName")
	if err != nil {
		t.Fatalf("lookup userName: %v", err)
	}
	sorted, err := s.QueryUsers(ctx, tenant, storage.Query{SortBy: &path, Limit: 100})
	if err != nil {
		t.Fatalf("query users of %s by userName: %v", tenant, err)
	}
	var byName []string
	for _, u := range sorted.Items {
		byName = append(byName, u.ID)
	}
	if diff := cmp.Diff(byName, ids); diff != "" {
		t.Errorf("users of %s by userName (-got +want):\n%s", tenant, diff)
	}
	return ids
}

// counters returns the membership counters of the tenant by user.
func counters(t *testing.T, s *Store, tenant string) map[string]int {
	t.Helper()
	ctx := context.Background()
	cur, err := s.tenantUsers.Find(ctx, bson.D{{Key: "tenant", Value: tenant}})
	if err != nil {
		t.Fatalf("find counters: %v", err)
	}
	var docs []struct {
		UserID string `bson:"userId"`
		N      int    `bson:"n"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatalf("read counters: %v", err)
	}
	out := map[string]int{}
	for _, d := range docs {
		out[d.UserID] = d.N
	}
	return out
}

func setMembers(t *testing.T, s storage.Store, tenant, group string, change storage.MemberChange) {
	t.Helper()
	_, err := s.UpdateGroup(context.Background(), tenant, group, t0, func(*storage.Group) (*storage.MemberChange, error) {
		return &change, nil
	})
	if err != nil {
		t.Fatalf("update members of %s: %v", group, err)
	}
}

// mustCreateSandbox creates a sandbox with the key, so that groups can be
// created under it; its id is "sb-" and the key.
func mustCreateSandbox(t *testing.T, s storage.Store, key string) {
	t.Helper()
	sb := &storage.Sandbox{ID: "sb-" + key, Key: key, Created: t0}
	if err := s.CreateSandbox(context.Background(), sb); err != nil {
		t.Fatalf("create sandbox %s: %v", sb.ID, err)
	}
}

func mustCreateGroup(t *testing.T, s storage.Store, tenant, id string, members ...string) {
	t.Helper()
	g := &storage.Group{ID: id, Tenant: tenant, Attributes: map[string]any{"displayName": id}}
	if err := s.CreateGroup(context.Background(), g, members); err != nil {
		t.Fatalf("create group %s: %v", id, err)
	}
}

func testTenantListing(t *testing.T, s *Store) {
	ctx := context.Background()
	for _, id := range []string{"u1", "u2", "u3", "u4"} {
		mustCreateUser(t, s, id, map[string]any{"userName": "name-" + id})
	}
	if err := s.CreateSandbox(ctx, &storage.Sandbox{ID: "acme", Key: "k", Created: t0}); err != nil {
		t.Fatalf("create sandbox: %v", err)
	}
	mustCreateGroup(t, s, "k", "g1", "u1", "u2")
	mustCreateGroup(t, s, "k", "g2", "u1")
	mustCreateGroup(t, s, storage.MainTenant, "main", "u3")

	steps := []struct {
		name     string
		change   func(t *testing.T)
		users    []string
		counters map[string]int
	}{
		{"created", func(*testing.T) {}, []string{"u1", "u2"}, map[string]int{"u1": 2, "u2": 1}},
		{"added again", func(t *testing.T) {
			setMembers(t, s, "k", "g2", storage.MemberChange{Add: []string{"u1", "u3"}})
		}, []string{"u1", "u2", "u3"}, map[string]int{"u1": 2, "u2": 1, "u3": 1}},
		{"removed from one of two groups", func(t *testing.T) {
			setMembers(t, s, "k", "g1", storage.MemberChange{Remove: []string{"u1"}})
		}, []string{"u1", "u2", "u3"}, map[string]int{"u1": 1, "u2": 1, "u3": 1}},
		{"removed from the other group by replace", func(t *testing.T) {
			setMembers(t, s, "k", "g2", storage.MemberChange{Replace: true, Set: []string{"u3", "u4"}})
		}, []string{"u2", "u3", "u4"}, map[string]int{"u2": 1, "u3": 1, "u4": 1}},
		{"group deleted", func(t *testing.T) {
			if err := s.DeleteGroup(ctx, "k", "g1", 0); err != nil {
				t.Fatalf("delete group: %v", err)
			}
		}, []string{"u3", "u4"}, map[string]int{"u3": 1, "u4": 1}},
		{"removed from tenant", func(t *testing.T) {
			if _, err := s.RemoveUserFromTenant(ctx, "k", "u4"); err != nil {
				t.Fatalf("remove user from tenant: %v", err)
			}
		}, []string{"u3"}, map[string]int{"u3": 1}},
		{"sandbox deleted", func(t *testing.T) {
			if err := s.DeleteSandbox(ctx, "acme"); err != nil {
				t.Fatalf("delete sandbox: %v", err)
			}
		}, nil, map[string]int{}},
	}
	for _, step := range steps {
		step.change(t)
		if diff := cmp.Diff(tenantUserIDs(t, s, "k"), step.users); diff != "" {
			t.Errorf("%s: sandbox users (-got +want):\n%s", step.name, diff)
		}
		if diff := cmp.Diff(counters(t, s, "k"), step.counters); diff != "" {
			t.Errorf("%s: counters (-got +want):\n%s", step.name, diff)
		}
	}

	// The main account lists everyone; `groups pr` is its members.
	if diff := cmp.Diff(tenantUserIDs(t, s, storage.MainTenant), []string{"u1", "u2", "u3", "u4"}); diff != "" {
		t.Errorf("main users (-got +want):\n%s", diff)
	}
	f, err := schemas.User.ParseFilter("groups pr")
	if err != nil {
		t.Fatalf("parse filter: %v", err)
	}
	page, err := s.QueryUsers(ctx, storage.MainTenant, storage.Query{Filter: f, Limit: 10})
	if err != nil {
		t.Fatalf("query users with groups: %v", err)
	}
	if len(page.Items) != 1 || page.Items[0].ID != "u3" {
		t.Errorf("users with groups: got %v, want u3 only", page.Items)
	}

	if err := s.DeleteUser(ctx, "u3", 0); err != nil {
		t.Fatalf("delete user: %v", err)
	}
	if diff := cmp.Diff(counters(t, s, storage.MainTenant), map[string]int{}); diff != "" {
		t.Errorf("main counters after user delete (-got +want):\n%s", diff)
	}
}

// testTenantListingRepair checks the recount of a counter that a failure
// left too low: the user stays listed while it has a group.
func testTenantListingRepair(t *testing.T, s *Store) {
	ctx := context.Background()
	mustCreateUser(t, s, "u", map[string]any{"userName": "u"})
	mustCreateSandbox(t, s, "k")
	mustCreateGroup(t, s, "k", "g1", "u")
	mustCreateGroup(t, s, "k", "g2", "u")
	_, err := s.tenantUsers.UpdateOne(ctx, tenantUser{"k", "u"}.filter(),
		bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: 0}}}})
	if err != nil {
		t.Fatalf("lower counter: %v", err)
	}

	setMembers(t, s, "k", "g1", storage.MemberChange{Remove: []string{"u"}})
	if diff := cmp.Diff(tenantUserIDs(t, s, "k"), []string{"u"}); diff != "" {
		t.Errorf("users after removal from g1 (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(counters(t, s, "k"), map[string]int{"u": 1}); diff != "" {
		t.Errorf("counters after recount (-got +want):\n%s", diff)
	}

	setMembers(t, s, "k", "g2", storage.MemberChange{Remove: []string{"u"}})
	if got := tenantUserIDs(t, s, "k"); len(got) != 0 {
		t.Errorf("users after removal from g2: got %v, want none", got)
	}
}

// testGroupMembersFilter pages through `groups.value eq` queries, which
// read the group's memberships page by page.
func testGroupMembersFilter(t *testing.T, s storage.Store) {
	ctx := context.Background()
	for _, id := range []string{"u1", "u2", "u3", "u4"} {
		mustCreateUser(t, s, id, map[string]any{"userName": "name-" + id})
	}
	mustCreateSandbox(t, s, "k")
	mustCreateSandbox(t, s, "other")
	mustCreateGroup(t, s, "k", "g", "u4", "u1", "u3")
	mustCreateGroup(t, s, "other", "h", "u2")
	if err := s.DeleteUser(ctx, "u3", 0); err != nil {
		t.Fatalf("delete user: %v", err)
	}

	tests := []struct {
		name   string
		tenant string
		group  string
		query  storage.Query
		want   []string
		total  int
		more   bool
	}{
		{"all", "k", "g", storage.Query{Limit: 10, Count: true}, []string{"u1", "u4"}, 2, false},
		{"first page", "k", "g", storage.Query{Limit: 1, Count: true}, []string{"u1"}, 2, true},
		{"after cursor", "k", "g", storage.Query{After: "u1", Limit: 1}, []string{"u4"}, 0, false},
		{"offset", "k", "g", storage.Query{Offset: 1, Limit: 5}, []string{"u4"}, 0, false},
		{"count only", "k", "g", storage.Query{Count: true}, nil, 2, true},
		{"group of another tenant", "k", "h", storage.Query{Limit: 10, Count: true}, nil, 0, false},
		{"unknown group", "k", "nope", storage.Query{Limit: 10, Count: true}, nil, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := schemas.User.ParseFilter(`groups.value eq "` + tc.group + `"`)
			if err != nil {
				t.Fatalf("parse filter: %v", err)
			}
			q := tc.query
			q.Filter = f
			page, err := s.QueryUsers(ctx, tc.tenant, q)
			if err != nil {
				t.Fatalf("query users: %v", err)
			}
			var got []string
			for _, u := range page.Items {
				got = append(got, u.ID)
			}
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("ids (-got +want):\n%s", diff)
			}
			if page.Total != tc.total {
				t.Errorf("total: got %d, want %d", page.Total, tc.total)
			}
			if page.More != tc.more {
				t.Errorf("more: got %v, want %v", page.More, tc.more)
			}
		})
	}
}

// testUserVersions checks that exactly the users whose memberships a
// change adds or removes get a new version, each by one.
func testUserVersions(t *testing.T, s storage.Store) {
	ctx := context.Background()
	ids := []string{"u1", "u2", "u3", "u4"}
	for _, id := range ids {
		mustCreateUser(t, s, id, map[string]any{"userName": "name-" + id})
	}
	if err := s.CreateSandbox(ctx, &storage.Sandbox{ID: "acme", Key: "k", Created: t0}); err != nil {
		t.Fatalf("create sandbox: %v", err)
	}

	steps := []struct {
		name   string
		change func(t *testing.T)
		want   map[string]int64
	}{
		{"create group with two members", func(t *testing.T) {
			mustCreateGroup(t, s, "k", "g1", "u1", "u2")
		}, map[string]int64{"u1": 2, "u2": 2, "u3": 1, "u4": 1}},
		{"add a member and an existing one", func(t *testing.T) {
			setMembers(t, s, "k", "g1", storage.MemberChange{Add: []string{"u2", "u3"}})
		}, map[string]int64{"u1": 2, "u2": 2, "u3": 2, "u4": 1}},
		{"replace keeping one member", func(t *testing.T) {
			setMembers(t, s, "k", "g1", storage.MemberChange{Replace: true, Set: []string{"u2", "u4"}})
		}, map[string]int64{"u1": 3, "u2": 2, "u3": 3, "u4": 2}},
		{"add to a main group", func(t *testing.T) {
			mustCreateGroup(t, s, storage.MainTenant, "m", "u1")
		}, map[string]int64{"u1": 4, "u2": 2, "u3": 3, "u4": 2}},
		{"delete the sandbox", func(t *testing.T) {
			if err := s.DeleteSandbox(ctx, "acme"); err != nil {
				t.Fatalf("delete sandbox: %v", err)
			}
		}, map[string]int64{"u1": 4, "u2": 3, "u3": 3, "u4": 3}},
		{"delete the main group", func(t *testing.T) {
			if err := s.DeleteGroup(ctx, storage.MainTenant, "m", 0); err != nil {
				t.Fatalf("delete group: %v", err)
			}
		}, map[string]int64{"u1": 5, "u2": 3, "u3": 3, "u4": 3}},
	}
	for _, step := range steps {
		step.change(t)
		got := map[string]int64{}
		for _, id := range ids {
			u, err := s.GetUser(ctx, id)
			if err != nil {
				t.Fatalf("%s: get user %s: %v", step.name, id, err)
			}
			got[id] = u.Version
		}
		if diff := cmp.Diff(got, step.want); diff != "" {
			t.Errorf("%s: versions (-got +want):\n%s", step.name, diff)
		}
	}
}

// ferretScans is why FerretDB runs the batch tests with small batches:
// it reads a whole collection for every write of a bulk write, so
// removing 1,000 memberships takes minutes.
const ferretScans = "FerretDB v1.24.2 scans a collection per write; see the run with small batches"

// testUserVersionBatches checks the versions of a group's members when
// they span three batches (s.batch).
func testUserVersionBatches(t *testing.T, s *Store) {
	ctx := context.Background()
	ids := make([]string, 2*s.batch+1)
	docs := make([]any, len(ids))
	for i := range ids {
		ids[i] = fmt.Sprintf("u%05d", i)
		docs[i] = userDoc(&storage.User{ID: ids[i], Version: 1, Created: t0, LastModified: t0,
			Attributes: map[string]any{"userName": ids[i]}})
	}
	if _, err := s.users.InsertMany(ctx, docs); err != nil {
		t.Fatalf("insert users: %v", err)
	}

	mustCreateSandbox(t, s, "k")
	mustCreateGroup(t, s, "k", "g", ids...)
	checkUserVersions(t, s, "create group", len(ids), 2)
	if err := s.DeleteGroup(ctx, "k", "g", 0); err != nil {
		t.Fatalf("delete group: %v", err)
	}
	checkUserVersions(t, s, "delete group", len(ids), 3)
}

// checkUserVersions checks that the store has n users, all at version
// want.
func checkUserVersions(t *testing.T, s *Store, step string, n int, want int64) {
	t.Helper()
	ctx := context.Background()
	cur, err := s.users.Find(ctx, bson.D{}, options.Find().
		SetSort(bson.D{{Key: "_id", Value: 1}}).
		SetProjection(bson.D{{Key: "version", Value: 1}}))
	if err != nil {
		t.Fatalf("%s: find users: %v", step, err)
	}
	var docs []struct {
		ID      string `bson:"_id"`
		Version int64  `bson:"version"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatalf("%s: read users: %v", step, err)
	}
	if len(docs) != n {
		t.Errorf("%s: got %d users, want %d", step, len(docs), n)
	}
	for _, d := range docs {
		if d.Version != want {
			t.Errorf("%s: version of %s: got %d, want %d", step, d.ID, d.Version, want)
		}
	}
}
