// Package storage defines how scimd keeps its data: the Store interface
// that every backend implements, the records it stores and the sentinel
// errors it returns. The backends live in the sqlite and mongodb
// subpackages; storagetest holds the conformance suite that both pass.
//
// The storage layer depends on SCIM schemas, because it translates
// schemas.Filter into its query language, but not on HTTP or on the
// product's tenancy rules, which live in package tenants.
package storage

import (
	"context"
	"errors"
	"time"

	"github.com/scimd/scimd/schemas"
)

// Sentinel errors. Backends translate driver errors into these at their
// edge, and wrap them with %w and the operation; callers test with
// errors.Is.
var (
	// ErrNotFound: the record does not exist (in the tenant given).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a record with the same unique key exists: a user
	// with the same userName (case-insensitive), a group with the same
	// displayName in the same tenant (case-insensitive), a sandbox or
	// credential with the same id.
	ErrAlreadyExists = errors.New("already exists")
	// ErrMemberNotFound: a group member names a user that does not exist.
	// The error is a *MemberNotFoundError, which names the user id.
	ErrMemberNotFound = errors.New("member not found")
	// ErrInvalidCursor: a Query.After or Query.AfterKey value that the
	// backend cannot use.
	ErrInvalidCursor = errors.New("invalid cursor")
	// ErrTenantNotFound: the tenant key names no live sandbox, because the
	// sandbox never existed or was deleted.
	ErrTenantNotFound = errors.New("tenant not found")
	// ErrVersionMismatch: a conditional write found the record with a
	// version other than the one it was given, and changed nothing.
	ErrVersionMismatch = errors.New("version mismatch")
)

// MemberNotFoundError names the user id that a membership change referred
// to and that does not exist. It matches ErrMemberNotFound with errors.Is.
type MemberNotFoundError struct{ UserID string }

func (e *MemberNotFoundError) Error() string { return "member not found: user " + e.UserID }

// Is makes errors.Is(err, ErrMemberNotFound) true.
func (e *MemberNotFoundError) Is(target error) bool { return target == ErrMemberNotFound }

// MainTenant is the tenant key of the main account. Sandboxes have a
// random key of their own (Sandbox.Key), so that a sandbox id deleted and
// created again never reaches the data of its predecessor.
const MainTenant = "main"

// User is a user record. Users are global: one record, whatever tenants
// the user belongs to through group memberships.
type User struct {
	ID string
	// Attributes holds the user's SCIM attributes as validated by package
	// schemas, with canonical attribute names: schemas, userName, name,
	// emails, extension attributes under their URN key and so on. It never
	// contains id, meta or groups, which the store owns or derives.
	Attributes   map[string]any
	Created      time.Time
	LastModified time.Time
	// Version starts at 1 and grows on every change of the record and on
	// every change of the user's group memberships in any tenant, because
	// each tenant's view of the user lists its groups.
	Version int64
}

// UserName returns the userName attribute.
func (u *User) UserName() string { s, _ := u.Attributes["userName"].(string); return s }

// Group is a group record of one tenant. Its members are stored apart,
// one membership per (group, user), so that a group can have any number
// of members and a change of one member touches only that membership.
type Group struct {
	ID     string
	Tenant string // MainTenant or a Sandbox.Key
	// Attributes holds displayName, externalId, schemas and any other
	// attribute except id, meta and members.
	Attributes   map[string]any
	Created      time.Time
	LastModified time.Time
	// Version grows on every change of the group, its attributes or its
	// members, and when a member's display text (displayName, else
	// userName) changes, because the group lists it.
	Version int64
}

// DisplayName returns the displayName attribute.
func (g *Group) DisplayName() string { s, _ := g.Attributes["displayName"].(string); return s }

// Member is one member of a group as read back: the user id and the
// user's current display text (displayName, or userName when it has none).
type Member struct {
	UserID  string
	Display string
}

// GroupRef is one group of a user as listed in the user's groups
// attribute.
type GroupRef struct {
	GroupID     string
	DisplayName string
}

// MemberChange is a change to a group's membership, applied to the stored
// memberships and never by writing back a member list read earlier. When
// Replace is true the members become exactly Set. Otherwise Add and Remove
// are applied, and removing a non-member or adding a member does nothing.
type MemberChange = schemas.MemberPatch

// Sandbox is a tenant other than the main account.
type Sandbox struct {
	ID          string // the name in URLs, unique among live sandboxes
	Key         string // random, never reused; the Tenant of its groups
	DisplayName string
	Created     time.Time
}

// Credential is a bearer credential. Only a hash of the secret is stored.
type Credential struct {
	ID string
	// Tenant is "admin" for administrator credentials, MainTenant, or the
	// Key of a sandbox.
	Tenant      string
	Description string
	Created     time.Time
	// Hash is the SHA-256 of the secret. Secrets are 256-bit random
	// values, so a fast hash is sufficient.
	Hash []byte
}

// AdminTenant is the Credential.Tenant of administrator credentials.
const AdminTenant = "admin"

// Query selects, orders and pages users or groups.
type Query struct {
	// Filter restricts the result; nil selects everything.
	Filter schemas.Filter
	// SortBy orders by a singular attribute, then by id among equal
	// values; nil orders by id. Resources without a value sort last in
	// ascending order, in id order. Descending is exactly the reverse of
	// ascending: resources without a value first, and ties and those
	// without a value in descending id order.
	SortBy     *schemas.Path
	Descending bool
	// Offset skips that many results (startIndex - 1). Ignored when After
	// or AfterKey is set.
	Offset int
	// Limit is the maximum number of results; 0 returns none (but Total is
	// still counted when requested).
	Limit int
	// After continues after the resource with this id in id order (cursor
	// pagination). It cannot be combined with SortBy or AfterKey.
	After string
	// AfterKey continues strictly after the position given by the
	// Page.LastKey of an earlier query with the same Filter, SortBy and
	// Descending, sorted or not (cursor pagination). Resources created or
	// deleted in between neither repeat nor shift the rest. It is opaque
	// to callers; a value the backend cannot read is ErrInvalidCursor.
	AfterKey string
	// Count requests Page.Total.
	Count bool
}

// Page is one page of a query result.
type Page[T any] struct {
	Items []T
	// Total is the number of resources matching the filter, when
	// Query.Count was set.
	Total int
	// More reports whether resources follow the last one returned.
	More bool
	// LastKey is the position of the last item returned, for
	// Query.AfterKey: its sort value and id. It is set whenever Items is
	// not empty, whatever the query's order.
	LastKey string
}

// Store is the storage interface of scimd.
//
// Every method may run concurrently with any other. Each write is atomic,
// taking effect entirely or not at all, and a read that starts after a
// write returned reflects it (read-your-writes, also for queries). The
// MongoDB backend is atomic only where the deployment has transactions (a
// replica set or a sharded cluster). Without them it orders its writes so
// that a failure half-way leaves nothing a read shows, except where a NOTE
// in that backend states an exception.
//
// Users are global; groups, memberships and credentials belong to a tenant
// (MainTenant or a sandbox key). Group methods take the tenant and answer
// ErrNotFound for a group of another tenant, exactly as for an id that
// exists nowhere.
type Store interface {
	// CreateUser stores a new user with u.ID, u.Created and u.LastModified
	// set by the caller and Version 1. It returns ErrAlreadyExists if
	// another user has the same userName, compared case-insensitively.
	CreateUser(ctx context.Context, u *User) error
	// GetUser returns ErrNotFound for an unknown id.
	GetUser(ctx context.Context, id string) (*User, error)
	// UpdateUser reads the user, calls update on a copy and stores the
	// result if the version has not changed in between, with Version
	// incremented and LastModified set to now. update may run more than
	// once and may return an error to abort. It returns ErrNotFound,
	// ErrAlreadyExists (userName taken) or update's error.
	UpdateUser(ctx context.Context, id string, now time.Time, update func(*User) error) (*User, error)
	// DeleteUser deletes the user and all of its memberships in every
	// tenant. ifVersion 0 deletes whatever the version. Any other value
	// deletes only if it equals the user's version, checked in the same
	// atomic step as the deletion, so a negative value never matches. On a
	// mismatch it returns ErrVersionMismatch and deletes nothing. It
	// returns ErrNotFound for an unknown id, whatever ifVersion is.
	DeleteUser(ctx context.Context, id string, ifVersion int64) error
	// QueryUsers lists users. For MainTenant it lists all users; for a
	// sandbox key it lists only users that are members of at least one
	// group of that sandbox. Filters on groups.value and groups.display
	// refer to the groups of the tenant given.
	QueryUsers(ctx context.Context, tenant string, q Query) (*Page[*User], error)
	// UserGroups returns, for each user id given, the groups of the
	// tenant that the user is a member of, ordered by displayName.
	UserGroups(ctx context.Context, tenant string, userIDs []string) (map[string][]GroupRef, error)
	// RemoveUserFromTenant deletes every membership of the user in the
	// tenant's groups and returns how many there were. The groups'
	// versions change.
	RemoveUserFromTenant(ctx context.Context, tenant, userID string) (int, error)

	// CreateGroup stores a new group with g.ID set by the caller and
	// Version 1, and makes members its members. It returns
	// ErrAlreadyExists if the tenant has a group with the same
	// displayName (case-insensitive), and a *MemberNotFoundError if a
	// member does not exist. It returns ErrTenantNotFound if g.Tenant is
	// not MainTenant and no sandbox has that key. After an error nothing
	// is stored. When DeleteSandbox runs at the same time, either it
	// removes the new group too or CreateGroup fails. Only a backend
	// without transactions that stops half-way may leave an unreachable
	// group.
	CreateGroup(ctx context.Context, g *Group, members []string) error
	// GetGroup returns ErrNotFound for an id unknown in the tenant.
	GetGroup(ctx context.Context, tenant, id string) (*Group, error)
	// UpdateGroup reads the group, calls update on a copy, and stores the
	// attributes it leaves and the membership change it returns, in one
	// atomic step guarded by the version (update may run more than once).
	// A nil change leaves the members as they are. It returns
	// ErrNotFound, ErrAlreadyExists (displayName taken in the tenant), a
	// *MemberNotFoundError, or update's error.
	UpdateGroup(ctx context.Context, tenant, id string, now time.Time, update func(*Group) (*MemberChange, error)) (*Group, error)
	// DeleteGroup deletes the group and its memberships. It returns
	// ErrNotFound for an id unknown in the tenant, and treats ifVersion
	// as DeleteUser does: 0 deletes whatever the version, any other value
	// only a group of that version, else ErrVersionMismatch.
	DeleteGroup(ctx context.Context, tenant, id string, ifVersion int64) error
	// QueryGroups lists the tenant's groups.
	QueryGroups(ctx context.Context, tenant string, q Query) (*Page[*Group], error)
	// ListMembers returns up to limit members of the group in user id
	// order, starting after the user id after ("" for the start), so that
	// a member list of any size is read in bounded pieces.
	ListMembers(ctx context.Context, tenant, groupID, after string, limit int) ([]Member, error)
	// IsMember reports whether the user is a member of the group.
	IsMember(ctx context.Context, tenant, groupID, userID string) (bool, error)

	// CreateSandbox returns ErrAlreadyExists if a sandbox with the id
	// exists.
	CreateSandbox(ctx context.Context, s *Sandbox) error
	GetSandbox(ctx context.Context, id string) (*Sandbox, error)
	ListSandboxes(ctx context.Context) ([]*Sandbox, error)
	// DeleteSandbox deletes the sandbox and then its groups, memberships
	// and credentials. Once the sandbox record is gone its key is never
	// used again, so a failure half-way leaves only unreachable records,
	// which a later DeleteSandbox of any sandbox does not need to see.
	DeleteSandbox(ctx context.Context, id string) error

	// CreateCredential returns ErrAlreadyExists for a duplicate id or
	// hash. It returns ErrTenantNotFound if c.Tenant is neither
	// MainTenant nor AdminTenant and no sandbox has that key. After an
	// error nothing is stored. It behaves as CreateGroup when
	// DeleteSandbox runs at the same time.
	CreateCredential(ctx context.Context, c *Credential) error
	// CredentialByHash returns ErrNotFound when no credential has the hash.
	CredentialByHash(ctx context.Context, hash []byte) (*Credential, error)
	ListCredentials(ctx context.Context) ([]*Credential, error)
	DeleteCredential(ctx context.Context, id string) error

	// Ping does a round trip to the store (readiness).
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}
