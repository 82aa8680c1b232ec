package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/scimd/scimd/storage/sqlite"
)

// Baseline workload names.
const (
	blInsert     = "insert one user"
	blUserName   = "find by userName (case variants)"
	blExternalID = "find by externalId"
	blByID       = "find by id"
)

// baselineResult is one baseline engine's measurements.
type baselineResult struct {
	Short   string // name in ratio labels
	Engine  string // engine and access path, shown as a heading
	Method  string // table layout, settings and operations, shown under the heading
	Results []*result
}

// runBaseline issues the same reads and writes as the HTTP workloads
// straight to a store of the same engine that scimd used, with a scratch
// dataset of the same size. scimd is stopped by then, so the two never
// compete for the machine.
func runBaseline(ctx context.Context, log *slog.Logger, cfg *config, rep *report, ds *dataset, scimdDB string) error {
	if cfg.mongoURI != "" {
		return runMongoBaseline(ctx, log, cfg, rep, ds, scimdDB)
	}
	return runSQLiteBaseline(ctx, log, cfg, rep, ds)
}

// baselineDoc returns user i with a new random id and its attributes as
// JSON, as storage/sqlite keeps them (without id and meta, which the store
// holds in columns).
func baselineDoc(i int, prefix string) (id string, u user, doc []byte) {
	u, body := newUser(i, prefix, "")
	u.ID = randomHex(16)
	doc, _ = json.Marshal(body)
	return u.ID, u, doc
}

// runSQLiteBaseline measures three baselines on scratch files. The first,
// which the POST /Users target uses, issues the statements storage/sqlite
// sends straight through database/sql. The two others are context: one
// users row per user through database/sql, and storage/sqlite's Store
// called directly (the same store code scimd runs, without HTTP,
// validation or tenancy rules).
func runSQLiteBaseline(ctx context.Context, log *slog.Logger, cfg *config, rep *report, ds *dataset) error {
	dir, err := os.MkdirTemp("", "scimbench-baseline-")
	if err != nil {
		return fmt.Errorf("sqlite baseline: %w", err)
	}
	defer os.RemoveAll(dir)

	same, err := sameWritesBaseline(ctx, log, cfg, filepath.Join(dir, "same.db"), len(ds.users))
	if err != nil {
		return err
	}
	rep.baselines = append(rep.baselines, same)
	raw, err := rawSQLiteBaseline(ctx, log, cfg, filepath.Join(dir, "raw.db"), len(ds.users))
	if err != nil {
		return err
	}
	rep.baselines = append(rep.baselines, raw)
	store, err := storeBaseline(ctx, log, cfg, filepath.Join(dir, "store.db"), len(ds.users))
	if err != nil {
		return err
	}
	rep.baselines = append(rep.baselines, store)
	return nil
}

// rawSQLiteBaseline measures database/sql with modernc.org/sqlite on a
// single table: the users table of storage/sqlite plus an indexed
// external_id column, without the attr_values rows that storage/sqlite
// also writes. It shows what one row per user costs, for context; it is
// not the same writes as CreateUser. The connections use storage/sqlite's
// settings; one INSERT runs per transaction.
func rawSQLiteBaseline(ctx context.Context, log *slog.Logger, cfg *config, path string, n int) (*baselineResult, error) {
	writerDSN, readerDSN := sqlite.DSNs(path, sqlite.Options{})
	writer, err := sql.Open("sqlite", writerDSN)
	if err != nil {
		return nil, fmt.Errorf("sqlite baseline: open: %w", err)
	}
	defer writer.Close()
	writer.SetMaxOpenConns(1)
	for _, stmt := range singleRowSchema {
		if _, err := writer.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("sqlite baseline: create schema: %w", err)
		}
	}
	reader, err := sql.Open("sqlite", readerDSN)
	if err != nil {
		return nil, fmt.Errorf("sqlite baseline: open: %w", err)
	}
	defer reader.Close()
	reader.SetMaxOpenConns(sqlite.Options{}.ReaderConns())

	users, err := loadSQLite(ctx, writer, n)
	if err != nil {
		return nil, err
	}
	log.Info("single-row sqlite baseline loaded", "users", len(users))

	find := func(where string) string {
		return `SELECT id, attrs, version FROM users WHERE ` + where
	}
	br := &baselineResult{
		Short:  "raw SQL, users row only",
		Engine: "context: raw SQL, one row per user: modernc.org/sqlite through database/sql, scratch file",
		Method: "Not the same writes as CreateUser: the `users` table of storage/sqlite (id, user_name, " +
			"user_name_norm UNIQUE, display_name, attrs JSON, created, last_modified, version) plus an indexed " +
			"`external_id` column, and no `attr_values` rows; connections from `sqlite.DSNs`; insert = one " +
			"INSERT in its own transaction; find = one indexed SELECT whose JSON document is decoded into a map",
	}
	ops := map[string]func(clients int) operation{
		blInsert: func(clients int) operation {
			return func(ctx context.Context, w, i int) error {
				return insertSQLite(ctx, writer, i, fmt.Sprintf("b%d-", clients))
			}
		},
		blUserName: func(clients int) operation {
			return sqlFind(reader, find("user_name_norm = ?"), clients, users, func(u user, i int) string {
				return strings.ToLower(caseVariant(u.UserName, i))
			})
		},
		blExternalID: func(clients int) operation {
			return sqlFind(reader, find("external_id = ?"), clients, users, func(u user, _ int) string { return u.ExternalID })
		},
		blByID: func(clients int) operation {
			return sqlFind(reader, find("id = ?"), clients, users, func(u user, _ int) string { return u.ID })
		},
	}
	br.Results = measureBaseline(ctx, log, cfg, ops)
	return br, nil
}

// measureBaseline runs each baseline operation at each client count.
func measureBaseline(ctx context.Context, log *slog.Logger, cfg *config, ops map[string]func(int) operation) []*result {
	var results []*result
	for _, name := range []string{blInsert, blUserName, blExternalID, blByID} {
		for _, c := range cfg.clients {
			r := measure(ctx, name, c, cfg.ops, cfg.duration, ops[name](c))
			log.Info("baseline measured", "workload", name, "clients", c, "ops", r.Ops, "errors", r.Errors,
				"ops_per_sec", fmt.Sprintf("%.1f", r.opsPerSec()), "p50", r.p(0.5))
			if r.FirstErr != "" {
				log.Warn("baseline errors", "workload", name, "clients", c, "first", r.FirstErr)
			}
			results = append(results, r)
		}
	}
	return results
}

// singleRowSchema is the users table of storage/sqlite with an indexed
// external_id column in place of the attr_values index.
var singleRowSchema = []string{
	`CREATE TABLE users (
		id TEXT PRIMARY KEY,
		user_name TEXT NOT NULL,
		user_name_norm TEXT UNIQUE,
		display_name TEXT,
		external_id TEXT,
		attrs TEXT NOT NULL,
		created INTEGER NOT NULL,
		last_modified INTEGER NOT NULL,
		version INTEGER NOT NULL
	)`,
	`CREATE INDEX users_external_id ON users (external_id)`,
}

func insertSQLite(ctx context.Context, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, i int, prefix string) error {
	id, u, doc := baselineDoc(i, prefix)
	now := time.Now().UnixNano()
	_, err := db.ExecContext(ctx, `INSERT INTO users
		(id, user_name, user_name_norm, display_name, external_id, attrs, created, last_modified, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		id, u.UserName, strings.ToLower(u.UserName), "", u.ExternalID, string(doc), now, now)
	if err != nil {
		return fmt.Errorf("insert user %d: %w", i, err)
	}
	return nil
}

// loadSQLite inserts n users in transactions of 1,000 rows (not measured)
// and returns them.
func loadSQLite(ctx context.Context, db *sql.DB, n int) ([]user, error) {
	users := make([]user, 0, n)
	for lo := 0; lo < n; lo += 1000 {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("sqlite baseline: load: %w", err)
		}
		for i := lo; i < min(lo+1000, n); i++ {
			if err := insertSQLite(ctx, tx, i, ""); err != nil {
				tx.Rollback()
				return nil, fmt.Errorf("sqlite baseline: load: %w", err)
			}
		}
		if err := tx.Commit(); err != nil {
			return nil, fmt.Errorf("sqlite baseline: load: %w", err)
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT id, user_name, external_id FROM users`)
	if err != nil {
		return nil, fmt.Errorf("sqlite baseline: read loaded users: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u user
		if err := rows.Scan(&u.ID, &u.UserName, &u.ExternalID); err != nil {
			return nil, fmt.Errorf("sqlite baseline: read loaded users: %w", err)
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// sqlFind returns an operation that runs query with the key of a random
// user and decodes the JSON document it returns, failing unless exactly
// that user is found.
func sqlFind(db *sql.DB, query string, clients int, users []user, key func(user, int) string) operation {
	r := rngs(clients)
	return func(ctx context.Context, w, i int) error {
		u := users[r[w].IntN(len(users))]
		var id, doc string
		var version int64

		if err := db.QueryRowContext(ctx, query, key(u, i)).Scan(&id, &doc, &version); err != nil {
			return fmt.Errorf("find %s: %w", u.UserName, err)
		}
		var attrs map[string]any
		if err := json.Unmarshal([]byte(doc), &attrs); err != nil {
			return fmt.Errorf("decode %s: %w", u.UserName, err)
		}
		if id != u.ID || !strings.EqualFold(attrs["userName"].(string), u.UserName) {
			return fmt.Errorf("find %s: got user %s", u.UserName, id)
		}
		return nil
	}
}
