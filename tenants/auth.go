package tenants

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/scimd/scimd/storage"
)

// tokenPrefix starts every secret that scimd issues, so that secret
// scanners and operators recognise one.
const tokenPrefix = "scimd_"

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

func errUnauthorized() *Error {
	return &Error{Kind: ErrUnauthorized, Detail: "the credential is missing, invalid or not valid for this endpoint"}
}

// hashToken returns the SHA-256 of a secret. Issued secrets carry 256
// random bits, so a slow password hash would add nothing.
func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// newToken returns a new secret: the prefix and 32 random bytes in
// unpadded base64url.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// Resolve returns the tenant for a sandbox id, or Main for "". An unknown
// sandbox is ErrUnauthorized, so that its existence is not revealed.
func (s *Service) Resolve(ctx context.Context, sandboxID string) (*Tenant, error) {
	if sandboxID == "" {
		return Main, nil
	}
	sb, err := s.store.GetSandbox(ctx, sandboxID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errUnauthorized()
	}
	if err != nil {
		return nil, fmt.Errorf("resolve sandbox %q: %w", sandboxID, err)
	}
	return &Tenant{ID: sb.ID, Key: sb.Key}, nil
}

// Authenticate checks a bearer secret for the tenant (nil tenant: the
// admin API) and returns the credential. Wrong tenant, unknown or revoked:
// ErrUnauthorized.
func (s *Service) Authenticate(ctx context.Context, t *Tenant, token string) (*storage.Credential, error) {
	if token == "" {
		return nil, errUnauthorized()
	}
	hash := hashToken(token)
	c, err := s.store.CredentialByHash(ctx, hash)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errUnauthorized()
	}
	if err != nil {
		return nil, fmt.Errorf("find credential: %w", err)
	}

	// The lookup by hash already matched; the constant-time comparison
	// guards against a backend whose index compares loosely.
	if subtle.ConstantTimeCompare(c.Hash, hash) != 1 {
		return nil, errUnauthorized()
	}
	want := storage.AdminTenant
	if t != nil {
		want = t.Key
	}
	if c.Tenant != want {
		return nil, errUnauthorized()
	}
	return c, nil
}

// tenantKey returns the Credential.Tenant for a tenant id as the admin
// API names it: "admin", "main" or a sandbox id.
func (s *Service) tenantKey(ctx context.Context, tenantID string) (string, error) {
	switch tenantID {
	case storage.AdminTenant, storage.MainTenant:
		return tenantID, nil
	case "":
		return "", invalid("invalidValue", `tenant is missing: give "main" or a sandbox id`)
	}
	sb, err := s.GetSandbox(ctx, tenantID)
	if err != nil {
		return "", err
	}
	return sb.Key, nil
}

// IssueCredential creates a credential for the tenant ("admin", "main" or
// a sandbox id) and returns it with its secret, which is not stored.
func (s *Service) IssueCredential(ctx context.Context, tenantID, description string) (*IssuedCredential, error) {
	key, err := s.tenantKey(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if len(description) > maxDisplayNameLength {
		return nil, invalid("invalidValue", "description is longer than %d bytes", maxDisplayNameLength)
	}
	token, err := newToken()
	if err != nil {
		return nil, err
	}

	c := &storage.Credential{
		ID:          s.newID(),
		Tenant:      key,
		Description: description,
		Created:     s.now(),
		Hash:        hashToken(token),
	}
	err = s.store.CreateCredential(ctx, c)
	if errors.Is(err, storage.ErrTenantNotFound) {
		// The sandbox was deleted since tenantKey looked it up.
		return nil, notFound("sandbox", tenantID)
	}
	if err != nil {
		return nil, fmt.Errorf("create credential for tenant %q: %w", tenantID, err)
	}
	return &IssuedCredential{Credential: withoutHash(c), TenantID: tenantID, Token: token}, nil
}

// withoutHash returns a copy of c without the hash, for callers that show
// credentials.
func withoutHash(c *storage.Credential) *storage.Credential {
	copied := *c
	copied.Hash = nil
	return &copied
}

// ListCredentials returns every credential without its hash. Credentials
// of a deleted sandbox that the store has not removed yet are left out,
// because they no longer authenticate anywhere.
func (s *Service) ListCredentials(ctx context.Context) ([]CredentialInfo, error) {
	creds, err := s.store.ListCredentials(ctx)
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	sandboxes, err := s.ListSandboxes(ctx)
	if err != nil {
		return nil, err
	}
	sandboxByKey := make(map[string]string, len(sandboxes))
	for _, sb := range sandboxes {
		sandboxByKey[sb.Key] = sb.ID
	}

	list := make([]CredentialInfo, 0, len(creds))
	for _, c := range creds {
		tenantID := c.Tenant
		if c.Tenant != storage.AdminTenant && c.Tenant != storage.MainTenant {
			id, ok := sandboxByKey[c.Tenant]
			if !ok {
				continue
			}
			tenantID = id
		}
		list = append(list, CredentialInfo{Credential: withoutHash(c), TenantID: tenantID})
	}
	return list, nil
}

// RevokeCredential deletes the credential; it authenticates nothing from
// the moment this returns.
//
// The last admin credential cannot be revoked, so that an operator cannot
// lock the admin API by mistake. Two revocations racing for the last two
// admin credentials can still both succeed, and a restart then creates a
// new admin credential as on a first start.
func (s *Service) RevokeCredential(ctx context.Context, id string) error {
	creds, err := s.store.ListCredentials(ctx)
	if err != nil {
		return fmt.Errorf("list credentials: %w", err)
	}
	admins, target := 0, -1
	for i, c := range creds {
		if c.Tenant == storage.AdminTenant {
			admins++
		}
		if c.ID == id {
			target = i
		}
	}
	if target >= 0 && creds[target].Tenant == storage.AdminTenant && admins == 1 {
		return invalid("invalidValue",
			"credential %q is the last admin credential: issue another admin credential before revoking it", id)
	}

	err = s.store.DeleteCredential(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return notFound("credential", id)
	}
	if err != nil {
		return fmt.Errorf("revoke credential %q: %w", id, err)
	}
	return nil
}

// EnsureAdminCredential stores the hash of the configured admin secret if
// one is given. Without one, and when no admin credential is stored, it
// creates one and returns its secret so that the caller prints it once.
func (s *Service) EnsureAdminCredential(ctx context.Context, configured string) (created string, err error) {
	if configured != "" {
		return "", s.storeConfiguredAdmin(ctx, configured)
	}

	creds, err := s.store.ListCredentials(ctx)
	if err != nil {
		return "", fmt.Errorf("list credentials: %w", err)
	}
	for _, c := range creds {
		if c.Tenant == storage.AdminTenant {
			return "", nil
		}
	}
	// NOTE: replicas starting together against an empty store may each
	// create an admin credential; every one of them is valid.
	issued, err := s.IssueCredential(ctx, storage.AdminTenant, bootstrapAdminDescription)
	if err != nil {
		return "", fmt.Errorf("create admin credential: %w", err)
	}
	return issued.Token, nil
}

// Descriptions of the admin credentials that scimd manages itself, as
// opposed to admin credentials issued through the admin API.
const (
	bootstrapAdminDescription  = "created at first start"
	configuredAdminDescription = "configured admin credential"
)

// storeConfiguredAdmin makes the configured secret an admin credential.
// It revokes the admin credentials that scimd created for an earlier
// configured secret or at first start, so that rotating the configured
// secret after a leak stops the old one from working. Admin credentials
// issued through the admin API stay.
func (s *Service) storeConfiguredAdmin(ctx context.Context, secret string) error {
	if err := s.addConfiguredAdmin(ctx, secret); err != nil {
		return err
	}
	creds, err := s.store.ListCredentials(ctx)
	if err != nil {
		return fmt.Errorf("list credentials: %w", err)
	}
	hash := hashToken(secret)
	for _, c := range creds {
		managed := c.Description == configuredAdminDescription || c.Description == bootstrapAdminDescription
		if c.Tenant != storage.AdminTenant || !managed || subtle.ConstantTimeCompare(c.Hash, hash) == 1 {
			continue
		}
		err := s.store.DeleteCredential(ctx, c.ID)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("revoke earlier admin credential %q: %w", c.ID, err)
		}
		s.logger.InfoContext(ctx, "revoked an earlier admin credential replaced by the configured secret",
			"credential_id", c.ID, "description", c.Description)
	}
	return nil
}

func (s *Service) addConfiguredAdmin(ctx context.Context, secret string) error {
	hash := hashToken(secret)
	existing, err := s.store.CredentialByHash(ctx, hash)
	switch {
	case err == nil && existing.Tenant == storage.AdminTenant:
		return nil
	case err == nil:
		return errors.New("store configured admin credential: the secret is already " +
			"a credential of another tenant; configure a different admin secret")
	case !errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("find configured admin credential: %w", err)
	}

	c := &storage.Credential{
		ID:          s.newID(),
		Tenant:      storage.AdminTenant,
		Description: configuredAdminDescription,
		Created:     s.now(),
		Hash:        hash,
	}
	err = s.store.CreateCredential(ctx, c)
	if errors.Is(err, storage.ErrAlreadyExists) {
		// Another replica most likely stored the same secret since the
		// lookup; a credential of another tenant is caught at the next start.
		s.logger.WarnContext(ctx, "configured admin credential already stored by a concurrent start",
			"error", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("store configured admin credential: %w", err)
	}
	return nil
}
