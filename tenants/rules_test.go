package tenants

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/storage"
)

// A user exists once, with one id, wherever it appears.
func TestUserIsGlobal(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	sb1 := mustCreateSandbox(t, s, "one")
	sb2 := mustCreateSandbox(t, s, "two")
	u := mustCreateUser(t, s, "jdoe")
	mustCreateGroup(t, s, sb1, "staff", u.ID)
	mustCreateGroup(t, s, sb2, "staff", u.ID)

	for _, tenant := range []*Tenant{Main, sb1, sb2} {
		got, err := s.GetUser(ctx, tenant, u.ID)
		if err != nil {
			t.Fatalf("GetUser(%s): %v", tenant.ID, err)
		}
		if diff := cmp.Diff(u.Attributes, got.Attributes); diff != "" {
			t.Errorf("GetUser(%s) attributes differ (-created +got):\n%s", tenant.ID, diff)
		}
	}
	if got, want := visibleUserNames(t, s, Main), []string{"jdoe"}; !cmp.Equal(got, want) {
		t.Errorf("main lists %v, want %v", got, want)
	}
}

// Users are created only in the main account.
func TestUserCreatedOnlyInMain(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	sb := mustCreateSandbox(t, s, "acme")
	existing := mustCreateUser(t, s, "existing")
	mustCreateGroup(t, s, sb, "staff", existing.ID)

	_, err := s.CreateUser(ctx, sb, userBody("newcomer"))
	wantError(t, err, ErrForbidden, "", "main account", "group")

	_, err = s.ReplaceUser(ctx, sb, existing.ID, userBody("renamed"), AnyVersion)
	wantError(t, err, ErrForbidden, "", "main account")

	ops := []schemas.PatchOp{{Op: "replace", Path: "userName", Value: "renamed"}}
	_, err = s.PatchUser(ctx, sb, existing.ID, ops, AnyVersion)
	wantError(t, err, ErrForbidden, "", "main account")

	if got, want := visibleUserNames(t, s, Main), []string{"existing"}; !cmp.Equal(got, want) {
		t.Errorf("after rejected sandbox writes main lists %v, want %v", got, want)
	}
	if _, err := s.CreateUser(ctx, Main, userBody("newcomer")); err != nil {
		t.Errorf("CreateUser on main: %v", err)
	}
}

// A user belongs to a sandbox exactly while it is a member of one
// Of the sandbox's groups.
func TestSandboxMembershipDefinesVisibility(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	sb := mustCreateSandbox(t, s, "acme")
	u := mustCreateUser(t, s, "jdoe")
	g := mustCreateGroup(t, s, sb, "staff")

	_, err := s.GetUser(ctx, sb, u.ID)
	wantError(t, err, storage.ErrNotFound, "", u.ID)
	_, unknownErr := s.GetUser(ctx, sb, "no-such-id")
	wantError(t, unknownErr, storage.ErrNotFound, "")
	if got, want := strings.ReplaceAll(err.Error(), u.ID, "ID"), strings.ReplaceAll(unknownErr.Error(), "no-such-id", "ID"); got != want {
		t.Errorf("non-member answers %q, unknown id answers %q; want the same text", got, want)
	}
	if got := visibleUserNames(t, s, sb); len(got) != 0 {
		t.Errorf("before the invitation the sandbox lists %v, want none", got)
	}

	add := []schemas.PatchOp{{Op: "add", Path: "members", Value: []any{map[string]any{"value": u.ID}}}}
	if _, err := s.PatchGroup(ctx, sb, g.ID, add, AnyVersion); err != nil {
		t.Fatalf("PatchGroup add member: %v", err)
	}
	if _, err := s.GetUser(ctx, sb, u.ID); err != nil {
		t.Errorf("GetUser of a member: %v", err)
	}
	if got, want := visibleUserNames(t, s, sb), []string{"jdoe"}; !cmp.Equal(got, want) {
		t.Errorf("after the invitation the sandbox lists %v, want %v", got, want)
	}

	remove := []schemas.PatchOp{{Op: "remove", Path: `members[value eq "` + u.ID + `"]`}}
	if _, err := s.PatchGroup(ctx, sb, g.ID, remove, AnyVersion); err != nil {
		t.Fatalf("PatchGroup remove member: %v", err)
	}
	_, err = s.GetUser(ctx, sb, u.ID)
	wantError(t, err, storage.ErrNotFound, "")
	if got := visibleUserNames(t, s, sb); len(got) != 0 {
		t.Errorf("after removal the sandbox lists %v, want none", got)
	}
}

// A change in the main account is visible at once in every
// Sandbox, by id and through filters.
func TestUserChangeVisibleInEverySandbox(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	sb1 := mustCreateSandbox(t, s, "one")
	sb2 := mustCreateSandbox(t, s, "two")
	u := mustCreateUser(t, s, "jdoe")
	mustCreateGroup(t, s, sb1, "staff", u.ID)
	mustCreateGroup(t, s, sb2, "staff", u.ID)

	ops := []schemas.PatchOp{{Op: "replace", Path: "displayName", Value: "Jane Doe"}}
	if _, err := s.PatchUser(ctx, Main, u.ID, ops, AnyVersion); err != nil {
		t.Fatalf("PatchUser: %v", err)
	}

	filter, err := equalsFilter(userResource(), "displayName", "Jane Doe")
	if err != nil {
		t.Fatalf("equalsFilter: %v", err)
	}
	for _, tenant := range []*Tenant{sb1, sb2} {
		got, err := s.GetUser(ctx, tenant, u.ID)
		if err != nil {
			t.Fatalf("GetUser(%s): %v", tenant.ID, err)
		}
		if got.Attributes["displayName"] != "Jane Doe" {
			t.Errorf("GetUser(%s) displayName = %v, want %q", tenant.ID, got.Attributes["displayName"], "Jane Doe")
		}
		page, err := s.QueryUsers(ctx, tenant, storage.Query{Filter: filter, Limit: 10}, false)
		if err != nil {
			t.Fatalf("QueryUsers(%s): %v", tenant.ID, err)
		}
		if len(page.Users) != 1 || page.Users[0].ID != u.ID {
			t.Errorf("QueryUsers(%s, displayName eq new value) returned %d users, want the changed user", tenant.ID, len(page.Users))
		}
	}
}

// Removing a user from a sandbox removes it from every group of
// That sandbox and from nothing else.
func TestRemoveFromSandboxKeepsOtherTenants(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	sb1 := mustCreateSandbox(t, s, "one")
	sb2 := mustCreateSandbox(t, s, "two")
	u := mustCreateUser(t, s, "jdoe")
	other := mustCreateUser(t, s, "other")
	staff := mustCreateGroup(t, s, sb1, "staff", u.ID, other.ID)
	admins := mustCreateGroup(t, s, sb1, "admins", u.ID)
	elsewhere := mustCreateGroup(t, s, sb2, "staff", u.ID)
	mainGroup := mustCreateGroup(t, s, Main, "everyone", u.ID)

	if err := s.DeleteUser(ctx, sb1, u.ID, AnyVersion); err != nil {
		t.Fatalf("DeleteUser on sandbox: %v", err)
	}

	_, err := s.GetUser(ctx, sb1, u.ID)
	wantError(t, err, storage.ErrNotFound, "")
	if diff := cmp.Diff([]string{other.ID}, memberIDs(t, s, sb1, staff.ID)); diff != "" {
		t.Errorf("sandbox group staff members (-want +got):\n%s", diff)
	}
	if got := memberIDs(t, s, sb1, admins.ID); len(got) != 0 {
		t.Errorf("sandbox group admins members = %v, want none", got)
	}
	for _, tenant := range []*Tenant{Main, sb2} {
		if _, err := s.GetUser(ctx, tenant, u.ID); err != nil {
			t.Errorf("GetUser(%s) after removal from sandbox one: %v", tenant.ID, err)
		}
	}
	if diff := cmp.Diff([]string{u.ID}, memberIDs(t, s, sb2, elsewhere.ID)); diff != "" {
		t.Errorf("other sandbox's group members (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{u.ID}, memberIDs(t, s, Main, mainGroup.ID)); diff != "" {
		t.Errorf("main group members (-want +got):\n%s", diff)
	}

	err = s.DeleteUser(ctx, sb1, u.ID, AnyVersion)
	wantError(t, err, storage.ErrNotFound, "")
}

// Deleting a user in the main account deletes it and its
// Memberships in every tenant.
func TestDeleteFromMainCascades(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	sb := mustCreateSandbox(t, s, "acme")
	u := mustCreateUser(t, s, "jdoe")
	other := mustCreateUser(t, s, "other")
	sandboxGroup := mustCreateGroup(t, s, sb, "staff", u.ID, other.ID)
	mainGroup := mustCreateGroup(t, s, Main, "everyone", u.ID)

	if err := s.DeleteUser(ctx, Main, u.ID, AnyVersion); err != nil {
		t.Fatalf("DeleteUser on main: %v", err)
	}

	for _, tenant := range []*Tenant{Main, sb} {
		_, err := s.GetUser(ctx, tenant, u.ID)
		wantError(t, err, storage.ErrNotFound, "")
	}
	if diff := cmp.Diff([]string{other.ID}, memberIDs(t, s, sb, sandboxGroup.ID)); diff != "" {
		t.Errorf("sandbox group members (-want +got):\n%s", diff)
	}
	if got := memberIDs(t, s, Main, mainGroup.ID); len(got) != 0 {
		t.Errorf("main group members = %v, want none", got)
	}
	if got, want := visibleUserNames(t, s, sb), []string{"other"}; !cmp.Equal(got, want) {
		t.Errorf("sandbox lists %v, want %v", got, want)
	}
}

// A userName is unique across all users, case-insensitively.
func TestUserNameUniqueCaseInsensitive(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	mustCreateUser(t, s, "jdoe")
	other := mustCreateUser(t, s, "other")

	_, err := s.CreateUser(ctx, Main, userBody("JDoe"))
	wantError(t, err, storage.ErrAlreadyExists, "uniqueness", `"JDoe"`)

	_, err = s.ReplaceUser(ctx, Main, other.ID, userBody("JDOE"), AnyVersion)
	wantError(t, err, storage.ErrAlreadyExists, "uniqueness", `"JDOE"`)

	ops := []schemas.PatchOp{{Op: "replace", Path: "userName", Value: "jDoe"}}
	_, err = s.PatchUser(ctx, Main, other.ID, ops, AnyVersion)
	wantError(t, err, storage.ErrAlreadyExists, "uniqueness", `"jDoe"`)

	got, err := s.GetUser(ctx, Main, other.ID)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if got.UserName() != "other" {
		t.Errorf("after rejected renames userName = %q, want %q", got.UserName(), "other")
	}
}

// A group's displayName is unique within its tenant,
// Case-insensitively, and may repeat across tenants.
func TestGroupDisplayNameUniquePerTenant(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	sb1 := mustCreateSandbox(t, s, "one")
	sb2 := mustCreateSandbox(t, s, "two")
	mustCreateGroup(t, s, Main, "Engineering")

	_, err := s.CreateGroup(ctx, Main, groupBody("engineering"))
	wantError(t, err, storage.ErrAlreadyExists, "uniqueness", `"engineering"`)

	mustCreateGroup(t, s, sb1, "ENGINEERING")
	mustCreateGroup(t, s, sb2, "Engineering")
	sales := mustCreateGroup(t, s, sb1, "Sales")

	ops := []schemas.PatchOp{{Op: "replace", Path: "displayName", Value: "engineering"}}
	_, err = s.PatchGroup(ctx, sb1, sales.ID, ops, AnyVersion)
	wantError(t, err, storage.ErrAlreadyExists, "uniqueness", `"engineering"`)

	_, err = s.ReplaceGroup(ctx, sb1, sales.ID, groupBody("Engineering"), AnyVersion)
	wantError(t, err, storage.ErrAlreadyExists, "uniqueness", `"Engineering"`)
}

// A credential works only at its own tenant, and ids of other
// Tenants are not found.
func TestCredentialIsolation(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	sb1 := mustCreateSandbox(t, s, "one")
	sb2 := mustCreateSandbox(t, s, "two")
	creds := map[string]string{
		"admin": mustIssue(t, s, "admin").Token,
		"main":  mustIssue(t, s, "main").Token,
		"one":   mustIssue(t, s, "one").Token,
		"two":   mustIssue(t, s, "two").Token,
	}
	endpoints := map[string]*Tenant{"admin": nil, "main": Main, "one": sb1, "two": sb2}

	for credTenant, token := range creds {
		for endpoint, tenant := range endpoints {
			_, err := s.Authenticate(ctx, tenant, token)
			if credTenant == endpoint {
				if err != nil {
					t.Errorf("credential of %s at %s: %v, want success", credTenant, endpoint, err)
				}
				continue
			}
			if err == nil {
				t.Errorf("credential of %s at %s authenticated, want ErrUnauthorized", credTenant, endpoint)
				continue
			}
			wantError(t, err, ErrUnauthorized, "")
		}
	}

	_, err := s.Resolve(ctx, "unknown")
	wantError(t, err, ErrUnauthorized, "")

	u := mustCreateUser(t, s, "jdoe")
	g := mustCreateGroup(t, s, sb1, "staff", u.ID)
	_, err = s.GetUser(ctx, sb2, u.ID)
	wantError(t, err, storage.ErrNotFound, "")
	for _, tenant := range []*Tenant{Main, sb2} {
		_, err := s.GetGroup(ctx, tenant, g.ID)
		wantError(t, err, storage.ErrNotFound, "")
		err = s.DeleteGroup(ctx, tenant, g.ID, AnyVersion)
		wantError(t, err, storage.ErrNotFound, "")
	}
	if _, err := s.GetGroup(ctx, sb1, g.ID); err != nil {
		t.Errorf("GetGroup in its own sandbox after foreign deletes: %v", err)
	}
}

func TestGroupMembersMustExist(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	sb := mustCreateSandbox(t, s, "acme")
	u := mustCreateUser(t, s, "jdoe")

	_, err := s.CreateGroup(ctx, sb, groupBody("staff", u.ID, "missing-user"))
	wantError(t, err, ErrInvalid, "invalidValue", "missing-user")
	page, err := s.QueryGroups(ctx, sb, storage.Query{Limit: 10})
	if err != nil {
		t.Fatalf("QueryGroups: %v", err)
	}
	if len(page.Groups) != 0 {
		t.Errorf("after the rejected create the sandbox has %d groups, want 0", len(page.Groups))
	}

	g := mustCreateGroup(t, s, sb, "staff", u.ID)
	add := []schemas.PatchOp{{Op: "add", Path: "members", Value: []any{map[string]any{"value": "missing-user"}}}}
	_, err = s.PatchGroup(ctx, sb, g.ID, add, AnyVersion)
	wantError(t, err, ErrInvalid, "invalidValue", "missing-user")
	if diff := cmp.Diff([]string{u.ID}, memberIDs(t, s, sb, g.ID)); diff != "" {
		t.Errorf("members after the rejected patch (-want +got):\n%s", diff)
	}
}

func TestReplaceGroupReplacesMembers(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	sb := mustCreateSandbox(t, s, "acme")
	kept := mustCreateUser(t, s, "kept")
	dropped := mustCreateUser(t, s, "dropped")
	added := mustCreateUser(t, s, "added")
	g := mustCreateGroup(t, s, sb, "Staff", kept.ID, dropped.ID)

	body := groupBody("Team", kept.ID, added.ID)
	replaced, err := s.ReplaceGroup(ctx, sb, g.ID, body, g.Version)
	if err != nil {
		t.Fatalf("ReplaceGroup: %v", err)
	}
	if replaced.DisplayName() != "Team" {
		t.Errorf("displayName = %q, want %q", replaced.DisplayName(), "Team")
	}
	if _, ok := body["members"]; !ok {
		t.Errorf("ReplaceGroup removed members from the caller's body")
	}
	want := []string{added.ID, kept.ID}
	slices.Sort(want)
	if diff := cmp.Diff(want, memberIDs(t, s, sb, g.ID)); diff != "" {
		t.Errorf("members after replace (-want +got):\n%s", diff)
	}
	_, err = s.GetUser(ctx, sb, dropped.ID)
	wantError(t, err, storage.ErrNotFound, "")

	if _, err := s.ReplaceGroup(ctx, sb, g.ID, groupBody("Team"), AnyVersion); err != nil {
		t.Fatalf("ReplaceGroup without members: %v", err)
	}
	if got := memberIDs(t, s, sb, g.ID); len(got) != 0 {
		t.Errorf("members after a replace without members = %v, want none", got)
	}
}
