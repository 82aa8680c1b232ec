package scimserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/scimd/scimd/tenants"
)

// requestInfo is the per-request state that the access record reports.
// The middleware creates it, handle sets the route, and authentication
// sets the tenant and credential.
type requestInfo struct {
	id           string
	route        string
	tenantID     string
	credentialID string
}

type serverContextKey int

const (
	infoKey serverContextKey = iota
	tenantKey
)

func infoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(infoKey).(*requestInfo)
	return info
}

// requestIDFrom returns the request id of the request that ctx belongs to,
// or "" outside a request.
func requestIDFrom(ctx context.Context) string {
	if info := infoFrom(ctx); info != nil {
		return info.id
	}
	return ""
}

// tenantFrom returns the tenant that authentication resolved for the
// request, or nil before authentication and outside the SCIM endpoints.
func tenantFrom(ctx context.Context) *tenants.Tenant {
	t, _ := ctx.Value(tenantKey).(*tenants.Tenant)
	return t
}

func withTenant(ctx context.Context, t *tenants.Tenant) context.Context {
	return context.WithValue(ctx, tenantKey, t)
}

// routeUnmatched is the route label of requests that match no route.
const routeUnmatched = "unmatched"

// middleware wraps every listener's handler: it assigns the request id,
// caps the body, recovers panics, records the metrics and writes one access
// record per request.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{id: requestID(r.Header.Get("X-Request-Id")), route: routeUnmatched}
		w.Header().Set("X-Request-Id", info.id)
		rec := &responseRecorder{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), infoKey, info))

		defer func() {
			if p := recover(); p != nil {
				s.recoverPanic(p, r, info, rec, start)
			}
			s.logAccess(r, info, rec, time.Since(start))
		}()

		if !s.limitBody(w, rec, r) {
			return
		}
		next.ServeHTTP(rec, r)
	})
}

// recoverPanic handles a panic of the handler chain: it logs the stack and
// writes a 500 SCIM error body, or cuts the connection when part of the
// response has been sent.
func (s *Server) recoverPanic(p any, r *http.Request, info *requestInfo, rec *responseRecorder, start time.Time) {
	if p == http.ErrAbortHandler {
		// The handler chose to abort the response; net/http closes the
		// connection without logging a stack.
		panic(p)
	}
	s.logger.Error("handler panicked",
		"request_id", info.id, "route", info.route,
		"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	if rec.wroteHeader {
		// An error body cannot follow a response that has started. Cutting
		// the connection shows the client that the response is incomplete.
		rec.status = http.StatusInternalServerError
		s.logAccess(r, info, rec, time.Since(start))
		panic(http.ErrAbortHandler)
	}
	writeErrorBody(rec, http.StatusInternalServerError, "", internalDetail)
}

// limitBody caps the request body at MaxBulkPayloadBytes for Bulk requests
// and MaxBodyBytes for all others. A declared Content-Length over the limit
// is rejected with 413 at once, and limitBody returns false. A body without
// a Content-Length fails on the read past the limit with
// *http.MaxBytesError.
func (s *Server) limitBody(w http.ResponseWriter, rec *responseRecorder, r *http.Request) bool {
	limit := s.cfg.MaxBodyBytes
	// Endpoint names match in any case and with a trailing slash, as in
	// canonicalSCIMPath, which runs after this limit.
	if path := strings.TrimSuffix(r.URL.Path, "/"); len(path) >= 5 && strings.EqualFold(path[len(path)-5:], "/Bulk") {
		limit = s.cfg.MaxBulkPayloadBytes
	}
	if r.ContentLength > limit {
		writeErrorBody(rec, http.StatusRequestEntityTooLarge, "",
			fmt.Sprintf("request body of %d bytes exceeds the limit of %d bytes", r.ContentLength, limit))
		return false
	}
	if r.Body != nil {
		// MaxBytesReader gets the connection's own writer because it asks
		// net/http, through an unexported method, to close the connection
		// after the response.
		r.Body = http.MaxBytesReader(w, r.Body, limit)
	}
	return true
}

// logAccess writes the access record and observes the request metrics.
// It never logs headers or bodies: they carry credentials and personal
// data.
func (s *Server) logAccess(r *http.Request, info *requestInfo, rec *responseRecorder, elapsed time.Duration) {
	status := rec.statusCode()
	s.metrics.observe(info.route, r.Method, status, elapsed)

	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.logger.LogAttrs(r.Context(), level, "request",
		slog.String("request_id", info.id),
		slog.String("method", r.Method),
		slog.String("route", info.route),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Int64("bytes", rec.bytes),
		slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
		slog.String("tenant", info.tenantID),
		slog.String("credential_id", info.credentialID),
		slog.String("remote_addr", r.RemoteAddr),
	)
}

// maxRequestIDLength bounds a client's X-Request-Id, which is echoed and
// logged.
const maxRequestIDLength = 128

// requestID returns the client's X-Request-Id when it is 1 to 128 letters,
// digits and "-_.:", and a new random id otherwise.
func requestID(header string) string {
	if header != "" && len(header) <= maxRequestIDLength && strings.IndexFunc(header, invalidRequestIDRune) < 0 {
		return header
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error
	return hex.EncodeToString(b[:])
}

func invalidRequestIDRune(c rune) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return false
	case c == '-', c == '_', c == '.', c == ':':
		return false
	}
	return true
}

// responseRecorder records the status and the number of body bytes
// written.
type responseRecorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (r *responseRecorder) WriteHeader(status int) {
	if !r.wroteHeader {
		r.status = status
		r.wroteHeader = true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *responseRecorder) Write(b []byte) (int, error) {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *responseRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *responseRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		if !r.wroteHeader {
			r.WriteHeader(http.StatusOK)
		}
		f.Flush()
	}
}

// statusCode returns the status sent, or 200 when the handler wrote
// nothing (net/http then sends 200).
func (r *responseRecorder) statusCode() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}
