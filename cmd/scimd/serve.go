package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// serve runs every listener until ctx is cancelled or one of them fails,
// then shuts all of them down, giving requests in flight up to
// shutdownTimeout to finish. It binds every address before serving any, so
// that a taken port fails the start instead of leaving half a server.
func serve(ctx context.Context, logger *slog.Logger, listeners []*listener, shutdownTimeout time.Duration) error {
	servers := make([]*http.Server, len(listeners))
	sockets := make([]net.Listener, len(listeners))
	for i, l := range listeners {
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			closeAll(sockets[:i])
			return fmt.Errorf("listen on %s for %s: %w", l.addr, l.name, err)
		}
		sockets[i] = ln
		servers[i] = &http.Server{
			Handler:           l.handler,
			ReadHeaderTimeout: readHeaderTimeout,
			ReadTimeout:       readTimeout,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       idleTimeout,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		}
	}

	failed := make(chan error, len(listeners))
	for i, l := range listeners {
		logger.Info("listening", "listener", l.name, "addr", sockets[i].Addr().String())
		go func() {
			if err := servers[i].Serve(sockets[i]); !errors.Is(err, http.ErrServerClosed) {
				failed <- fmt.Errorf("serve %s on %s: %w", l.name, sockets[i].Addr(), err)
			}
		}()
	}

	var serveErr error
	select {
	case <-ctx.Done():
		logger.Info("shutting down", "reason", context.Cause(ctx).Error(), "timeout", shutdownTimeout.String())
	case serveErr = <-failed:
		logger.Error("listener failed; shutting down", "error", serveErr)
	}

	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	errs := []error{serveErr}
	for i, srv := range servers {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			// Requests still running after the timeout are cut off.
			_ = srv.Close()
			errs = append(errs, fmt.Errorf("shut down %s: %w", listeners[i].name, err))
		}
	}
	return errors.Join(errs...)
}

func closeAll(sockets []net.Listener) {
	for _, ln := range sockets {
		_ = ln.Close()
	}
}
