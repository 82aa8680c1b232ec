package tenants

import (
	"context"
	"testing"
	"time"

	"github.com/scimd/scimd/storage"
)

// changingStore changes the resource in the store just before a delete
// reaches it, as a request running between a client's read and its
// DELETE would.
type changingStore struct {
	storage.Store
	t *testing.T
}

func (s *changingStore) DeleteUser(ctx context.Context, id string, ifVersion int64) error {
	_, err := s.UpdateUser(ctx, id, time.Now(), func(u *storage.User) error {
		u.Attributes["title"] = "changed"
		return nil
	})
	if err != nil {
		s.t.Fatalf("change user %q before delete: %v", id, err)
	}
	return s.Store.DeleteUser(ctx, id, ifVersion)
}

func (s *changingStore) DeleteGroup(ctx context.Context, tenant, id string, ifVersion int64) error {
	_, err := s.UpdateGroup(ctx, tenant, id, time.Now(), func(g *storage.Group) (*storage.MemberChange, error) {
		g.Attributes["externalId"] = "changed"
		return nil, nil
	})
	if err != nil {
		s.t.Fatalf("change group %q before delete: %v", id, err)
	}
	return s.Store.DeleteGroup(ctx, tenant, id, ifVersion)
}

func TestDeleteDetectsConcurrentChange(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	u := mustCreateUser(t, s, "bjensen")
	g := mustCreateGroup(t, s, Main, "Staff")
	s.store = &changingStore{Store: s.store, t: t}

	err := s.DeleteUser(ctx, Main, u.ID, u.Version)
	wantError(t, err, ErrPreconditionFailed, "", "has changed")
	if _, err := s.GetUser(ctx, Main, u.ID); err != nil {
		t.Errorf("GetUser after a failed conditional delete: %v", err)
	}

	err = s.DeleteGroup(ctx, Main, g.ID, g.Version)
	wantError(t, err, ErrPreconditionFailed, "", "has changed")
	if _, err := s.GetGroup(ctx, Main, g.ID); err != nil {
		t.Errorf("GetGroup after a failed conditional delete: %v", err)
	}
}

func TestDeleteWithNoVersion(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	u := mustCreateUser(t, s, "bjensen")
	g := mustCreateGroup(t, s, Main, "Staff")

	wantError(t, s.DeleteUser(ctx, Main, u.ID, NoVersion), ErrPreconditionFailed, "", "has changed")
	wantError(t, s.DeleteGroup(ctx, Main, g.ID, NoVersion), ErrPreconditionFailed, "", "has changed")
	wantError(t, s.DeleteUser(ctx, Main, "unknown", NoVersion), storage.ErrNotFound, "")
	wantError(t, s.DeleteGroup(ctx, Main, "unknown", NoVersion), storage.ErrNotFound, "")

	if err := s.DeleteGroup(ctx, Main, g.ID, AnyVersion); err != nil {
		t.Errorf("DeleteGroup with AnyVersion: %v", err)
	}
	if err := s.DeleteUser(ctx, Main, u.ID, AnyVersion); err != nil {
		t.Errorf("DeleteUser with AnyVersion: %v", err)
	}
}
