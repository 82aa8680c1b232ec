package scimserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimd/scimd/storage"
)

// httpMetrics are the request metrics. Their labels have bounded values:
// route is a registered pattern or "unmatched", method one of the methods
// below or "other", code a status code.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer, version string) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scimd_http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "scimd_http_request_duration_seconds",
			Help:    "Time from receiving a request to writing its response, by route pattern and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
	}
	if version == "" {
		version = "unknown"
	}
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "scimd_build_info",
		Help: "Always 1; the labels name the scimd version and the Go version it was built with.",
	}, []string{"version", "goversion"})
	buildInfo.WithLabelValues(version, runtime.Version()).Set(1)

	for _, c := range []prometheus.Collector{m.requests, m.duration, buildInfo} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register HTTP metrics: %w", err)
		}
	}
	return m, nil
}

func (m *httpMetrics) observe(route, method string, status int, elapsed time.Duration) {
	method = methodLabel(method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(elapsed.Seconds())
}

// methodLabel keeps the method label bounded: a client can send any token
// as a method.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return method
	}
	return "other"
}

// InstrumentStore returns a storage.Store that records the duration of
// every call to store in scimd_store_operation_duration_seconds, labelled
// with the method name and whether it returned an error.
func InstrumentStore(store storage.Store, reg prometheus.Registerer) (storage.Store, error) {
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "scimd_store_operation_duration_seconds",
		Help: "Duration of storage operations, by operation and outcome (ok or error).",
		// Store calls are mostly sub-millisecond on SQLite and a few
		// milliseconds on MongoDB; the buckets start at 0.25 ms.
		Buckets: prometheus.ExponentialBuckets(0.00025, 2.5, 12),
	}, []string{"operation", "outcome"})
	if err := reg.Register(duration); err != nil {
		return nil, fmt.Errorf("register store metrics: %w", err)
	}
	return &instrumentedStore{next: store, duration: duration}, nil
}

type instrumentedStore struct {
	next     storage.Store
	duration *prometheus.HistogramVec
}

var _ storage.Store = (*instrumentedStore)(nil)

// observe records one operation that started at start. A not-found or
// already-exists result is a normal outcome of a lookup or an insert, so
// only other errors count as "error".
func (s *instrumentedStore) observe(op string, start time.Time, err error) {
	outcome := "ok"
	if err != nil && !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, storage.ErrAlreadyExists) &&
		!errors.Is(err, storage.ErrVersionMismatch) {
		outcome = "error"
	}
	s.duration.WithLabelValues(op, outcome).Observe(time.Since(start).Seconds())
}

func (s *instrumentedStore) CreateUser(ctx context.Context, u *storage.User) error {
	start := time.Now()
	err := s.next.CreateUser(ctx, u)
	s.observe("CreateUser", start, err)
	return err
}

func (s *instrumentedStore) GetUser(ctx context.Context, id string) (*storage.User, error) {
	start := time.Now()
	v, err := s.next.GetUser(ctx, id)
	s.observe("GetUser", start, err)
	return v, err
}

func (s *instrumentedStore) UpdateUser(ctx context.Context, id string, now time.Time, update func(*storage.User) error) (*storage.User, error) {
	start := time.Now()
	v, err := s.next.UpdateUser(ctx, id, now, update)
	s.observe("UpdateUser", start, err)
	return v, err
}

func (s *instrumentedStore) DeleteUser(ctx context.Context, id string, ifVersion int64) error {
	start := time.Now()
	err := s.next.DeleteUser(ctx, id, ifVersion)
	s.observe("DeleteUser", start, err)
	return err
}

func (s *instrumentedStore) QueryUsers(ctx context.Context, tenant string, q storage.Query) (*storage.Page[*storage.User], error) {
	start := time.Now()
	v, err := s.next.QueryUsers(ctx, tenant, q)
	s.observe("QueryUsers", start, err)
	return v, err
}

func (s *instrumentedStore) UserGroups(ctx context.Context, tenant string, userIDs []string) (map[string][]storage.GroupRef, error) {
	start := time.Now()
	v, err := s.next.UserGroups(ctx, tenant, userIDs)
	s.observe("UserGroups", start, err)
	return v, err
}

func (s *instrumentedStore) RemoveUserFromTenant(ctx context.Context, tenant, userID string) (int, error) {
	start := time.Now()
	v, err := s.next.RemoveUserFromTenant(ctx, tenant, userID)
	s.observe("RemoveUserFromTenant", start, err)
	return v, err
}

func (s *instrumentedStore) CreateGroup(ctx context.Context, g *storage.Group, members []string) error {
	start := time.Now()
	err := s.next.CreateGroup(ctx, g, members)
	s.observe("CreateGroup", start, err)
	return err
}

func (s *instrumentedStore) GetGroup(ctx context.Context, tenant, id string) (*storage.Group, error) {
	start := time.Now()
	v, err := s.next.GetGroup(ctx, tenant, id)
	s.observe("GetGroup", start, err)
	return v, err
}

func (s *instrumentedStore) UpdateGroup(ctx context.Context, tenant, id string, now time.Time, update func(*storage.Group) (*storage.MemberChange, error)) (*storage.Group, error) {
	start := time.Now()
	v, err := s.next.UpdateGroup(ctx, tenant, id, now, update)
	s.observe("UpdateGroup", start, err)
	return v, err
}

func (s *instrumentedStore) DeleteGroup(ctx context.Context, tenant, id string, ifVersion int64) error {
	start := time.Now()
	err := s.next.DeleteGroup(ctx, tenant, id, ifVersion)
	s.observe("DeleteGroup", start, err)
	return err
}

func (s *instrumentedStore) QueryGroups(ctx context.Context, tenant string, q storage.Query) (*storage.Page[*storage.Group], error) {
	start := time.Now()
	v, err := s.next.QueryGroups(ctx, tenant, q)
	s.observe("QueryGroups", start, err)
	return v, err
}

func (s *instrumentedStore) ListMembers(ctx context.Context, tenant, groupID, after string, limit int) ([]storage.Member, error) {
	start := time.Now()
	v, err := s.next.ListMembers(ctx, tenant, groupID, after, limit)
	s.observe("ListMembers", start, err)
	return v, err
}

func (s *instrumentedStore) IsMember(ctx context.Context, tenant, groupID, userID string) (bool, error) {
	start := time.Now()
	v, err := s.next.IsMember(ctx, tenant, groupID, userID)
	s.observe("IsMember", start, err)
	return v, err
}

func (s *instrumentedStore) CreateSandbox(ctx context.Context, sb *storage.Sandbox) error {
	start := time.Now()
	err := s.next.CreateSandbox(ctx, sb)
	s.observe("CreateSandbox", start, err)
	return err
}

func (s *instrumentedStore) GetSandbox(ctx context.Context, id string) (*storage.Sandbox, error) {
	start := time.Now()
	v, err := s.next.GetSandbox(ctx, id)
	s.observe("GetSandbox", start, err)
	return v, err
}

func (s *instrumentedStore) ListSandboxes(ctx context.Context) ([]*storage.Sandbox, error) {
	start := time.Now()
	v, err := s.next.ListSandboxes(ctx)
	s.observe("ListSandboxes", start, err)
	return v, err
}

func (s *instrumentedStore) DeleteSandbox(ctx context.Context, id string) error {
	start := time.Now()
	err := s.next.DeleteSandbox(ctx, id)
	s.observe("DeleteSandbox", start, err)
	return err
}

func (s *instrumentedStore) CreateCredential(ctx context.Context, c *storage.Credential) error {
	start := time.Now()
	err := s.next.CreateCredential(ctx, c)
	s.observe("CreateCredential", start, err)
	return err
}

func (s *instrumentedStore) CredentialByHash(ctx context.Context, hash []byte) (*storage.Credential, error) {
	start := time.Now()
	v, err := s.next.CredentialByHash(ctx, hash)
	s.observe("CredentialByHash", start, err)
	return v, err
}

func (s *instrumentedStore) ListCredentials(ctx context.Context) ([]*storage.Credential, error) {
	start := time.Now()
	v, err := s.next.ListCredentials(ctx)
	s.observe("ListCredentials", start, err)
	return v, err
}

func (s *instrumentedStore) DeleteCredential(ctx context.Context, id string) error {
	start := time.Now()
	err := s.next.DeleteCredential(ctx, id)
	s.observe("DeleteCredential", start, err)
	return err
}

func (s *instrumentedStore) Ping(ctx context.Context) error {
	start := time.Now()
	err := s.next.Ping(ctx)
	s.observe("Ping", start, err)
	return err
}

// Close is not timed: it runs once, at shutdown.
func (s *instrumentedStore) Close() error { return s.next.Close() }
