package scimserver

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// readyTimeout bounds the readiness round trip. Kubernetes' default probe
// timeout is one second; a store slower than this is treated as not ready
// rather than letting probes pile up.
const readyTimeout = 2 * time.Second

// healthz reports that the process serves HTTP. It checks nothing else, so
// that a store outage makes the instance unready, not restarted.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	return writeHealth(w, http.StatusOK, "ok", "")
}

// readyz reports whether the store completes a round trip within
// readyTimeout.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Ready == nil {
		return writeHealth(w, http.StatusServiceUnavailable, "unavailable", "no readiness check is configured")
	}
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.cfg.Ready(ctx); err != nil {
		s.logger.Warn("readiness check failed", "error", err, "request_id", requestIDFrom(r.Context()))
		detail := "store is unreachable"
		if errors.Is(err, context.DeadlineExceeded) {
			detail = "store did not answer within " + readyTimeout.String()
		}
		return writeHealth(w, http.StatusServiceUnavailable, "unavailable", detail)
	}
	return writeHealth(w, http.StatusOK, "ok", "")
}

func writeHealth(w http.ResponseWriter, status int, state, detail string) error {
	body := map[string]string{"status": state}
	if detail != "" {
		body["detail"] = detail
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeAdminJSON(w, status, body)
}
