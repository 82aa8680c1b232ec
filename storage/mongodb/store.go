// Package mongodb implements storage.Store on MongoDB (a replica set,
// Atlas or a sharded cluster) with the official Go driver.
//
// Layout: the collections users, groups, memberships (one document per
// group and member), tenantUsers (one membership counter per tenant and
// user, see fieldTenants), sandboxes and credentials. Users and groups keep
// their SCIM attributes as given under "a" and a search copy under "s"
// (see search.go) that carries lower-cased strings for case-insensitive
// filters and sorting. Every filter the backend sends is served by one of
// the indexes created in Open.
package mongodb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/scimd/scimd/storage"
)

var _ storage.Store = (*Store)(nil)

// Collection names.
const (
	colUsers       = "users"
	colGroups      = "groups"
	colMemberships = "memberships"
	colSandboxes   = "sandboxes"
	colCredentials = "credentials"
	colTenantUsers = "tenantUsers"
)

// Options configures Open. Zero values select the defaults.
type Options struct {
	Logger *slog.Logger // default slog.Default()
	// Monitor receives the driver's command events (tests, tracing).
	Monitor *event.CommandMonitor
	// DisableTransactions turns multi-document transactions off even when
	// the server supports them.
	DisableTransactions bool

	// withoutWildcardIndexes leaves out the wildcard indexes, which the
	// FerretDB v1.24.2 SQLite handler accepts but then fails every insert
	// on ("bad JSON path"). Only the tests set it.
	withoutWildcardIndexes bool
	// upsertMemberships writes memberships as upserts, as in
	// transactions, also without one. Only the tests set it.
	upsertMemberships bool
	// batch replaces removalBatch, so that tests cross batch boundaries
	// with few documents. Only the tests set it.
	batch int
}

// Store is a storage.Store on one MongoDB database. It is safe for
// concurrent use, also by several processes on the same database.
type Store struct {
	client *mongo.Client
	db     *mongo.Database
	logger *slog.Logger
	// transactions is true when the deployment is a replica set or a
	// sharded cluster, which run multi-document transactions.
	transactions bool
	// upsertMemberships: see Options.upsertMemberships.
	upsertMemberships bool
	// batch is the size of a batch of memberships or user ids:
	// removalBatch unless Options.batch sets it.
	batch int

	users, groups, memberships, sandboxes, credentials, tenantUsers *mongo.Collection
}

// Open connects to uri, pings the server, detects whether it runs
// transactions and creates every index the backend's queries use.
func Open(ctx context.Context, uri, database string, opts Options) (*Store, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	co := options.Client().ApplyURI(uri).
		SetWriteConcern(writeconcern.Majority()).
		SetReadPreference(readpref.Primary())
	if opts.Monitor != nil {
		co.SetMonitor(opts.Monitor)
	}
	client, err := mongo.Connect(co)
	if err != nil {
		return nil, fmt.Errorf("open mongodb: %w", err)
	}
	s := &Store{
		client:            client,
		db:                client.Database(database),
		logger:            logger,
		upsertMemberships: opts.upsertMemberships,
		batch:             removalBatch,
	}
	if opts.batch > 0 {
		s.batch = opts.batch
	}
	s.users = s.db.Collection(colUsers)
	s.groups = s.db.Collection(colGroups)
	s.memberships = s.db.Collection(colMemberships)
	s.sandboxes = s.db.Collection(colSandboxes)
	s.credentials = s.db.Collection(colCredentials)
	s.tenantUsers = s.db.Collection(colTenantUsers)

	if err := s.start(ctx, opts); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("open mongodb: %w", err)
	}
	return s, nil
}

func (s *Store) start(ctx context.Context, opts Options) error {
	if err := s.client.Ping(ctx, readpref.Primary()); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	var hello struct {
		SetName string `bson:"setName"`
		Msg     string `bson:"msg"`
	}
	if err := s.db.RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	// A standalone server rejects transactions; a replica set member
	// reports setName and a mongos reports msg "isdbgrid".
	s.transactions = !opts.DisableTransactions && (hello.SetName != "" || hello.Msg == "isdbgrid")
	if !s.transactions {
		s.logger.Warn("mongodb: deployment runs no transactions; cascades are ordered writes")
	}
	return s.createIndexes(ctx, opts.withoutWildcardIndexes)
}

// Ping does a round trip to the primary.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx, readpref.Primary()); err != nil {
		return fmt.Errorf("ping mongodb: %w", err)
	}
	return nil
}

// Close disconnects the client.
func (s *Store) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("close mongodb: %w", err)
	}
	return nil
}

// Transactions reports whether cascades run in multi-document
// transactions.
func (s *Store) Transactions() bool { return s.transactions }

// inTransaction runs fn in a transaction when the deployment supports
// them, and directly otherwise. Callers order their writes so that a
// failure half-way without a transaction leaves nothing a reader can see
// as inconsistent. fn may run more than once.
func (s *Store) inTransaction(ctx context.Context, fn func(ctx context.Context) error) error {
	if !s.transactions {
		return fn(ctx)
	}
	sess, err := s.client.StartSession()
	if err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	defer sess.EndSession(ctx)
	_, err = sess.WithTransaction(ctx, func(ctx context.Context) (any, error) {
		return nil, fn(ctx)
	})
	return err
}

// translate wraps err with op, turning driver errors into the storage
// sentinels: no document into ErrNotFound and a duplicate key into
// ErrAlreadyExists. Errors that already carry a sentinel pass through.
func translate(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return fmt.Errorf("%s: %w", op, storage.ErrNotFound)
	case mongo.IsDuplicateKeyError(err):
		return fmt.Errorf("%s: %w", op, storage.ErrAlreadyExists)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}
