package tenants

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/scimd/scimd/storage"
	"github.com/scimd/scimd/storage/sqlite"
)

// deletingStore deletes the sandbox with the id sandboxID just before it
// stores a credential, as a DeleteSandbox request that commits between
// IssueCredential's lookup of the sandbox and its write would.
type deletingStore struct {
	storage.Store
	sandboxID string
}

func (d *deletingStore) CreateCredential(ctx context.Context, c *storage.Credential) error {
	if err := d.Store.DeleteSandbox(ctx, d.sandboxID); err != nil {
		return err
	}
	return d.Store.CreateCredential(ctx, c)
}

func TestCreateGroupInDeletedSandbox(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	sb := mustCreateSandbox(t, s, "acme")
	u := mustCreateUser(t, s, "jdoe")
	// The request resolved the sandbox; then the sandbox is deleted.
	if err := s.DeleteSandbox(ctx, "acme"); err != nil {
		t.Fatalf("DeleteSandbox: %v", err)
	}

	_, err := s.CreateGroup(ctx, sb, groupBody("Staff", u.ID))
	wantError(t, err, ErrUnauthorized, "")

	recreated := mustCreateSandbox(t, s, "acme")
	if got := visibleUserNames(t, s, recreated); len(got) != 0 {
		t.Errorf("recreated sandbox lists users %v, want none", got)
	}
	if got, err := s.GetUser(ctx, Main, u.ID); err != nil {
		t.Errorf("GetUser: %v", err)
	} else if got.Version != u.Version {
		t.Errorf("user version after the rejected group = %d, want %d", got.Version, u.Version)
	}
}

func TestIssueCredentialInDeletedSandbox(t *testing.T) {
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
	s := New(&deletingStore{Store: store, sandboxID: "acme"}, Options{})
	mustCreateSandbox(t, s, "acme")

	_, err = s.IssueCredential(ctx, "acme", "okta")
	wantError(t, err, storage.ErrNotFound, "", `sandbox "acme" not found`)

	list, err := store.ListCredentials(ctx)
	if err != nil {
		t.Fatalf("ListCredentials: %v", err)
	}
	if len(list) != 0 {
		t.Errorf("stored %d credentials for the deleted sandbox, want 0", len(list))
	}
}
