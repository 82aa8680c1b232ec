// Package sqlite is the embedded storage backend of scimd: one SQLite file
// in WAL mode, written through a single connection and read through a pool.
//
// Every attribute value of every user and group is also kept in the table
// attr_values, one row per (resource, attribute path, value position,
// value), so that filters and sorting run on indexes instead of decoding
// stored documents.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/scimd/scimd/storage"
)

// Options tunes the store.
type Options struct {
	// Readers is the maximum number of open reading connections; 0 picks
	// one per CPU with a minimum of 4.
	Readers int
	// BusyTimeoutMillis is how long a statement waits for a lock held by
	// another connection, in milliseconds; 0 means 5000.
	BusyTimeoutMillis int
}

// Store is a storage.Store on one SQLite file.
type Store struct {
	writer *sql.DB // one connection: SQLite allows one writer at a time
	reader *sql.DB

	// trace, when set, receives every SQL statement before it runs (see
	// SetTrace).
	trace atomic.Pointer[func(query string, args []any)]
}

var _ storage.Store = (*Store)(nil)

// Open opens the database file at path, creating it, its directory, its
// tables and its indexes when they do not exist.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	writerDSN, readerDSN := DSNs(path, opts)
	writer, err := sql.Open("sqlite", writerDSN)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)

	s := &Store{writer: writer}
	// The schema is created before the readers open, so that they never
	// see a file without tables or in a journal mode other than WAL.
	if err := s.createSchema(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}

	reader, err := sql.Open("sqlite", readerDSN)
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	reader.SetMaxOpenConns(opts.ReaderConns())
	reader.SetMaxIdleConns(opts.ReaderConns())
	s.reader = reader
	if err := reader.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return s, nil
}

// ReaderConns returns the number of reading connections Open allows:
// o.Readers, or one per CPU with a minimum of 4 when that is 0.
func (o Options) ReaderConns() int {
	if o.Readers > 0 {
		return o.Readers
	}
	return max(4, runtime.NumCPU())
}

// DSNs returns the modernc.org/sqlite data source names with which Open
// opens the file at path: one for the single writing connection and one
// for the reading pool, of opts.ReaderConns() connections.
// Other programs can use them to open the file with the same settings.
func DSNs(path string, opts Options) (writer, reader string) {
	busy := opts.BusyTimeoutMillis
	if busy <= 0 {
		busy = 5000
	}
	dsn := func(extra ...string) string {
		q := url.Values{}
		q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy))
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "synchronous(NORMAL)")
		for i := 0; i+1 < len(extra); i += 2 {
			q.Add(extra[i], extra[i+1])
		}
		return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	}
	// The writer's page cache (32 MiB) keeps the upper index pages that
	// inserts touch in memory, and each reader has 8 MiB. Every
	// connection has a cache of its own, so these sizes bound scimd's
	// resident memory (32 MiB + 8 MiB per reader). The operating system's
	// page cache keeps the rest of the file.
	writer = dsn("_pragma", "journal_mode(WAL)", "_pragma", "cache_size(-32768)", "_txlock", "immediate")
	reader = dsn("_pragma", "query_only(1)", "_pragma", "cache_size(-8192)")
	return writer, reader
}

// schema creates the tables and indexes. Times are Unix nanoseconds in
// UTC. Normalised columns (suffix _norm) hold strings.ToLower of the value
// and carry the case-insensitive uniqueness rules.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS users (
		id TEXT PRIMARY KEY,
		user_name TEXT NOT NULL,
		user_name_norm TEXT UNIQUE,
		display_name TEXT,
		attrs TEXT NOT NULL,
		created INTEGER NOT NULL,
		last_modified INTEGER NOT NULL,
		version INTEGER NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS groups (
		id TEXT PRIMARY KEY,
		tenant TEXT NOT NULL,
		display_name TEXT NOT NULL,
		display_name_norm TEXT,
		attrs TEXT NOT NULL,
		created INTEGER NOT NULL,
		last_modified INTEGER NOT NULL,
		version INTEGER NOT NULL,
		UNIQUE (tenant, display_name_norm)
	)`,
	`CREATE INDEX IF NOT EXISTS groups_tenant_id ON groups (tenant, id)`,
	// tenant repeats the group's tenant so that a user's memberships in
	// one tenant are found without reading groups.
	`CREATE TABLE IF NOT EXISTS memberships (
		group_id TEXT NOT NULL REFERENCES groups (id),
		user_id TEXT NOT NULL REFERENCES users (id),
		tenant TEXT NOT NULL,
		PRIMARY KEY (group_id, user_id)
	) WITHOUT ROWID`,
	`CREATE INDEX IF NOT EXISTS memberships_tenant_user ON memberships (tenant, user_id)`,
	`CREATE INDEX IF NOT EXISTS memberships_user ON memberships (user_id)`,
	// attr_values indexes every attribute value of users (kind 0) and
	// groups (kind 1). path is the lower-cased dotted attribute path
	// ("emails.value", "<extension urn>.manager.value", "meta.created");
	// pos is the position of the value in its multi-valued attribute (0
	// for singular ones), so that sub-attributes of one value share it.
	// v and lv have no declared type, so SQLite keeps each value's type
	// (a declared type such as ANY would turn the string "42" into 42).
	// v is the value with its SQLite type (text, integer, real, or 0/1
	// for booleans), lv is v lower-cased for strings, and t is the Unix
	// time in nanoseconds for strings that are RFC 3339 date-times. Only
	// lv is indexed: case-exact comparisons narrow by lv and then check v.
	`CREATE TABLE IF NOT EXISTS attr_values (
		kind INTEGER NOT NULL,
		id TEXT NOT NULL,
		path TEXT NOT NULL,
		pos INTEGER NOT NULL,
		v NOT NULL,
		lv NOT NULL,
		t INTEGER,
		PRIMARY KEY (kind, id, path, pos, v)
	) WITHOUT ROWID`,
	`CREATE INDEX IF NOT EXISTS attr_values_lv ON attr_values (kind, path, lv, id)`,
	`CREATE INDEX IF NOT EXISTS attr_values_t ON attr_values (kind, path, t, id) WHERE t IS NOT NULL`,
	`CREATE TABLE IF NOT EXISTS sandboxes (
		id TEXT PRIMARY KEY,
		key TEXT NOT NULL UNIQUE,
		display_name TEXT NOT NULL,
		created INTEGER NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS credentials (
		id TEXT PRIMARY KEY,
		tenant TEXT NOT NULL,
		description TEXT NOT NULL,
		created INTEGER NOT NULL,
		hash BLOB NOT NULL UNIQUE
	)`,
	`CREATE INDEX IF NOT EXISTS credentials_tenant ON credentials (tenant)`,
}

func (s *Store) createSchema(ctx context.Context) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, stmt := range schema {
			if _, err := s.exec(ctx, tx, stmt); err != nil {
				return fmt.Errorf("create schema: %w", err)
			}
		}
		return nil
	})
}

// Ping checks that both connection pools reach the database.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.writer.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	if err := s.reader.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	return nil
}

// Close closes both connection pools.
func (s *Store) Close() error {
	return errors.Join(s.reader.Close(), s.writer.Close())
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// The three helpers below are the only places where the store sends SQL.

func (s *Store) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	s.record(query, args)
	res, err := q.ExecContext(ctx, query, args...)
	return res, translate(err)
}

func (s *Store) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	s.record(query, args)
	rows, err := q.QueryContext(ctx, query, args...)
	return rows, translate(err)
}

func (s *Store) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	s.record(query, args)
	return q.QueryRowContext(ctx, query, args...)
}

func (s *Store) record(query string, args []any) {
	if fn := s.trace.Load(); fn != nil {
		(*fn)(query, args)
	}
}

// inTx runs fn in a write transaction, which BEGIN IMMEDIATE starts with
// the write lock held, and commits it when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", translate(err))
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", translate(err))
	}
	return nil
}

// readTx runs fn in a read transaction, so that the statements it sends
// see one snapshot of the database.
func (s *Store) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.reader.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", translate(err))
	}
	defer tx.Rollback()
	return fn(tx)
}

// translate turns driver errors into the storage sentinels. It is the only
// place that inspects driver errors; callers wrap its result.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return storage.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w (%s)", storage.ErrAlreadyExists, se.Error())
		}
	}
	return err
}

// SetTrace sets the function that receives every SQL statement the store
// sends, with its arguments, before it runs; nil turns recording off. fn
// may be called from several goroutines at once and must not keep args.
// Tests use it to check query plans; it costs one atomic load per
// statement when unset.
func (s *Store) SetTrace(fn func(query string, args []any)) {
	if fn == nil {
		s.trace.Store(nil)
		return
	}
	s.trace.Store(&fn)
}
