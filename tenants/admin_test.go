package tenants

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/storage"
)

func TestInvite(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	sb := mustCreateSandbox(t, s, "acme")
	u := mustCreateUser(t, s, "jdoe")
	staff := mustCreateGroup(t, s, sb, "Staff")
	admins := mustCreateGroup(t, s, sb, "Admins")
	mustCreateGroup(t, s, sb, "Untouched")
	other := mustCreateUser(t, s, "other")
	earlier := mustCreateGroup(t, s, sb, "Earlier", other.ID)

	inv, err := s.Invite(ctx, "acme", "JDoe", []string{"staff", admins.ID, "STAFF"})
	if err != nil {
		t.Fatalf("Invite: %v", err)
	}
	want := &Invitation{UserID: u.ID, UserName: "jdoe", GroupIDs: []string{admins.ID, staff.ID}}
	if diff := cmp.Diff(want, inv); diff != "" {
		t.Errorf("Invite result (-want +got):\n%s", diff)
	}

	groups, err := s.UserGroups(ctx, sb, []string{u.ID})
	if err != nil {
		t.Fatalf("UserGroups: %v", err)
	}
	var names []string
	for _, ref := range groups[u.ID] {
		names = append(names, ref.DisplayName)
	}
	slices.Sort(names)
	if diff := cmp.Diff([]string{"Admins", "Staff"}, names); diff != "" {
		t.Errorf("sandbox groups of the invited user (-want +got):\n%s", diff)
	}

	// Inviting again changes nothing and succeeds.
	before, err := s.GetGroup(ctx, sb, staff.ID)
	if err != nil {
		t.Fatalf("GetGroup: %v", err)
	}
	if _, err := s.Invite(ctx, "acme", "jdoe", []string{"Staff"}); err != nil {
		t.Fatalf("second Invite: %v", err)
	}
	after, err := s.GetGroup(ctx, sb, staff.ID)
	if err != nil {
		t.Fatalf("GetGroup: %v", err)
	}
	if after.Version != before.Version {
		t.Errorf("repeated invitation changed the group version from %d to %d", before.Version, after.Version)
	}

	// A user already in the sandbox gets the new group added to its list.
	inv, err = s.Invite(ctx, "acme", "other", []string{"Staff"})
	if err != nil {
		t.Fatalf("Invite of a member: %v", err)
	}
	want = &Invitation{UserID: other.ID, UserName: "other", GroupIDs: []string{earlier.ID, staff.ID}}
	if diff := cmp.Diff(want, inv); diff != "" {
		t.Errorf("Invite result for a member (-want +got):\n%s", diff)
	}
}

func TestInviteUnknownChangesNothing(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	sb := mustCreateSandbox(t, s, "acme")
	other := mustCreateSandbox(t, s, "other")
	u := mustCreateUser(t, s, "jdoe")
	staff := mustCreateGroup(t, s, sb, "Staff")
	foreign := mustCreateGroup(t, s, other, "Foreign")

	tests := []struct {
		name     string
		userName string
		groups   []string
		naming   string
	}{
		{"unknown user", "nobody", []string{"Staff"}, `"nobody"`},
		{"unknown group after a known one", "jdoe", []string{"Staff", "Missing"}, `"Missing"`},
		{"group of another sandbox by id", "jdoe", []string{"Staff", foreign.ID}, foreign.ID},
		{"group of another sandbox by name", "jdoe", []string{"Staff", "Foreign"}, `"Foreign"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Invite(ctx, "acme", tt.userName, tt.groups)
			wantError(t, err, storage.ErrNotFound, "", tt.naming)

			if got := memberIDs(t, s, sb, staff.ID); len(got) != 0 {
				t.Errorf("Staff members after a failed invitation = %v, want none", got)
			}
			g, err := s.GetGroup(ctx, sb, staff.ID)
			if err != nil {
				t.Fatalf("GetGroup: %v", err)
			}
			if g.Version != staff.Version {
				t.Errorf("Staff version = %d, want %d", g.Version, staff.Version)
			}
		})
	}

	_, err := s.Invite(ctx, "missing-sandbox", "jdoe", []string{"Staff"})
	wantError(t, err, storage.ErrNotFound, "", `"missing-sandbox"`)
	_, err = s.Invite(ctx, "acme", "jdoe", nil)
	wantError(t, err, ErrInvalid, "invalidValue")
	if _, err := s.GetUser(ctx, sb, u.ID); err == nil {
		t.Errorf("user is visible in the sandbox after failed invitations")
	}
}

func TestSandboxRecreatedEmpty(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	old := mustCreateSandbox(t, s, "acme")
	u := mustCreateUser(t, s, "jdoe")
	mustCreateGroup(t, s, old, "Staff", u.ID)
	oldToken := mustIssue(t, s, "acme").Token

	if err := s.DeleteSandbox(ctx, "acme"); err != nil {
		t.Fatalf("DeleteSandbox: %v", err)
	}
	_, err := s.Resolve(ctx, "acme")
	wantError(t, err, ErrUnauthorized, "")
	_, err = s.GetSandbox(ctx, "acme")
	wantError(t, err, storage.ErrNotFound, "", `"acme"`)
	err = s.DeleteSandbox(ctx, "acme")
	wantError(t, err, storage.ErrNotFound, "", `"acme"`)
	if _, err := s.GetUser(ctx, Main, u.ID); err != nil {
		t.Errorf("user after sandbox deletion: %v", err)
	}

	recreated := mustCreateSandbox(t, s, "acme")
	if recreated.Key == old.Key {
		t.Fatalf("recreated sandbox reuses the storage key %q", old.Key)
	}
	_, err = s.Authenticate(ctx, recreated, oldToken)
	wantError(t, err, ErrUnauthorized, "")
	if got := visibleUserNames(t, s, recreated); len(got) != 0 {
		t.Errorf("recreated sandbox lists users %v, want none", got)
	}
	page, err := s.QueryGroups(ctx, recreated, storage.Query{Limit: 10, Count: true})
	if err != nil {
		t.Fatalf("QueryGroups: %v", err)
	}
	if page.Total != 0 || len(page.Groups) != 0 {
		t.Errorf("recreated sandbox has %d groups (total %d), want none", len(page.Groups), page.Total)
	}
	mustCreateGroup(t, s, recreated, "Staff")

	list, err := s.ListCredentials(ctx)
	if err != nil {
		t.Fatalf("ListCredentials: %v", err)
	}
	if len(list) != 0 {
		t.Errorf("ListCredentials returned %d credentials after the sandbox deletion, want 0", len(list))
	}
}

func TestCreateSandboxValidatesID(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	tests := []struct {
		id    string
		valid bool
	}{
		{"a", true},
		{"acme-test", true},
		{"0-9", true},
		{strings.Repeat("a", 63), true},
		{"", false},
		{strings.Repeat("a", 64), false},
		{"-acme", false},
		{"acme-", false},
		{"Acme", false},
		{"acme_test", false},
		{"acme.test", false},
		{"ácme", false},
		{"main", false},
		{"admin", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			_, err := s.CreateSandbox(ctx, tt.id, "")
			if tt.valid {
				if err != nil {
					t.Errorf("CreateSandbox(%q): %v, want success", tt.id, err)
				}
				return
			}
			wantError(t, err, ErrInvalid, "invalidValue", tt.id)
		})
	}

	_, err := s.CreateSandbox(ctx, "acme-test", "again")
	wantError(t, err, storage.ErrAlreadyExists, "uniqueness", `"acme-test"`)
}

func TestIssueCredential(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	mustCreateSandbox(t, s, "acme")

	issued := mustIssue(t, s, "acme")
	secret, ok := strings.CutPrefix(issued.Token, "scimd_")
	if !ok {
		t.Fatalf("token %q lacks the scimd_ prefix", issued.Token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(secret)
	if err != nil || len(raw) != 32 {
		t.Errorf("token secret decodes to %d bytes (error %v), want 32 bytes of base64url", len(raw), err)
	}
	if issued.TenantID != "acme" {
		t.Errorf("TenantID = %q, want %q", issued.TenantID, "acme")
	}
	if issued.Credential.Hash != nil {
		t.Errorf("issued credential exposes its hash")
	}

	sum := sha256.Sum256([]byte(issued.Token))
	stored, err := s.store.CredentialByHash(ctx, sum[:])
	if err != nil {
		t.Fatalf("credential is not stored under the SHA-256 of its secret: %v", err)
	}
	if strings.Contains(string(stored.Hash), secret) {
		t.Errorf("stored hash contains the secret")
	}

	_, err = s.IssueCredential(ctx, "unknown", "")
	wantError(t, err, storage.ErrNotFound, "", `"unknown"`)

	list, err := s.ListCredentials(ctx)
	if err != nil {
		t.Fatalf("ListCredentials: %v", err)
	}
	if len(list) != 1 {
		t.Fatalf("ListCredentials returned %d credentials, want 1", len(list))
	}
	if list[0].TenantID != "acme" || list[0].Credential.ID != issued.Credential.ID {
		t.Errorf("listed %q for tenant %q, want %q for %q", list[0].Credential.ID, list[0].TenantID, issued.Credential.ID, "acme")
	}
	if list[0].Credential.Hash != nil {
		t.Errorf("listed credential exposes its hash")
	}
}

func TestRevokeCredential(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	issued := mustIssue(t, s, "main")
	kept := mustIssue(t, s, "main")

	if _, err := s.Authenticate(ctx, Main, issued.Token); err != nil {
		t.Fatalf("Authenticate before revocation: %v", err)
	}
	if err := s.RevokeCredential(ctx, issued.Credential.ID); err != nil {
		t.Fatalf("RevokeCredential: %v", err)
	}
	_, err := s.Authenticate(ctx, Main, issued.Token)
	wantError(t, err, ErrUnauthorized, "")
	if _, err := s.Authenticate(ctx, Main, kept.Token); err != nil {
		t.Errorf("other credential after revocation: %v", err)
	}

	err = s.RevokeCredential(ctx, issued.Credential.ID)
	wantError(t, err, storage.ErrNotFound, "", issued.Credential.ID)
	_, err = s.Authenticate(ctx, Main, "")
	wantError(t, err, ErrUnauthorized, "")
}

func TestIfMatchVersions(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	u := mustCreateUser(t, s, "jdoe")
	if u.Version != 1 {
		t.Fatalf("new user version = %d, want 1", u.Version)
	}

	for _, stale := range []int64{NoVersion, 2} {
		_, err := s.ReplaceUser(ctx, Main, u.ID, userBody("jdoe2"), stale)
		wantError(t, err, ErrPreconditionFailed, "")
	}
	replaced, err := s.ReplaceUser(ctx, Main, u.ID, userBody("jdoe2"), 1)
	if err != nil {
		t.Fatalf("ReplaceUser with the current version: %v", err)
	}
	if replaced.Version != 2 {
		t.Errorf("version after replace = %d, want 2", replaced.Version)
	}
	ops := []schemas.PatchOp{{Op: "replace", Path: "displayName", Value: "J"}}
	_, err = s.PatchUser(ctx, Main, u.ID, ops, 1)
	wantError(t, err, ErrPreconditionFailed, "")
	if _, err := s.PatchUser(ctx, Main, u.ID, ops, AnyVersion); err != nil {
		t.Errorf("PatchUser with AnyVersion: %v", err)
	}
	_, err = s.PatchUser(ctx, Main, "unknown", ops, NoVersion)
	wantError(t, err, storage.ErrNotFound, "")

	g := mustCreateGroup(t, s, Main, "Staff")
	_, err = s.PatchGroup(ctx, Main, g.ID, []schemas.PatchOp{{Op: "replace", Path: "displayName", Value: "Team"}}, 5)
	wantError(t, err, ErrPreconditionFailed, "")
	_, err = s.ReplaceGroup(ctx, Main, g.ID, groupBody("Team"), NoVersion)
	wantError(t, err, ErrPreconditionFailed, "")
	err = s.DeleteGroup(ctx, Main, g.ID, 2)
	wantError(t, err, ErrPreconditionFailed, "")
	if err := s.DeleteGroup(ctx, Main, g.ID, 1); err != nil {
		t.Errorf("DeleteGroup with the current version: %v", err)
	}

	err = s.DeleteUser(ctx, Main, u.ID, 1)
	wantError(t, err, ErrPreconditionFailed, "")
	current, err := s.GetUser(ctx, Main, u.ID)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if err := s.DeleteUser(ctx, Main, u.ID, current.Version); err != nil {
		t.Errorf("DeleteUser with the current version: %v", err)
	}
}

func TestEnsureAdminCredential(t *testing.T) {
	ctx := context.Background()

	t.Run("generated", func(t *testing.T) {
		s := newTestService(t)
		secret, err := s.EnsureAdminCredential(ctx, "")
		if err != nil {
			t.Fatalf("EnsureAdminCredential: %v", err)
		}
		if !strings.HasPrefix(secret, "scimd_") {
			t.Fatalf("generated secret %q lacks the scimd_ prefix", secret)
		}
		if _, err := s.Authenticate(ctx, nil, secret); err != nil {
			t.Errorf("Authenticate with the generated secret: %v", err)
		}
		again, err := s.EnsureAdminCredential(ctx, "")
		if err != nil {
			t.Fatalf("second EnsureAdminCredential: %v", err)
		}
		if again != "" {
			t.Errorf("second start created another admin credential")
		}
	})

	t.Run("configured", func(t *testing.T) {
		s := newTestService(t)
		const configured = "operator-chosen-admin-secret"
		for range 2 {
			secret, err := s.EnsureAdminCredential(ctx, configured)
			if err != nil {
				t.Fatalf("EnsureAdminCredential: %v", err)
			}
			if secret != "" {
				t.Errorf("EnsureAdminCredential returned a new secret with one configured")
			}
		}
		if _, err := s.Authenticate(ctx, nil, configured); err != nil {
			t.Errorf("Authenticate with the configured secret: %v", err)
		}
		_, err := s.Authenticate(ctx, Main, configured)
		wantError(t, err, ErrUnauthorized, "")
		list, err := s.ListCredentials(ctx)
		if err != nil {
			t.Fatalf("ListCredentials: %v", err)
		}
		if len(list) != 1 || list[0].TenantID != "admin" {
			t.Errorf("ListCredentials = %d credentials, want the one admin credential", len(list))
		}
	})

	t.Run("configured secret of another tenant", func(t *testing.T) {
		s := newTestService(t)
		issued := mustIssue(t, s, "main")
		if _, err := s.EnsureAdminCredential(ctx, issued.Token); err == nil {
			t.Errorf("EnsureAdminCredential accepted a main-account secret as the admin secret")
		}
		if _, err := s.Authenticate(ctx, nil, issued.Token); err == nil {
			t.Errorf("main-account secret authenticates at the admin API")
		}
	})
}

func TestReplaceUserKeepsPassword(t *testing.T) {
	s := newTestService(t)
	ctx := context.Background()
	body := userBody("jdoe")
	body["password"] = "correct horse battery staple"
	u, err := s.CreateUser(ctx, Main, body)
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}

	replaced, err := s.ReplaceUser(ctx, Main, u.ID, userBody("jdoe"), AnyVersion)
	if err != nil {
		t.Fatalf("ReplaceUser without password: %v", err)
	}
	hash, _ := replaced.Attributes["password"].(string)
	if !schemas.VerifyPassword(hash, "correct horse battery staple") {
		t.Errorf("password after PUT without password: hash %q no longer verifies", hash)
	}
}

func TestRevokeLastAdminCredential(t *testing.T) {
	s := newTestService(t)
	ctx := context.Background()
	first, err := s.IssueCredential(ctx, "admin", "first")
	if err != nil {
		t.Fatalf("IssueCredential: %v", err)
	}

	err = s.RevokeCredential(ctx, first.Credential.ID)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("revoke the only admin credential: got %v, want ErrInvalid", err)
	}
	if _, err := s.Authenticate(ctx, nil, first.Token); err != nil {
		t.Errorf("the only admin credential stopped working after a refused revocation: %v", err)
	}

	second, err := s.IssueCredential(ctx, "admin", "second")
	if err != nil {
		t.Fatalf("IssueCredential: %v", err)
	}
	if err := s.RevokeCredential(ctx, first.Credential.ID); err != nil {
		t.Fatalf("revoke one of two admin credentials: %v", err)
	}
	if _, err := s.Authenticate(ctx, nil, first.Token); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("revoked admin credential: got %v, want ErrUnauthorized", err)
	}
	if _, err := s.Authenticate(ctx, nil, second.Token); err != nil {
		t.Errorf("remaining admin credential: %v", err)
	}
}

func TestConfiguredAdminSecretRotation(t *testing.T) {
	s := newTestService(t)
	ctx := context.Background()
	bootstrap, err := s.EnsureAdminCredential(ctx, "")
	if err != nil {
		t.Fatalf("first start: %v", err)
	}
	issued, err := s.IssueCredential(ctx, "admin", "operator laptop")
	if err != nil {
		t.Fatalf("IssueCredential: %v", err)
	}
	oldSecret := strings.Repeat("a", 40)
	newSecret := strings.Repeat("b", 40)
	if _, err := s.EnsureAdminCredential(ctx, oldSecret); err != nil {
		t.Fatalf("start with a configured secret: %v", err)
	}
	if _, err := s.EnsureAdminCredential(ctx, newSecret); err != nil {
		t.Fatalf("start with a rotated secret: %v", err)
	}

	tests := []struct {
		name  string
		token string
		works bool
	}{
		{"first-start credential", bootstrap, false},
		{"earlier configured secret", oldSecret, false},
		{"configured secret", newSecret, true},
		{"credential issued through the API", issued.Token, true},
	}
	for _, tt := range tests {
		_, err := s.Authenticate(ctx, nil, tt.token)
		if tt.works && err != nil {
			t.Errorf("%s: %v, want it to authenticate", tt.name, err)
		}
		if !tt.works && !errors.Is(err, ErrUnauthorized) {
			t.Errorf("%s: got %v, want ErrUnauthorized", tt.name, err)
		}
	}
}
