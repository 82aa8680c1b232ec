package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/storage"
	"github.com/scimd/scimd/storage/sqlite"
)

// sameWritesBaseline measures the statements that storage/sqlite sends,
// issued straight through database/sql on a scratch file: the baseline of
// the POST /Users target. The file gets its schema from sqlite.Open and
// its connections from sqlite.DSNs, so tables, indexes and pragmas are
// the ones scimd runs with. An insert runs sqlite.CreateUserStatements
// (the users row and the attr_values rows) in one write transaction. A
// lookup replays the statements the Store sent for one recorded lookup,
// with the key and id of another user.
func sameWritesBaseline(ctx context.Context, log *slog.Logger, cfg *config, path string, n int) (*baselineResult, error) {
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("same-writes baseline: create schema: %w", err)
	}
	if err := st.Close(); err != nil {
		return nil, fmt.Errorf("same-writes baseline: create schema: %w", err)
	}
	writerDSN, readerDSN := sqlite.DSNs(path, sqlite.Options{})
	writer, err := sql.Open("sqlite", writerDSN)
	if err != nil {
		return nil, fmt.Errorf("same-writes baseline: open: %w", err)
	}
	defer writer.Close()
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	reader, err := sql.Open("sqlite", readerDSN)
	if err != nil {
		return nil, fmt.Errorf("same-writes baseline: open: %w", err)
	}
	defer reader.Close()
	readers := sqlite.Options{}.ReaderConns()
	reader.SetMaxOpenConns(readers)
	reader.SetMaxIdleConns(readers)

	users, err := loadSameWrites(ctx, writer, n)
	if err != nil {
		return nil, err
	}
	log.Info("same-writes baseline loaded", "users", len(users))
	lookups, err := recordLookups(ctx, path, users[0])
	if err != nil {
		return nil, err
	}

	br := &baselineResult{
		Short:  "raw SQL, same writes as CreateUser",
		Engine: "raw SQL, same statements as storage/sqlite: modernc.org/sqlite through database/sql, scratch file",
		Method: "Schema, indexes and pragmas of storage/sqlite (the file is created by `sqlite.Open`, the connections " +
			"use `sqlite.DSNs`: WAL, synchronous=NORMAL, one writer connection with BEGIN IMMEDIATE and a 32 MiB page " +
			"cache, query-only readers with 8 MiB each); insert = the statements of `sqlite.CreateUserStatements` " +
			"(one `users` row and one multi-row INSERT of the user's `attr_values` rows) in one transaction, built " +
			"before the clock starts; find by userName/externalId = the statements `QueryUsers` sent for an `eq` " +
			"filter with limit 100 and the total counted (count, page of ids, records), recorded through " +
			"`Store.SetTrace` and replayed in one read transaction with another user's key, the JSON document " +
			"decoded into a map; find by id = the SELECT `GetUser` sends",
	}
	ops := map[string]func(clients int) operation{
		blInsert: func(clients int) operation {
			// The statements are built before measuring, so that only
			// the SQL is timed.
			prefix := fmt.Sprintf("b%d-", clients)
			batches := make([][]sqlite.Statement, cfg.ops)
			for i := range batches {
				_, su, err := baselineUser(i, prefix)
				if err == nil {
					batches[i], err = sqlite.CreateUserStatements(su)
				}
				if err != nil {
					return func(context.Context, int, int) error { return fmt.Errorf("build user %d: %w", i, err) }
				}
			}
			return func(ctx context.Context, w, i int) error {
				return execTx(ctx, writer, batches[i])
			}
		},
		blUserName: func(clients int) operation {
			return replayOp(reader, lookups.userName, clients, users, func(u user, i int) string { return caseVariant(u.UserName, i) })
		},
		blExternalID: func(clients int) operation {
			return replayOp(reader, lookups.externalID, clients, users, func(u user, _ int) string { return u.ExternalID })
		},
		blByID: func(clients int) operation {
			return replayOp(reader, lookups.byID, clients, users, func(u user, _ int) string { return u.ID })
		},
	}
	br.Results = measureBaseline(ctx, log, cfg, ops)
	return br, nil
}

// execTx runs the statements in one write transaction.
func execTx(ctx context.Context, db *sql.DB, stmts []sqlite.Statement) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st.Query, st.Args...); err != nil {
			tx.Rollback()
			return fmt.Errorf("exec: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// loadSameWrites stores n users with the statements of CreateUser, 1,000
// users per transaction (not measured), and returns them.
func loadSameWrites(ctx context.Context, db *sql.DB, n int) ([]user, error) {
	users := make([]user, 0, n)
	for lo := 0; lo < n; lo += 1000 {
		var stmts []sqlite.Statement
		for i := lo; i < min(lo+1000, n); i++ {
			u, su, err := baselineUser(i, "")
			if err != nil {
				return nil, fmt.Errorf("same-writes baseline: load: %w", err)
			}
			s, err := sqlite.CreateUserStatements(su)
			if err != nil {
				return nil, fmt.Errorf("same-writes baseline: load user %d: %w", i, err)
			}
			stmts = append(stmts, s...)
			users = append(users, u)
		}
		if err := execTx(ctx, db, stmts); err != nil {
			return nil, fmt.Errorf("same-writes baseline: load: %w", err)
		}
	}
	return users, nil
}

// tracedLookup is the statements that one Store lookup sent, in order,
// with the key and the user id of that lookup.
type tracedLookup struct {
	stmts []sqlite.Statement
	key   string
	id    string
	inTx  bool // QueryUsers runs its statements in one read transaction
}

type tracedLookups struct {
	userName, externalID, byID *tracedLookup
}

// recordLookups opens the loaded file with sqlite.Open and records the
// statements of three lookups of u: QueryUsers by userName (spelled in
// upper case, so that the key differs from its lower-cased form) and by
// externalId, with the limit and count of a SCIM list request (limit 100,
// total counted), and GetUser.
func recordLookups(ctx context.Context, path string, u user) (*tracedLookups, error) {
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("same-writes baseline: record lookups: %w", err)
	}
	defer st.Close()
	var mu sync.Mutex
	var stmts []sqlite.Statement
	st.SetTrace(func(query string, args []any) {
		mu.Lock()
		defer mu.Unlock()
		stmts = append(stmts, sqlite.Statement{Query: query, Args: slices.Clone(args)})
	})
	take := func(key, id string, inTx bool) *tracedLookup {
		mu.Lock()
		defer mu.Unlock()
		t := &tracedLookup{stmts: stmts, key: key, id: id, inTx: inTx}
		stmts = nil
		return t
	}

	var out tracedLookups
	for _, c := range []struct {
		attr, key string
		dst       **tracedLookup
	}{
		{"userName", strings.ToUpper(u.UserName), &out.userName},
		{"externalId", u.ExternalID, &out.externalID},
	} {
		path, err := schemas.User.Lookup(c.attr)
		if err != nil {
			return nil, fmt.Errorf("same-writes baseline: %w", err)
		}
		q := storage.Query{Filter: schemas.Compare{Path: path, Op: schemas.Eq, Value: c.key}, Limit: 100, Count: true}
		page, err := st.QueryUsers(ctx, storage.MainTenant, q)
		if err != nil {
			return nil, fmt.Errorf("same-writes baseline: record %s lookup: %w", c.attr, err)
		}
		if len(page.Items) != 1 || page.Items[0].ID != u.ID {
			return nil, fmt.Errorf("same-writes baseline: record %s lookup: found %d users", c.attr, len(page.Items))
		}
		*c.dst = take(c.key, u.ID, true)
	}
	if _, err := st.GetUser(ctx, u.ID); err != nil {
		return nil, fmt.Errorf("same-writes baseline: record id lookup: %w", err)
	}
	out.byID = take(u.ID, u.ID, false)

	for _, t := range []*tracedLookup{out.userName, out.externalID, out.byID} {
		if !t.uses(t.key) && !t.uses(strings.ToLower(t.key)) {
			return nil, fmt.Errorf("same-writes baseline: recorded statements %q do not contain their key", t.stmts)
		}
	}
	return &out, nil
}

// uses reports whether an argument of the recorded statements is v.
func (t *tracedLookup) uses(v string) bool {
	for _, st := range t.stmts {
		if slices.Contains(st.Args, any(v)) {
			return true
		}
	}
	return false
}

// replayOp returns an operation that replays t for a random user, found
// by the key that key returns, and fails unless exactly that user is
// found.
func replayOp(db *sql.DB, t *tracedLookup, clients int, users []user, key func(user, int) string) operation {
	r := rngs(clients)
	return func(ctx context.Context, w, i int) error {
		u := users[r[w].IntN(len(users))]
		return t.replay(ctx, db, key(u, i), u)
	}
}

// replay runs the recorded statements with the recorded key replaced by
// key (its lower-cased form by the lower-cased key) and the recorded id
// replaced by the id the statements before found, or by want's id when
// none did. The last statement must return want's record, whose JSON
// document is decoded as the Store decodes it.
func (t *tracedLookup) replay(ctx context.Context, db *sql.DB, key string, want user) error {
	var q interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	} = db
	if t.inTx {
		tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer tx.Rollback()
		q = tx
	}

	found := want.ID
	var last [][]any
	for _, st := range t.stmts {
		rows, err := queryAll(ctx, q, st.Query, t.substitute(st.Args, key, found))
		if err != nil {
			return fmt.Errorf("find %s: %w", want.UserName, err)
		}
		// A page of ids: one row whose first column is the id (the store
		// selects the sort value beside it, for the cursor key). A count
		// is one integer and leaves found as it is.
		if len(rows) == 1 && len(rows[0]) >= 1 {
			if id, ok := rows[0][0].(string); ok {
				found = id
			}
		}
		last = rows
	}

	if len(last) != 1 || len(last[0]) < 2 || last[0][0] != any(want.ID) {
		return fmt.Errorf("find %s: got %d rows, want user %s", want.UserName, len(last), want.ID)
	}
	doc, _ := last[0][1].(string)
	d := json.NewDecoder(bytes.NewReader([]byte(doc)))
	d.UseNumber()
	var attrs map[string]any
	if err := d.Decode(&attrs); err != nil {
		return fmt.Errorf("decode %s: %w", want.UserName, err)
	}
	if name, _ := attrs["userName"].(string); !strings.EqualFold(name, want.UserName) {
		return fmt.Errorf("find %s: got userName %q", want.UserName, name)
	}
	return nil
}

// substitute returns args with the recorded key, its lower-cased form and
// the recorded id replaced by key, its lower-cased form and id.
func (t *tracedLookup) substitute(args []any, key, id string) []any {
	out := make([]any, len(args))
	for k, a := range args {
		switch a {
		case any(t.key):
			out[k] = key
		case any(strings.ToLower(t.key)):
			out[k] = strings.ToLower(key)
		case any(t.id):
			out[k] = id
		default:
			out[k] = a
		}
	}
	return out
}

// queryAll runs query and returns all its rows.
func queryAll(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args []any) ([][]any, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for k := range vals {
			ptrs[k] = &vals[k]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}
