// Package scimserver is scimd's HTTP layer: routing for the main account
// and each sandbox, authentication, the SCIM and admin handlers, errors,
// metrics and health endpoints. It translates HTTP into calls to
// tenants.Service and never builds a database query itself.
package scimserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/scimd/scimd/tenants"
)

// Config holds the server's settings. A zero field takes its value from
// DefaultConfig.
type Config struct {
	// BaseURL is the external URL of the server root, without a trailing
	// slash, such as https://scim.example.com. SCIM base URLs are BaseURL
	// plus /scim/v2 or /sandboxes/{id}/scim/v2. Empty derives it from each
	// request's Host header and scheme.
	BaseURL string
	// MaxBodyBytes caps every request body except Bulk requests.
	MaxBodyBytes int64
	// MaxBulkOperations and MaxBulkPayloadBytes are the Bulk limits
	// advertised in ServiceProviderConfig and enforced on /Bulk.
	MaxBulkOperations   int
	MaxBulkPayloadBytes int64
	// MaxPageSize caps the count of a list or search request.
	MaxPageSize int
	// CursorTTL is how long a pagination cursor stays valid.
	CursorTTL time.Duration
	// CursorKey is the HMAC key that signs pagination cursors. Every
	// replica behind one load balancer needs the same key.
	CursorKey []byte
	// Ready does the readiness round trip to the store, normally
	// storage.Store.Ping. /readyz returns 503 while it fails or when it is
	// nil.
	Ready func(ctx context.Context) error
	// SeparateOps leaves /healthz, /readyz and /metrics out of Handler, for
	// a deployment that serves OpsHandler on a listener of its own.
	SeparateOps bool
	// Version is reported by the scimd_build_info metric.
	Version string
}

// Production defaults. They are sized for identity providers talking to a
// shared server, not for any one machine:
//   - a user is a few kilobytes of JSON, and the largest regular body is a
//     group PUT with its whole member list at about 50 bytes a member, so
//     4 MiB admits some 80,000 members in one request;
//   - 1,000 Bulk operations of about 2 KiB each fit in 4 MiB, and 1,000 is
//     the Bulk size identity providers commonly send;
//   - a page of 1,000 users is a response of a few megabytes; larger result
//     sets are read with cursors;
//   - a cursor only has to outlive the pause between two page requests,
//     which is seconds for an identity provider and minutes for a person.
const (
	DefaultMaxBodyBytes        int64 = 4 << 20
	DefaultMaxBulkOperations         = 1000
	DefaultMaxBulkPayloadBytes int64 = 4 << 20
	DefaultMaxPageSize               = 1000
	DefaultCursorTTL                 = time.Hour
)

// DefaultConfig returns a Config with the production defaults and no
// cursor key, base URL or readiness check.
func DefaultConfig() Config {
	return Config{
		MaxBodyBytes:        DefaultMaxBodyBytes,
		MaxBulkOperations:   DefaultMaxBulkOperations,
		MaxBulkPayloadBytes: DefaultMaxBulkPayloadBytes,
		MaxPageSize:         DefaultMaxPageSize,
		CursorTTL:           DefaultCursorTTL,
	}
}

// withDefaults fills the zero fields of c from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = d.MaxBodyBytes
	}
	if c.MaxBulkOperations == 0 {
		c.MaxBulkOperations = d.MaxBulkOperations
	}
	if c.MaxBulkPayloadBytes == 0 {
		c.MaxBulkPayloadBytes = d.MaxBulkPayloadBytes
	}
	if c.MaxPageSize == 0 {
		c.MaxPageSize = d.MaxPageSize
	}
	if c.CursorTTL == 0 {
		c.CursorTTL = d.CursorTTL
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	return c
}

// validate reports every invalid field at once.
func (c Config) validate() error {
	var errs []error
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("max body bytes %d is negative", c.MaxBodyBytes))
	}
	if c.MaxBulkOperations < 0 {
		errs = append(errs, fmt.Errorf("max bulk operations %d is negative", c.MaxBulkOperations))
	}
	if c.MaxBulkPayloadBytes < 0 {
		errs = append(errs, fmt.Errorf("max bulk payload bytes %d is negative", c.MaxBulkPayloadBytes))
	}
	if c.MaxPageSize < 0 {
		errs = append(errs, fmt.Errorf("max page size %d is negative", c.MaxPageSize))
	}
	if c.CursorTTL < 0 {
		errs = append(errs, fmt.Errorf("cursor TTL %s is negative", c.CursorTTL))
	}
	if c.BaseURL != "" && !strings.HasPrefix(c.BaseURL, "http://") &&
		!strings.HasPrefix(c.BaseURL, "https://") {
		errs = append(errs, fmt.Errorf("base URL %q does not start with http:// or https://", c.BaseURL))
	}
	return errors.Join(errs...)
}

// Server serves the SCIM, admin and operations endpoints.
type Server struct {
	svc      *tenants.Service
	logger   *slog.Logger
	cfg      Config
	metrics  *httpMetrics
	gatherer prometheus.Gatherer
}

// handlerFunc is the shape of every handler: an error it returns is
// written as a SCIM error body by writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// New returns a Server for svc. It registers the HTTP metrics on reg; when
// reg is also a prometheus.Gatherer (a *prometheus.Registry), /metrics
// serves it, and otherwise /metrics serves prometheus.DefaultGatherer.
func New(svc *tenants.Service, cfg Config, logger *slog.Logger, reg prometheus.Registerer) (*Server, error) {
	if svc == nil {
		return nil, errors.New("new server: nil tenants service")
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	if logger == nil {
		logger = slog.Default()
	}
	if reg == nil {
		reg = prometheus.DefaultRegisterer
	}
	m, err := newHTTPMetrics(reg, cfg.Version)
	if err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	gatherer, ok := reg.(prometheus.Gatherer)
	if !ok {
		gatherer = prometheus.DefaultGatherer
	}
	return &Server{svc: svc, logger: logger, cfg: cfg, metrics: m, gatherer: gatherer}, nil
}

// Handler returns the handler of the main listener: the SCIM endpoints of
// the main account and of every sandbox, the admin API and, unless
// Config.SeparateOps is set, the operations endpoints.
func (s *Server) Handler() http.Handler {
	scim := http.NewServeMux()
	s.registerSCIM(scim, "/scim/v2")
	s.registerSCIM(scim, "/sandboxes/{sandbox}/scim/v2")
	authenticated := s.authenticate(canonicalEndpoint(s.routeOrReject(scim)))

	root := http.NewServeMux()
	root.Handle("/scim/v2/", authenticated)
	root.Handle("/sandboxes/{sandbox}/scim/v2/", authenticated)
	s.registerAdmin(root)
	if !s.cfg.SeparateOps {
		s.registerOps(root)
	}
	return s.middleware(s.routeOrReject(root))
}

// OpsHandler returns a handler that serves only /healthz, /readyz and
// /metrics.
func (s *Server) OpsHandler() http.Handler {
	mux := http.NewServeMux()
	s.registerOps(mux)
	return s.middleware(s.routeOrReject(mux))
}

func (s *Server) registerOps(mux *http.ServeMux) {
	mux.Handle("GET /healthz", s.handle("GET /healthz", s.healthz))
	mux.Handle("GET /readyz", s.handle("GET /readyz", s.readyz))
	metrics := promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{ErrorLog: slogPrinter{s.logger}})
	mux.Handle("GET /metrics", s.handle("GET /metrics", func(w http.ResponseWriter, r *http.Request) error {
		metrics.ServeHTTP(w, r)
		return nil
	}))
}

// handle wraps h as the handler of the named route. The route name becomes
// the route label of the metrics and the access record, so it is a
// pattern, never a raw path. Panics are recovered by the middleware around
// every listener, which also records the metrics once the response is
// written.
func (s *Server) handle(route string, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info := infoFrom(r.Context()); info != nil {
			info.route = route
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// routeOrReject serves mux, and turns the mux's plain-text 404 and 405
// responses into SCIM error bodies, keeping the Allow header of a 405.
func (s *Server) routeOrReject(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		capture := &headerCapture{header: http.Header{}}
		mux.ServeHTTP(capture, r)
		switch capture.status {
		case http.StatusNotFound:
			writeErrorBody(w, http.StatusNotFound, "", "no endpoint at "+r.URL.Path)
		case http.StatusMethodNotAllowed:
			w.Header().Set("Allow", capture.header.Get("Allow"))
			writeErrorBody(w, http.StatusMethodNotAllowed, "",
				fmt.Sprintf("method %s is not allowed at %s", r.Method, r.URL.Path))
		default:
			// A redirect to the cleaned path or to the path with a trailing
			// slash: pass it on as the mux wrote it.
			for k, v := range capture.header {
				w.Header()[k] = v
			}
			w.WriteHeader(capture.status)
			_, _ = w.Write(capture.body)
		}
	})
}

// headerCapture records what the mux writes for a request it has no route
// for, so that routeOrReject can rewrite it.
type headerCapture struct {
	header http.Header
	status int
	body   []byte
}

func (c *headerCapture) Header() http.Header { return c.header }

func (c *headerCapture) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *headerCapture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	c.body = append(c.body, b...)
	return len(b), nil
}

// serverURL returns the external URL of the server root: Config.BaseURL,
// or the scheme and Host of the request.
func (s *Server) serverURL(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return s.cfg.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	// A TLS-terminating proxy sets X-Forwarded-Proto. Only the two schemes
	// a base URL can have are taken from it.
	if p := strings.ToLower(r.Header.Get("X-Forwarded-Proto")); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

// slogPrinter adapts a slog.Logger to promhttp's error logger.
type slogPrinter struct{ logger *slog.Logger }

func (p slogPrinter) Println(v ...any) {
	p.logger.Error("serve metrics failed", "error", fmt.Sprint(v...))
}
