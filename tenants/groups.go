package tenants

import (
	"context"
	"errors"
	"fmt"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/storage"
)

func displayNameTaken(t *Tenant, displayName string) *Error {
	return &Error{
		Kind:     storage.ErrAlreadyExists,
		ScimType: "uniqueness",
		Detail:   fmt.Sprintf("a group with displayName %q already exists in tenant %q", displayName, t.ID),
	}
}

// CreateGroup validates body and stores it as a new group of the tenant
// with the members it lists. Members must be existing users. On a sandbox,
// adding a user to a group invites it into the sandbox.
func (s *Service) CreateGroup(ctx context.Context, t *Tenant, body map[string]any) (*storage.Group, error) {
	attrs, members, err := normalizeGroup(body)
	if err != nil {
		return nil, err
	}

	now := s.now()
	g := &storage.Group{
		ID:           s.newID(),
		Tenant:       t.Key,
		Attributes:   attrs,
		Created:      now,
		LastModified: now,
		Version:      1,
	}
	err = s.store.CreateGroup(ctx, g, members)
	if errors.Is(err, storage.ErrAlreadyExists) {
		return nil, displayNameTaken(t, g.DisplayName())
	}
	if errors.Is(err, storage.ErrTenantNotFound) {
		// The sandbox was deleted after the request resolved it, and its
		// credentials with it: the caller's credential is now unknown.
		return nil, errUnauthorized()
	}
	if err != nil {
		return nil, wrap("create group", memberError(err))
	}
	return g, nil
}

// GetGroup returns the tenant's group with the id. A group of another
// tenant is not found, exactly as an unknown id.
func (s *Service) GetGroup(ctx context.Context, t *Tenant, id string) (*storage.Group, error) {
	g, err := s.store.GetGroup(ctx, t.Key, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, notFound("group", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get group %q: %w", id, err)
	}
	return g, nil
}

// ReplaceGroup replaces the group's attributes and members with body
// (PUT). A body without members leaves the group with none.
func (s *Service) ReplaceGroup(ctx context.Context, t *Tenant, id string, body map[string]any, ifVersion int64) (*storage.Group, error) {
	attrs, members, err := normalizeGroup(body)
	if err != nil {
		return nil, err
	}
	if members == nil {
		members = []string{}
	}

	return s.updateGroup(ctx, t, id, func(g *storage.Group) (*storage.MemberChange, error) {
		if err := checkVersion("group", id, g.Version, ifVersion); err != nil {
			return nil, err
		}
		if err := checkImmutableGroup(g.Attributes, attrs); err != nil {
			return nil, err
		}
		g.Attributes = attrs
		return &storage.MemberChange{Replace: true, Set: members}, nil
	})
}

// PatchGroup applies PATCH operations to the group's attributes and
// members in one atomic step.
func (s *Service) PatchGroup(ctx context.Context, t *Tenant, id string, ops []schemas.PatchOp, ifVersion int64) (*storage.Group, error) {
	return s.updateGroup(ctx, t, id, func(g *storage.Group) (*storage.MemberChange, error) {
		if err := checkVersion("group", id, g.Version, ifVersion); err != nil {
			return nil, err
		}
		result, err := patchGroup(g.Attributes, ops)
		if err != nil {
			return nil, err
		}
		if err := checkImmutableGroup(g.Attributes, result.Attributes); err != nil {
			return nil, err
		}
		g.Attributes = result.Attributes
		if result.Members.Empty() {
			return nil, nil
		}
		return result.Members, nil
	})
}

// updateGroup runs update through the store's read-modify-write and turns
// storage errors into client errors.
func (s *Service) updateGroup(ctx context.Context, t *Tenant, id string, update func(*storage.Group) (*storage.MemberChange, error)) (*storage.Group, error) {
	var displayName string
	g, err := s.store.UpdateGroup(ctx, t.Key, id, s.now(), func(g *storage.Group) (*storage.MemberChange, error) {
		change, err := update(g)
		if err != nil {
			return nil, err
		}
		displayName = g.DisplayName()
		return change, nil
	})
	switch {
	case err == nil:
		return g, nil
	case isClientError(err):
		return nil, err
	case errors.Is(err, storage.ErrNotFound):
		return nil, notFound("group", id)
	case errors.Is(err, storage.ErrAlreadyExists):
		return nil, displayNameTaken(t, displayName)
	}
	return nil, wrap(fmt.Sprintf("update group %q", id), memberError(err))
}

// DeleteGroup deletes the tenant's group and its memberships. Users that
// were members stay. On a sandbox, a user that was in no other group of
// the sandbox is no longer in the sandbox.
//
// The store compares ifVersion with the group's version in the same step
// as the deletion; NoVersion matches no stored version, which starts at 1.
func (s *Service) DeleteGroup(ctx context.Context, t *Tenant, id string, ifVersion int64) error {
	err := s.store.DeleteGroup(ctx, t.Key, id, ifVersion)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return notFound("group", id)
	case errors.Is(err, storage.ErrVersionMismatch):
		return preconditionFailed("group", id)
	}
	return wrap(fmt.Sprintf("delete group %q", id), err)
}

// QueryGroups lists the tenant's groups.
func (s *Service) QueryGroups(ctx context.Context, t *Tenant, q storage.Query) (*GroupPage, error) {
	page, err := s.store.QueryGroups(ctx, t.Key, q)
	if err != nil {
		return nil, queryError("query groups", err)
	}
	return &GroupPage{Groups: page.Items, Total: page.Total, More: page.More, LastKey: page.LastKey}, nil
}

// ListMembers returns up to limit members of the tenant's group in user
// id order, after the user id after ("" for the first piece).
func (s *Service) ListMembers(ctx context.Context, t *Tenant, groupID, after string, limit int) ([]storage.Member, error) {
	members, err := s.store.ListMembers(ctx, t.Key, groupID, after, limit)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, notFound("group", groupID)
	}
	if err != nil {
		return nil, fmt.Errorf("list members of group %q: %w", groupID, err)
	}
	return members, nil
}
