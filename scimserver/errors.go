package scimserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/storage"
	"github.com/scimd/scimd/tenants"
)

// scimContentType is the media type of every SCIM response body (RFC 7644
// §3.1).
const scimContentType = "application/scim+json"

// scimType values that RFC 9865 adds for cursor pagination.
const (
	scimTypeInvalidCursor = "invalidCursor"
	scimTypeExpiredCursor = "expiredCursor"
)

// httpError is a client error that the HTTP layer raises itself: a bad
// query parameter, an unsupported media type, a body too large. Detail is
// shown to the client.
type httpError struct {
	Status   int
	ScimType string
	Detail   string
}

func (e *httpError) Error() string { return e.Detail }

// errorf returns an *httpError with the status, scimType (empty for none)
// and formatted detail.
func errorf(status int, scimType, format string, args ...any) *httpError {
	return &httpError{Status: status, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// errResponseStarted marks an error that happened after the response
// status and part of the body were sent, so no error body can follow.
var errResponseStarted = errors.New("response already started")

// errorBody is the SCIM error response of RFC 7644 §3.12.
type errorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// statusClientClosedRequest is the status recorded for a request whose
// client disconnected before the response, as nginx records it.
const statusClientClosedRequest = 499

// internalDetail is the only detail a client ever sees for a server-side
// failure. The error itself goes to the log.
const internalDetail = "internal error"

// classifyError maps err to the status, scimType and client-safe detail of
// its SCIM error response. internal is true when err is not a client
// error, in which case detail is internalDetail and err must be logged.
func classifyError(err error) (status int, scimType, detail string, internal bool) {
	var (
		he  *httpError
		se  *schemas.Error
		te  *tenants.Error
		mbe *http.MaxBytesError
		mnf *storage.MemberNotFoundError
	)
	switch {
	case errors.As(err, &he):
		return he.Status, he.ScimType, he.Detail, false
	case errors.As(err, &te):
		status, scimType, detail, internal = classifyKind(te.Kind)
		if internal {
			return status, scimType, detail, true
		}
		if te.ScimType != "" {
			scimType = te.ScimType
		}
		if te.Detail != "" {
			detail = te.Detail
		}
		return status, scimType, detail, false
	case errors.As(err, &se):
		return schemaErrorStatus(se.ScimType), se.ScimType, se.Detail, false
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, "",
			fmt.Sprintf("request body exceeds the maximum of %d bytes", mbe.Limit), false
	case errors.As(err, &mnf):
		return http.StatusBadRequest, "invalidValue",
			fmt.Sprintf("member %q is not an existing user", mnf.UserID), false
	}
	return classifyKind(err)
}

// classifyKind maps the sentinel errors of packages tenants and storage.
func classifyKind(err error) (status int, scimType, detail string, internal bool) {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return http.StatusNotFound, "", "resource not found", false
	case errors.Is(err, storage.ErrAlreadyExists):
		return http.StatusConflict, "uniqueness", "a resource with the same unique attribute exists", false
	case errors.Is(err, storage.ErrMemberNotFound):
		return http.StatusBadRequest, "invalidValue", "a member is not an existing user", false
	case errors.Is(err, storage.ErrInvalidCursor):
		return http.StatusBadRequest, scimTypeInvalidCursor, "the cursor is invalid", false
	case errors.Is(err, tenants.ErrForbidden):
		return http.StatusForbidden, "", "the operation is not allowed", false
	case errors.Is(err, tenants.ErrUnauthorized):
		return http.StatusUnauthorized, "", "missing, unknown or revoked credential", false
	case errors.Is(err, tenants.ErrPreconditionFailed):
		return http.StatusPreconditionFailed, "", "the resource has changed: its version does not match If-Match", false
	case errors.Is(err, tenants.ErrInvalid):
		return http.StatusBadRequest, "invalidValue", "invalid request", false
	}
	return http.StatusInternalServerError, "", internalDetail, true
}

// schemaErrorStatus returns the status that RFC 7644 §3.12 gives a
// scimType. uniqueness answers 409 as in the RFC's examples.
func schemaErrorStatus(scimType string) int {
	switch scimType {
	case "uniqueness":
		return http.StatusConflict
	case "sensitive":
		return http.StatusForbidden
	default:
		return http.StatusBadRequest
	}
}

// writeError writes the SCIM error response for err. Server-side errors
// are logged with the request's context, and their body has a fixed detail.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errResponseStarted) {
		// The status line is out: the only honest signal left is to cut
		// the connection, so that the client sees a truncated body rather
		// than a well-formed one that lacks data.
		level := slog.LevelError
		if r.Context().Err() != nil {
			level = slog.LevelDebug // the client went away
		}
		s.logger.Log(r.Context(), level, "scim response failed after it started", logAttrs(w, r, err)...)
		panic(http.ErrAbortHandler)
	}

	status, scimType, detail, internal := classifyError(err)
	switch {
	case internal && r.Context().Err() != nil:
		// The client went away, and the store call failed because the
		// request's context was canceled (drivers report that in their own
		// words, not always as context.Canceled). The response reaches no
		// one, so it is recorded as 499, nginx's "client closed request",
		// which keeps it out of the server-error counts of the access log
		// and metrics.
		s.logger.DebugContext(r.Context(), "scim request canceled by the client", logAttrs(w, r, err)...)
		status = statusClientClosedRequest
	case internal:
		s.logger.ErrorContext(r.Context(), "scim request failed", logAttrs(w, r, err)...)
	}
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scimd"`)
	}
	writeErrorBody(w, status, scimType, detail)
}

func logAttrs(w http.ResponseWriter, r *http.Request, err error) []any {
	attrs := []any{
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Any("error", err),
	}
	if id := requestIDFrom(r.Context()); id != "" {
		attrs = append(attrs, slog.String("request_id", id))
	}
	return attrs
}

// writeErrorBody writes a SCIM error body with the given status.
func writeErrorBody(w http.ResponseWriter, status int, scimType, detail string) {
	h := w.Header()
	h.Del("ETag")
	h.Del("Location")
	h.Set("Content-Type", scimContentType)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	body := newErrorBody(status, scimType, detail)
	// A write error means that the client went away, so nothing can reach it.
	_ = json.NewEncoder(w).Encode(body)
}

// maxDetailBytes bounds the detail of an error body, which may quote a
// value from the request such as an id.
const maxDetailBytes = 1024

func newErrorBody(status int, scimType, detail string) errorBody {
	if len(detail) > maxDetailBytes {
		detail = strings.ToValidUTF8(detail[:maxDetailBytes], "") + "…"
	}
	return errorBody{
		Schemas:  []string{schemas.ErrorURN},
		Status:   strconv.Itoa(status),
		ScimType: scimType,
		Detail:   detail,
	}
}
