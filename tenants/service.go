package tenants

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

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

// New returns a Service that keeps its data in store.
func New(store storage.Store, opts Options) *Service {
	s := &Service{store: store, now: opts.Now, newID: opts.NewID, logger: opts.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = uuid.NewString
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	return s
}

// UserPage is one page of users with the groups of the tenant that each
// is a member of.
type UserPage struct {
	Users  []*storage.User
	Groups map[string][]storage.GroupRef // by user id
	Total  int
	More   bool
	// LastKey continues after the last user (storage.Query.AfterKey).
	LastKey string
}

// GroupPage is one page of groups.
type GroupPage struct {
	Groups []*storage.Group
	Total  int
	More   bool
	// LastKey continues after the last group (storage.Query.AfterKey).
	LastKey string
}

// notFound returns the client error for a resource that does not exist or
// that is not visible to the tenant. Both read the same, so nothing is
// revealed about other tenants.
func notFound(kind, id string) *Error {
	return &Error{Kind: storage.ErrNotFound, Detail: fmt.Sprintf("%s %q not found", kind, id)}
}

func invalid(scimType, format string, args ...any) *Error {
	return &Error{Kind: ErrInvalid, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// checkVersion implements If-Match: AnyVersion matches every version,
// NoVersion none, and any other value only itself.
func checkVersion(kind, id string, stored, ifVersion int64) error {
	if ifVersion == AnyVersion || ifVersion == stored {
		return nil
	}
	return preconditionFailed(kind, id)
}

// preconditionFailed returns the client error for an If-Match that does
// not match the resource's version.
func preconditionFailed(kind, id string) *Error {
	// RFC 7644 §3.14 gives 412 no scimType; invalidVers is about the
	// protocol version, not the resource version.
	return &Error{
		Kind:   ErrPreconditionFailed,
		Detail: fmt.Sprintf("%s %q has changed: its current version does not match If-Match", kind, id),
	}
}

// clientError converts the client errors of package schemas into an
// *Error. Other errors are returned as they are.
func clientError(err error) error {
	var schemaErr *schemas.Error
	if errors.As(err, &schemaErr) {
		return &Error{Kind: ErrInvalid, ScimType: schemaErr.ScimType, Detail: schemaErr.Detail}
	}
	return err
}

// memberError converts a storage *MemberNotFoundError into a client
// error naming the user id; other errors are returned as they are.
func memberError(err error) error {
	var missing *storage.MemberNotFoundError
	if errors.As(err, &missing) {
		return invalid("invalidValue", "member %q is not an existing user", missing.UserID)
	}
	return err
}

// isClientError reports whether err is already an error meant for the
// client, which callers return without wrapping it again.
func isClientError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// wrap prefixes a storage or runtime error with the operation, and
// returns client errors as they are so that their Detail stays intact.
func wrap(op string, err error) error {
	if err == nil || isClientError(err) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}
