package tenants

// This file declares the Service API that package scimserver builds
// against. Each declaration moves to its real file when implemented.

import (
	"context"
	"log/slog"
	"time"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/storage"
)

// Service applies the domain rules on top of a storage.Store. It is safe
// for concurrent use.
type Service struct {
	store  storage.Store
	now    func() time.Time
	newID  func() string
	logger *slog.Logger
}

// Options configures a Service. Zero values select the defaults.
type Options struct {
	Now    func() time.Time // default time.Now
	NewID  func() string    // default random UUIDv4
	Logger *slog.Logger     // default slog.Default()
}

// UserPage is one page of users with the groups of the tenant that each
// is a member of.
type UserPage struct {
	Users  []*storage.User
	Groups map[string][]storage.GroupRef // by user id
	Total  int
	More   bool
}

// GroupPage is one page of groups.
type GroupPage struct {
	Groups []*storage.Group
	Total  int
	More   bool
}

// Invitation is the result of inviting a user into a sandbox.
type Invitation struct {
	UserID   string   `json:"userId"`
	UserName string   `json:"userName"`
	GroupIDs []string `json:"groups"`
}

// IssuedCredential is a new credential with its secret, shown once.
type IssuedCredential struct {
	Credential *storage.Credential
	TenantID   string // "admin", "main" or the sandbox id
	Token      string
}

// CredentialInfo is a stored credential as listed to administrators.
type CredentialInfo struct {
	Credential *storage.Credential
	TenantID   string // "admin", "main" or the sandbox id
}

var (
	_ = schemas.PatchOp{}
	_ context.Context
)

// Method set of Service. Each stub is replaced by its implementation.

func New(store storage.Store, opts Options) *Service { panic("not implemented") }

// Tenant resolution and authentication.

// Resolve returns the tenant for a sandbox id, or Main for "". An unknown
// sandbox is ErrUnauthorized, so that its existence is not revealed.
func (s *Service) Resolve(ctx context.Context, sandboxID string) (*Tenant, error) {
	panic("not implemented")
}

// Authenticate checks a bearer secret for the tenant (nil tenant: the
// admin API) and returns the credential. Wrong tenant, unknown or revoked:
// ErrUnauthorized.
func (s *Service) Authenticate(ctx context.Context, t *Tenant, token string) (*storage.Credential, error) {
	panic("not implemented")
}

// Users. attrs is the decoded request body; validation happens here.

func (s *Service) CreateUser(ctx context.Context, t *Tenant, body map[string]any) (*storage.User, error) {
	panic("not implemented")
}
func (s *Service) GetUser(ctx context.Context, t *Tenant, id string) (*storage.User, error) {
	panic("not implemented")
}
func (s *Service) ReplaceUser(ctx context.Context, t *Tenant, id string, body map[string]any, ifVersion int64) (*storage.User, error) {
	panic("not implemented")
}
func (s *Service) PatchUser(ctx context.Context, t *Tenant, id string, ops []schemas.PatchOp, ifVersion int64) (*storage.User, error) {
	panic("not implemented")
}
func (s *Service) DeleteUser(ctx context.Context, t *Tenant, id string, ifVersion int64) error {
	panic("not implemented")
}
func (s *Service) QueryUsers(ctx context.Context, t *Tenant, q storage.Query, withGroups bool) (*UserPage, error) {
	panic("not implemented")
}
func (s *Service) UserGroups(ctx context.Context, t *Tenant, userIDs []string) (map[string][]storage.GroupRef, error) {
	panic("not implemented")
}

// Groups. members are user ids taken from the body's members attribute.

func (s *Service) CreateGroup(ctx context.Context, t *Tenant, body map[string]any) (*storage.Group, error) {
	panic("not implemented")
}
func (s *Service) GetGroup(ctx context.Context, t *Tenant, id string) (*storage.Group, error) {
	panic("not implemented")
}
func (s *Service) ReplaceGroup(ctx context.Context, t *Tenant, id string, body map[string]any, ifVersion int64) (*storage.Group, error) {
	panic("not implemented")
}
func (s *Service) PatchGroup(ctx context.Context, t *Tenant, id string, ops []schemas.PatchOp, ifVersion int64) (*storage.Group, error) {
	panic("not implemented")
}
func (s *Service) DeleteGroup(ctx context.Context, t *Tenant, id string, ifVersion int64) error {
	panic("not implemented")
}
func (s *Service) QueryGroups(ctx context.Context, t *Tenant, q storage.Query) (*GroupPage, error) {
	panic("not implemented")
}
func (s *Service) ListMembers(ctx context.Context, t *Tenant, groupID, after string, limit int) ([]storage.Member, error) {
	panic("not implemented")
}

// Administration.

func (s *Service) CreateSandbox(ctx context.Context, id, displayName string) (*storage.Sandbox, error) {
	panic("not implemented")
}
func (s *Service) GetSandbox(ctx context.Context, id string) (*storage.Sandbox, error) {
	panic("not implemented")
}
func (s *Service) ListSandboxes(ctx context.Context) ([]*storage.Sandbox, error) {
	panic("not implemented")
}
func (s *Service) DeleteSandbox(ctx context.Context, id string) error { panic("not implemented") }
func (s *Service) IssueCredential(ctx context.Context, tenantID, description string) (*IssuedCredential, error) {
	panic("not implemented")
}
func (s *Service) ListCredentials(ctx context.Context) ([]CredentialInfo, error) {
	panic("not implemented")
}
func (s *Service) RevokeCredential(ctx context.Context, id string) error { panic("not implemented") }

// Invite adds the user with userName to the sandbox groups named by id or
// displayName. Unknown user or group: storage.ErrNotFound naming it, and
// nothing changes.
func (s *Service) Invite(ctx context.Context, sandboxID, userName string, groups []string) (*Invitation, error) {
	panic("not implemented")
}

// EnsureAdminCredential stores the configured admin secret's hash if one
// is given; otherwise, when no admin credential is stored, it creates one
// and returns its secret so that the caller prints it once.
func (s *Service) EnsureAdminCredential(ctx context.Context, configured string) (created string, err error) {
	panic("not implemented")
}
