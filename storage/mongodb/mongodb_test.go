package mongodb

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	tcmongodb "github.com/testcontainers/testcontainers-go/modules/mongodb"

	"github.com/scimd/scimd/storage"
	"github.com/scimd/scimd/storage/storagetest"
)

// Reasons that FerretDB v1.24.2 cannot run a test; the same tests run on
// real MongoDB.
const (
	ferretElemMatch = "FerretDB v1.24.2 rejects $elemMatch with field conditions " +
		"and matches nothing for $elemMatch with operator conditions on sub-documents"
	ferretUniqueUpdate = "FerretDB v1.24.2 reports a unique index violation by an update as " +
		"InternalError instead of duplicate key error 11000"
)

// ferretDBSkips lists the conformance subtests that FerretDB cannot run.
var ferretDBSkips = map[string]string{
	"UserNameUnique":         ferretUniqueUpdate,
	"GroupDisplayNameUnique": ferretUniqueUpdate,
	"UserFilters": ferretElemMatch + "; and $ne on a field inside an array of documents " +
		"matches documents where one element equals the value",
}

// quiet drops the warning that FerretDB runs no transactions.
var quiet = slog.New(slog.DiscardHandler)

// opener returns a storagetest open function that gives every subtest a
// fresh database on uri, dropped when the subtest ends.
func opener(uri string, opts Options) func(t *testing.T) storage.Store {
	prefix := "scimd_test_" + rand.Text()[:8]
	var n atomic.Int64
	return func(t *testing.T) storage.Store {
		t.Helper()
		ctx := context.Background()
		name := fmt.Sprintf("%s_%d", prefix, n.Add(1))
		s, err := Open(ctx, uri, name, opts)
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		t.Cleanup(func() {
			if err := s.db.Drop(ctx); err != nil {
				t.Errorf("drop database %s: %v", name, err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("close store: %v", err)
			}
		})
		return s
	}
}

// TestFerretDB runs the conformance suite and this package's own tests
// on an in-process FerretDB with one writer at a time, and checks that
// every command they sent is served by a declared index.
func TestFerretDB(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an in-process FerretDB")
	}
	uri := startFerretDB(t)
	audit := &indexAudit{}
	open := opener(uri, Options{Monitor: audit.monitor(), Logger: quiet, withoutWildcardIndexes: true})

	t.Run("conformance", func(t *testing.T) {
		storagetest.Run(t, open, storagetest.Options{Concurrent: false, Skip: ferretDBSkips})
	})
	t.Run("backend", func(t *testing.T) {
		backendTests(t, open, true)
	})
	t.Run("backend with upserted memberships", func(t *testing.T) {
		open := opener(uri, Options{
			Monitor: audit.monitor(), Logger: quiet, withoutWildcardIndexes: true, upsertMemberships: true,
		})
		t.Run("memberships", func(t *testing.T) { testMemberships(t, open(t)) })
	})
	t.Run("backend with small batches", func(t *testing.T) {
		open := opener(uri, Options{Monitor: audit.monitor(), Logger: quiet, withoutWildcardIndexes: true, batch: 2})
		t.Run("user versions in batches", func(t *testing.T) { testUserVersionBatches(t, open(t).(*Store)) })
		t.Run("tenant listing", func(t *testing.T) { testTenantListing(t, open(t).(*Store)) })
	})
	t.Run("index audit", func(t *testing.T) {
		audit.report(t)
	})
}

// TestMongoDB runs the conformance suite with concurrent writers on real
// MongoDB: MONGODB_URI if set, else a replica set in a container when a
// Docker engine accepts connections.
func TestMongoDB(t *testing.T) {
	uri := realMongoDB(t)
	audit := &indexAudit{}
	open := opener(uri, Options{Monitor: audit.monitor()})
	t.Run("conformance", func(t *testing.T) {
		storagetest.Run(t, open, storagetest.Options{Concurrent: true})
	})
	t.Run("backend", func(t *testing.T) {
		backendTests(t, open, false)
	})
	t.Run("index audit", func(t *testing.T) {
		audit.report(t)
	})
}

func realMongoDB(t *testing.T) string {
	t.Helper()
	if uri := os.Getenv("MONGODB_URI"); uri != "" {
		return uri
	}
	if !dockerAnswers() {
		t.Skip("no MongoDB: set MONGODB_URI (a replica set, for transactions) or run a Docker engine")
	}
	ctx := context.Background()
	ctr, err := tcmongodb.Run(ctx, "mongo:8.0", tcmongodb.WithReplicaSet("rs0"))
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		t.Fatalf("start mongodb container: %v", err)
	}
	uri, err := ctr.ConnectionString(ctx)
	if err != nil {
		t.Fatalf("mongodb container address: %v", err)
	}
	return uri
}

// dockerAnswers reports whether a Docker engine accepts connections at
// DOCKER_HOST or the default socket, without waiting more than a second.
func dockerAnswers() bool {
	network, addr := "unix", "/var/run/docker.sock"
	if host := os.Getenv("DOCKER_HOST"); host != "" {
		scheme, rest, ok := strings.Cut(host, "://")
		if !ok {
			return false
		}
		network, addr = scheme, rest
		if scheme != "unix" {
			network = "tcp"
		}
	}
	conn, err := net.DialTimeout(network, addr, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}
