// Command scimd is a SCIM 2.0 service provider for one main account and any
// number of sandboxes. It stores its data in MongoDB when --mongodb-uri is
// set and in an embedded SQLite database in --data-dir otherwise. Run
// scimd -h for the flags and their SCIMD_* environment variables.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/scimd/scimd/scimserver"
	"github.com/scimd/scimd/storage"
	"github.com/scimd/scimd/storage/mongodb"
	"github.com/scimd/scimd/storage/sqlite"
	"github.com/scimd/scimd/tenants"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "scimd: %v\n", err)
		os.Exit(2)
	}

	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, cfg, logger, os.Stderr); err != nil {
		logger.Error("scimd failed", "error", err)
		stop()
		os.Exit(1)
	}
}

// run opens the store, prepares the admin credential and serves until ctx
// is cancelled. notices receives the one-time admin secret.
func run(ctx context.Context, cfg *config, logger *slog.Logger, notices io.Writer) error {
	logger.Info("scimd starting", "version", version, "store", storeName(cfg))
	store, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			logger.Error("close store failed", "error", err)
		}
	}()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The decorator times every store call for
	// scimd_store_operation_duration_seconds.
	timed, err := scimserver.InstrumentStore(store, reg)
	if err != nil {
		return fmt.Errorf("instrument store: %w", err)
	}
	svc := tenants.New(timed, tenants.Options{Logger: logger})

	created, err := svc.EnsureAdminCredential(ctx, cfg.adminToken)
	if err != nil {
		return fmt.Errorf("prepare admin credential: %w", err)
	}
	if created != "" {
		printAdminToken(notices, created, exampleURL(cfg))
		logger.Info("admin credential created; its secret was printed to standard error once")
	}

	srv, err := scimserver.New(svc, serverConfig(cfg, store, logger), logger, reg)
	if err != nil {
		return fmt.Errorf("create server: %w", err)
	}
	listeners := []*listener{{name: "api", addr: cfg.listen, handler: srv.Handler()}}
	if cfg.opsListen != "" {
		listeners = append(listeners, &listener{name: "ops", addr: cfg.opsListen, handler: srv.OpsHandler()})
	}
	err = serve(ctx, logger, listeners, cfg.shutdownTimeout)
	logger.Info("scimd stopped")
	return err
}

func storeName(cfg *config) string {
	if cfg.mongoURI != "" {
		return "mongodb"
	}
	return "sqlite"
}

// openStore opens MongoDB when a URI is configured and the SQLite file in
// the data directory otherwise. The URI is never logged: it may contain a
// password.
func openStore(ctx context.Context, cfg *config, logger *slog.Logger) (storage.Store, error) {
	if cfg.mongoURI != "" {
		store, err := mongodb.Open(ctx, cfg.mongoURI, cfg.mongoDatabase, mongodb.Options{Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("open MongoDB database %q: %w", cfg.mongoDatabase, err)
		}
		logger.Info("store opened", "store", "mongodb", "database", cfg.mongoDatabase)
		return store, nil
	}
	if err := os.MkdirAll(cfg.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(cfg.dataDir, "scimd.db")
	store, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("open SQLite store %s: %w", path, err)
	}
	logger.Info("store opened", "store", "sqlite", "path", path)
	return store, nil
}

func serverConfig(cfg *config, store storage.Store, logger *slog.Logger) scimserver.Config {
	if len(cfg.cursorKey) == 0 {
		// The server then signs cursors with a random key of its own.
		logger.Warn("SCIMD_CURSOR_KEY is not set: pagination cursors stop working at restart " +
			"and are not accepted by other replicas")
	}
	return scimserver.Config{
		BaseURL:             cfg.baseURL,
		MaxBodyBytes:        cfg.maxBodyBytes,
		MaxBulkOperations:   cfg.maxBulkOps,
		MaxBulkPayloadBytes: cfg.maxBulkPayload,
		MaxPageSize:         cfg.maxPageSize,
		CursorTTL:           cfg.cursorTTL,
		CursorKey:           cfg.cursorKey,
		Ready:               store.Ping,
		SeparateOps:         cfg.opsListen != "",
		Version:             version,
	}
}

// exampleURL returns the URL of the admin API for the printed example.
func exampleURL(cfg *config) string {
	if cfg.baseURL != "" {
		return cfg.baseURL
	}
	host, port, err := net.SplitHostPort(cfg.listen)
	if err != nil {
		return "http://" + cfg.listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func printAdminToken(w io.Writer, token, serverURL string) {
	fmt.Fprintf(w, `
scimd created an admin credential. Its secret is shown only this once:

    %s

Store it in a secret manager, then call the admin API with it, for example:

    curl -H "Authorization: Bearer <secret>" %s/admin/v1/sandboxes

To choose the secret yourself, set SCIMD_ADMIN_TOKEN or --admin-token-file.

`, token, serverURL)
}

// listener is one HTTP listener of the process.
type listener struct {
	name    string
	addr    string
	handler http.Handler
}

// Server timeouts. Reading a 4 MiB body at 1 Mbit/s takes about 34 s. A
// Bulk request of 1,000 operations may take tens of seconds to apply, so
// reads and writes get a minute or two. Headers have no reason to be slow.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 60 * time.Second
	writeTimeout      = 120 * time.Second
	idleTimeout       = 120 * time.Second
)
