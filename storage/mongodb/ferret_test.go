package mongodb

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// startFerretDB runs an in-process FerretDB with the SQLite handler and
// its data in a temporary directory, and returns its MongoDB URI. It stops
// when the test ends.
func startFerretDB(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: (&url.URL{Scheme: "file", Path: dir + "/"}).String(),
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("start ferretdb: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("ferretdb stopped: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("ferretdb did not stop within 10s")
		}
	})
	return f.MongoDBURI()
}
