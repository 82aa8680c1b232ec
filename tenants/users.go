package tenants

import (
	"context"
	"errors"
	"fmt"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/storage"
)

// errUserInSandbox is the error of every user write on a sandbox. Users
// exist once, in the main account, and a sandbox only refers to them.
func errUserInSandbox() *Error {
	return &Error{
		Kind: ErrForbidden,
		Detail: "users are created and changed in the main account; invite a user into " +
			"this sandbox by adding it to one of the sandbox's groups (or through the " +
			"admin API's invitations endpoint)",
	}
}

func userNameTaken(userName string) *Error {
	return &Error{
		Kind:     storage.ErrAlreadyExists,
		ScimType: "uniqueness",
		Detail:   fmt.Sprintf("userName %q is already taken", userName),
	}
}

// CreateUser validates body and stores it as a new user. Only the main
// account creates users.
func (s *Service) CreateUser(ctx context.Context, t *Tenant, body map[string]any) (*storage.User, error) {
	if !t.IsMain() {
		return nil, errUserInSandbox()
	}
	attrs, err := normalizeUser(body)
	if err != nil {
		return nil, err
	}

	now := s.now()
	u := &storage.User{ID: s.newID(), Attributes: attrs, Created: now, LastModified: now, Version: 1}
	if err := s.store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return nil, userNameTaken(u.UserName())
		}
		return nil, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// GetUser returns the user with the id. On a sandbox only users that are
// members of one of its groups are found, and any other id is not found.
func (s *Service) GetUser(ctx context.Context, t *Tenant, id string) (*storage.User, error) {
	u, err := s.store.GetUser(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, notFound("user", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get user %q: %w", id, err)
	}
	if err := s.checkVisible(ctx, t, id); err != nil {
		return nil, err
	}
	return u, nil
}

// checkVisible returns a not-found error unless the user is visible to
// the tenant. Every user is visible to the main account, and a sandbox's
// members to the sandbox.
func (s *Service) checkVisible(ctx context.Context, t *Tenant, id string) error {
	if t.IsMain() {
		return nil
	}
	groups, err := s.store.UserGroups(ctx, t.Key, []string{id})
	if err != nil {
		return fmt.Errorf("find groups of user %q: %w", id, err)
	}
	if len(groups[id]) == 0 {
		return notFound("user", id)
	}
	return nil
}

// ReplaceUser replaces the user's attributes with body (PUT). Immutable
// attributes must keep their values.
func (s *Service) ReplaceUser(ctx context.Context, t *Tenant, id string, body map[string]any, ifVersion int64) (*storage.User, error) {
	if !t.IsMain() {
		return nil, errUserInSandbox()
	}
	attrs, err := normalizeUser(body)
	if err != nil {
		return nil, err
	}

	return s.updateUser(ctx, id, func(u *storage.User) error {
		if err := checkVersion("user", id, u.Version, ifVersion); err != nil {
			return err
		}
		if err := checkImmutableUser(u.Attributes, attrs); err != nil {
			return err
		}
		u.Attributes = keepPassword(u.Attributes, attrs)
		return nil
	})
}

// hashPatchPasswords hashes the passwords that ops set before the store's
// update runs: a hash takes about 0.1 s, and the SQLite store holds its
// only write connection while the update function runs.
func (s *Service) hashPatchPasswords(ctx context.Context, id string, ops []schemas.PatchOp) (*schemas.PasswordHashes, error) {
	u, err := s.store.GetUser(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, notFound("user", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get user %q: %w", id, err)
	}
	hashes, err := userResource().HashPatchPasswords(u.Attributes, ops)
	if err != nil {
		return nil, fmt.Errorf("hash password of user %q: %w", id, err)
	}
	return hashes, nil
}

// keepPassword returns replacement with the stored password hash carried
// over when replacement sets none. The password is never returned, so
// clients cannot echo it back in a PUT, and replacing the resource must
// not silently clear it.
func keepPassword(stored, replacement map[string]any) map[string]any {
	hash, ok := stored["password"]
	if !ok {
		return replacement
	}
	if _, set := replacement["password"]; set {
		return replacement
	}
	merged := make(map[string]any, len(replacement)+1)
	for k, v := range replacement {
		merged[k] = v
	}
	merged["password"] = hash
	return merged
}

// PatchUser applies PATCH operations to the user atomically.
func (s *Service) PatchUser(ctx context.Context, t *Tenant, id string, ops []schemas.PatchOp, ifVersion int64) (*storage.User, error) {
	if !t.IsMain() {
		return nil, errUserInSandbox()
	}
	hashes, err := s.hashPatchPasswords(ctx, id, ops)
	if err != nil {
		return nil, err
	}
	return s.updateUser(ctx, id, func(u *storage.User) error {
		if err := checkVersion("user", id, u.Version, ifVersion); err != nil {
			return err
		}
		result, err := patchUser(u.Attributes, ops, hashes)
		if err != nil {
			return err
		}
		if !result.Members.Empty() {
			return invalid("invalidPath", "users have no members attribute")
		}
		if err := checkImmutableUser(u.Attributes, result.Attributes); err != nil {
			return err
		}
		u.Attributes = result.Attributes
		return nil
	})
}

// updateUser runs update through the store's read-modify-write and turns
// storage errors into client errors.
func (s *Service) updateUser(ctx context.Context, id string, update func(*storage.User) error) (*storage.User, error) {
	var userName string
	u, err := s.store.UpdateUser(ctx, id, s.now(), func(u *storage.User) error {
		if err := update(u); err != nil {
			return err
		}
		userName = u.UserName()
		return nil
	})
	switch {
	case err == nil:
		return u, nil
	case isClientError(err):
		return nil, err
	case errors.Is(err, storage.ErrNotFound):
		return nil, notFound("user", id)
	case errors.Is(err, storage.ErrAlreadyExists):
		return nil, userNameTaken(userName)
	}
	return nil, fmt.Errorf("update user %q: %w", id, err)
}

// DeleteUser deletes the user from the main account, with all of its
// memberships in every tenant. On a sandbox it removes the user from the
// sandbox's groups only, and the user stays everywhere else.
//
// ifVersion is compared with the user's version. On the main account the
// store compares it in the same atomic step as the deletion; NoVersion
// reaches the store as it is and matches no stored version, which starts
// at 1.
func (s *Service) DeleteUser(ctx context.Context, t *Tenant, id string, ifVersion int64) error {
	if t.IsMain() {
		err := s.store.DeleteUser(ctx, id, ifVersion)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return notFound("user", id)
		case errors.Is(err, storage.ErrVersionMismatch):
			return preconditionFailed("user", id)
		}
		return wrap(fmt.Sprintf("delete user %q", id), err)
	}

	u, err := s.GetUser(ctx, t, id)
	if err != nil {
		return err
	}
	// NOTE: RemoveUserFromTenant takes no version, so on a sandbox a
	// change of the user between this check and the removal is not
	// detected.
	if err := checkVersion("user", id, u.Version, ifVersion); err != nil {
		return err
	}
	removed, err := s.store.RemoveUserFromTenant(ctx, t.Key, id)
	if err != nil {
		return fmt.Errorf("remove user %q from sandbox %q: %w", id, t.ID, err)
	}
	if removed == 0 {
		// Another request removed the user since GetUser saw it.
		return notFound("user", id)
	}
	return nil
}

// QueryUsers lists the users the tenant can see. With withGroups it also
// returns, for each user, the tenant's groups that it is a member of.
func (s *Service) QueryUsers(ctx context.Context, t *Tenant, q storage.Query, withGroups bool) (*UserPage, error) {
	page, err := s.store.QueryUsers(ctx, t.Key, q)
	if err != nil {
		return nil, queryError("query users", err)
	}

	result := &UserPage{Users: page.Items, Total: page.Total, More: page.More, LastKey: page.LastKey}
	if !withGroups || len(page.Items) == 0 {
		return result, nil
	}
	ids := make([]string, len(page.Items))
	for i, u := range page.Items {
		ids[i] = u.ID
	}
	if result.Groups, err = s.UserGroups(ctx, t, ids); err != nil {
		return nil, err
	}
	return result, nil
}

// UserGroups returns, for each user id, the tenant's groups that the user
// is a member of.
func (s *Service) UserGroups(ctx context.Context, t *Tenant, userIDs []string) (map[string][]storage.GroupRef, error) {
	groups, err := s.store.UserGroups(ctx, t.Key, userIDs)
	if err != nil {
		return nil, fmt.Errorf("find groups of users: %w", err)
	}
	return groups, nil
}

// queryError turns an unusable cursor into a client error with scimType
// invalidCursor, the value that package scimserver also uses.
func queryError(op string, err error) error {
	if errors.Is(err, storage.ErrInvalidCursor) {
		return invalid("invalidCursor", "the cursor is invalid; start again from the first page")
	}
	return wrap(op, err)
}
