package scimserver

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/scimd/scimd/storage"
	"github.com/scimd/scimd/tenants"
)

// errUnauthorized is the one client error of every failed authentication.
// A missing header, another scheme, an unknown sandbox, a revoked
// credential and another tenant's credential all read the same, so that a
// response reveals nothing about other tenants.
var errUnauthorized = &tenants.Error{
	Kind:   tenants.ErrUnauthorized,
	Detail: "missing or invalid bearer credential",
}

// authenticate resolves the tenant of a SCIM request from its
// {sandbox} path value (none for the main account), checks the bearer
// credential against it and passes the tenant on in the context, where
// tenantFrom finds it.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoFrom(r.Context())
		if info != nil {
			// Until a SCIM route takes over, the request is labelled with
			// the prefix pattern, which has one value per tenant kind.
			info.route = r.Pattern
		}
		t, cred, err := s.authorize(r, r.PathValue("sandbox"), false)
		if err != nil {
			setChallenge(w, r, err)
			s.writeError(w, r, err)
			return
		}
		if info != nil {
			info.tenantID = t.ID
			info.credentialID = cred.ID
		}
		next.ServeHTTP(w, r.WithContext(withTenant(r.Context(), t)))
	})
}

// authorize checks the request's bearer credential: against the tenant of
// sandboxID (the main account for ""), or against the admin credentials
// when admin is set. A failure is errUnauthorized, or a wrapped store
// error that is not the client's fault.
func (s *Server) authorize(r *http.Request, sandboxID string, admin bool) (*tenants.Tenant, *storage.Credential, error) {
	token, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		return nil, nil, errUnauthorized
	}
	var (
		t          *tenants.Tenant
		resolveErr error
	)
	if !admin {
		t, resolveErr = s.svc.Resolve(r.Context(), sandboxID)
	}
	// The credential is looked up even for an unknown sandbox, against a
	// tenant that no credential has, so that both 401s take the same
	// store round trips and their timing does not tell whether the
	// sandbox exists.
	checked := t
	if resolveErr != nil {
		checked = unknownTenant
	}
	cred, err := s.svc.Authenticate(r.Context(), checked, token)
	if resolveErr != nil {
		return nil, nil, authError("resolve tenant", resolveErr)
	}
	if err != nil {
		return nil, nil, authError("authenticate", err)
	}
	return t, cred, nil
}

// unknownTenant is a tenant whose key no credential has: sandbox keys are
// random hex and never empty.
var unknownTenant = &tenants.Tenant{ID: "", Key: ""}

// authError maps every "who are you" failure to errUnauthorized and wraps
// the rest, which are store failures.
func authError(op string, err error) error {
	if errors.Is(err, tenants.ErrUnauthorized) || errors.Is(err, storage.ErrNotFound) {
		return errUnauthorized
	}
	return fmt.Errorf("%s: %w", op, err)
}

// setChallenge sets the WWW-Authenticate challenge of RFC 6750 §3 that
// goes with a 401 response when err is an authentication failure.
func setChallenge(w http.ResponseWriter, r *http.Request, err error) {
	if !errors.Is(err, tenants.ErrUnauthorized) {
		return
	}
	challenge := `Bearer realm="scimd"`
	if r.Header.Get("Authorization") != "" {
		challenge += `, error="invalid_token"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
}

// bearerToken returns the credential of an "Authorization: Bearer <token>"
// header. The scheme is case-insensitive (RFC 7235 §2.1); the token is
// taken as it is, without surrounding spaces.
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", false
	}
	return token, true
}
