// Package tenants holds the product's domain rules: the main account owns
// the users, each sandbox owns its groups, a user belongs to a sandbox
// exactly when it is a member of one of the sandbox's groups, and
// credentials are scoped to one tenant. Every rule of the service lives
// here; package scimserver only translates HTTP to these calls and
// package storage only stores.
package tenants

import (
	"errors"

	"github.com/scimd/scimd/storage"
)

// Errors that Service methods return wrapped in an *Error. Storage
// sentinels (storage.ErrNotFound, storage.ErrAlreadyExists) are wrapped
// the same way.
var (
	// ErrForbidden: the operation is not allowed on this tenant (for
	// example creating a user on a sandbox).
	ErrForbidden = errors.New("forbidden")
	// ErrPreconditionFailed: an If-Match version does not match.
	ErrPreconditionFailed = errors.New("precondition failed")
	// ErrUnauthorized: the credential is missing, unknown, revoked or for
	// another tenant.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrInvalid: the request is invalid in a way that is not a schema
	// error (for example a malformed sandbox id).
	ErrInvalid = errors.New("invalid request")
)

// Error is a client error of a Service method: Kind is one of the errors
// above or a storage sentinel, Detail is text safe to show to the client.
// ScimType is set where RFC 7644 §3.12 defines one (uniqueness,
// invalidValue, ...).
type Error struct {
	Kind     error
	ScimType string
	Detail   string
}

func (e *Error) Error() string { return e.Detail }

// Unwrap returns Kind, so that errors.Is(err, storage.ErrNotFound) works.
func (e *Error) Unwrap() error { return e.Kind }

// Tenant is the tenant a request is addressed to: the main account or one
// sandbox.
type Tenant struct {
	// ID is "main" for the main account, or the sandbox id.
	ID string
	// Key is storage.MainTenant or the sandbox's storage key.
	Key string
}

// IsMain reports whether the tenant is the main account.
func (t *Tenant) IsMain() bool { return t.Key == storage.MainTenant }

// Main is the main account.
var Main = &Tenant{ID: "main", Key: storage.MainTenant}

// AnyVersion is the ifVersion argument for an unconditional write.
const AnyVersion int64 = 0

// NoVersion is the ifVersion argument for an If-Match that no version can
// match (a malformed or foreign entity tag): the write fails with
// ErrPreconditionFailed if the resource exists.
const NoVersion int64 = -1
