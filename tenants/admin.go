package tenants

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/scimd/scimd/storage"
)

// maxSandboxIDLength is the longest sandbox id: one DNS label, so that
// the id also fits in a host name.
const maxSandboxIDLength = 63

// maxDisplayNameLength bounds a sandbox's displayName, in characters.
const maxDisplayNameLength = 256

// reservedSandboxIDs are ids that name something else: the main account
// and the tenant of administrator credentials.
var reservedSandboxIDs = map[string]bool{storage.MainTenant: true, storage.AdminTenant: true}

// validateSandboxID checks the sandbox id syntax: 1 to 63 lower-case
// letters, digits and hyphens, not starting or ending with a hyphen.
func validateSandboxID(id string) error {
	const rule = "a sandbox id is 1 to 63 lower-case letters, digits and hyphens, " +
		"and does not start or end with a hyphen"
	if id == "" || len(id) > maxSandboxIDLength {
		return invalid("invalidValue", "invalid sandbox id %q: %s", id, rule)
	}
	if id[0] == '-' || id[len(id)-1] == '-' {
		return invalid("invalidValue", "invalid sandbox id %q: %s", id, rule)
	}
	for _, c := range id {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return invalid("invalidValue", "invalid sandbox id %q: %s", id, rule)
		}
	}
	if reservedSandboxIDs[id] {
		return invalid("invalidValue", "sandbox id %q is reserved; choose another id", id)
	}
	return nil
}

// newSandboxKey returns a random storage key for a new sandbox. Keys are
// never reused, so a sandbox created again under a deleted sandbox's id
// finds none of its predecessor's groups or credentials.
func newSandboxKey() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate sandbox key: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// CreateSandbox creates an empty sandbox with the id.
func (s *Service) CreateSandbox(ctx context.Context, id, displayName string) (*storage.Sandbox, error) {
	if err := validateSandboxID(id); err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(displayName) > maxDisplayNameLength {
		return nil, invalid("invalidValue", "displayName is longer than %d characters", maxDisplayNameLength)
	}
	key, err := newSandboxKey()
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(displayName) == "" {
		displayName = id
	}

	sb := &storage.Sandbox{ID: id, Key: key, DisplayName: displayName, Created: s.now()}
	err = s.store.CreateSandbox(ctx, sb)
	if errors.Is(err, storage.ErrAlreadyExists) {
		return nil, &Error{
			Kind:     storage.ErrAlreadyExists,
			ScimType: "uniqueness",
			Detail:   fmt.Sprintf("sandbox %q already exists", id),
		}
	}
	if err != nil {
		return nil, fmt.Errorf("create sandbox %q: %w", id, err)
	}
	return sb, nil
}

// GetSandbox returns the sandbox with the id.
func (s *Service) GetSandbox(ctx context.Context, id string) (*storage.Sandbox, error) {
	sb, err := s.store.GetSandbox(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, notFound("sandbox", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get sandbox %q: %w", id, err)
	}
	return sb, nil
}

// ListSandboxes returns every sandbox.
func (s *Service) ListSandboxes(ctx context.Context) ([]*storage.Sandbox, error) {
	list, err := s.store.ListSandboxes(ctx)
	if err != nil {
		return nil, fmt.Errorf("list sandboxes: %w", err)
	}
	return list, nil
}

// DeleteSandbox deletes the sandbox with its groups, memberships and
// credentials. Users stay in the main account and in other sandboxes.
func (s *Service) DeleteSandbox(ctx context.Context, id string) error {
	err := s.store.DeleteSandbox(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return notFound("sandbox", id)
	}
	if err != nil {
		return fmt.Errorf("delete sandbox %q: %w", id, err)
	}
	return nil
}

// Invitation is the result of inviting a user into a sandbox: the user and
// the ids of all the sandbox groups it is a member of.
type Invitation struct {
	UserID   string   `json:"userId"`
	UserName string   `json:"userName"`
	GroupIDs []string `json:"groups"`
}

// Invite adds the user with userName to the sandbox groups named by id or
// displayName. Unknown user or group: storage.ErrNotFound naming it, and
// nothing changes. The Invitation lists every sandbox group the user is in
// afterwards, ordered by displayName, including groups it was in before.
//
// userName and displayName are compared case-insensitively. The user and
// every group are looked up before the first membership is added.
func (s *Service) Invite(ctx context.Context, sandboxID, userName string, groups []string) (*Invitation, error) {
	if strings.TrimSpace(userName) == "" {
		return nil, invalid("invalidValue", "userName is missing: name the user to invite")
	}
	if len(groups) == 0 {
		return nil, invalid("invalidValue", "groups is empty: name at least one group of the sandbox")
	}
	sb, err := s.GetSandbox(ctx, sandboxID)
	if err != nil {
		return nil, err
	}
	t := &Tenant{ID: sb.ID, Key: sb.Key}

	user, err := s.userByName(ctx, userName)
	if err != nil {
		return nil, err
	}
	targets, err := s.resolveGroups(ctx, t, groups)
	if err != nil {
		return nil, err
	}

	for _, g := range targets {
		err := s.addMember(ctx, t, g.ID, user.ID)
		if errors.Is(err, storage.ErrMemberNotFound) {
			// The user was deleted after it was looked up.
			return nil, notFound("user", userName)
		}
		if err != nil {
			// NOTE: the store has no transaction across groups, so
			// memberships added to earlier groups stay when a later group
			// fails (for example because it was deleted meanwhile).
			return nil, fmt.Errorf("invite user %q into sandbox %q: %w", user.ID, sb.ID, err)
		}
	}

	refs, err := s.UserGroups(ctx, t, []string{user.ID})
	if err != nil {
		return nil, err
	}
	inv := &Invitation{UserID: user.ID, UserName: user.UserName(), GroupIDs: []string{}}
	for _, ref := range refs[user.ID] {
		inv.GroupIDs = append(inv.GroupIDs, ref.GroupID)
	}
	return inv, nil
}

// userByName finds the user whose userName equals name, compared
// case-insensitively as RFC 7643 defines userName.
func (s *Service) userByName(ctx context.Context, name string) (*storage.User, error) {
	filter, err := equalsFilter(userResource(), "userName", name)
	if err != nil {
		return nil, fmt.Errorf("build userName filter: %w", err)
	}
	page, err := s.store.QueryUsers(ctx, storage.MainTenant, storage.Query{Filter: filter, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("find user %q: %w", name, err)
	}
	if len(page.Items) == 0 {
		return nil, &Error{Kind: storage.ErrNotFound, Detail: fmt.Sprintf("no user has userName %q", name)}
	}
	return page.Items[0], nil
}

// resolveGroups finds each named group of the tenant, first by id and then
// by displayName (case-insensitive), and drops repeated groups.
func (s *Service) resolveGroups(ctx context.Context, t *Tenant, names []string) ([]*storage.Group, error) {
	var found []*storage.Group
	seen := make(map[string]bool)
	for _, name := range names {
		g, err := s.groupByIDOrName(ctx, t, name)
		if err != nil {
			return nil, err
		}
		if !seen[g.ID] {
			seen[g.ID] = true
			found = append(found, g)
		}
	}
	return found, nil
}

func (s *Service) groupByIDOrName(ctx context.Context, t *Tenant, name string) (*storage.Group, error) {
	g, err := s.store.GetGroup(ctx, t.Key, name)
	if err == nil {
		return g, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("get group %q: %w", name, err)
	}

	filter, err := equalsFilter(groupResource(), "displayName", name)
	if err != nil {
		return nil, fmt.Errorf("build displayName filter: %w", err)
	}
	page, err := s.store.QueryGroups(ctx, t.Key, storage.Query{Filter: filter, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("find group %q: %w", name, err)
	}
	if len(page.Items) == 0 {
		return nil, &Error{
			Kind:   storage.ErrNotFound,
			Detail: fmt.Sprintf("sandbox %q has no group with id or displayName %q", t.ID, name),
		}
	}
	return page.Items[0], nil
}

// addMember makes the user a member of the group, leaving the group
// unchanged (and its version as it is) when it already is one.
func (s *Service) addMember(ctx context.Context, t *Tenant, groupID, userID string) error {
	member, err := s.store.IsMember(ctx, t.Key, groupID, userID)
	if err != nil {
		return fmt.Errorf("check membership in group %q: %w", groupID, err)
	}
	if member {
		return nil
	}
	_, err = s.store.UpdateGroup(ctx, t.Key, groupID, s.now(), func(*storage.Group) (*storage.MemberChange, error) {
		return &storage.MemberChange{Add: []string{userID}}, nil
	})
	if err != nil {
		return fmt.Errorf("add member to group %q: %w", groupID, err)
	}
	return nil
}
