package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/scimd/scimd/storage"
)

// Resource kinds in attr_values.
const (
	kindUser  = 0
	kindGroup = 1
)

// normalize returns the value of a case-insensitive unique column, or nil
// (NULL, which never conflicts) for an empty string.
func normalize(s string) any {
	if s == "" {
		return nil
	}
	return strings.ToLower(s)
}

func userDisplay(u *storage.User) any {
	if s, ok := u.Attributes["displayName"].(string); ok && s != "" {
		return s
	}
	return nil
}

// memberDisplay returns the text that groups list for the user as a
// member: its displayName, or its userName when it has none.
func memberDisplay(u *storage.User) string {
	if s, ok := userDisplay(u).(string); ok {
		return s
	}
	return u.UserName()
}

// CreateUser stores a new user with Version 1.
func (s *Store) CreateUser(ctx context.Context, u *storage.User) error {
	stmts, err := CreateUserStatements(u)
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.ID, err)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		for _, st := range stmts {
			if _, err := s.exec(ctx, tx, st.Query, st.Args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.ID, err)
	}
	u.Version = 1
	return nil
}

// Statement is one SQL statement and its arguments.
type Statement struct {
	Query string
	Args  []any
}

// CreateUserStatements returns the statements that CreateUser runs, in
// order and in one write transaction, to store u: the users row, then the
// user's attr_values rows. It lets a program issue the same writes
// straight through database/sql, for example to measure what the layers
// above the store cost.
func CreateUserStatements(u *storage.User) ([]Statement, error) {
	doc, err := encodeDoc(u.Attributes)
	if err != nil {
		return nil, err
	}
	stmts := []Statement{{
		Query: `INSERT INTO users
			(id, user_name, user_name_norm, display_name, attrs, created, last_modified, version)
			VALUES (?, ?, ?, ?, ?, ?, ?, 1)`,
		Args: []any{u.ID, u.UserName(), normalize(u.UserName()), userDisplay(u), doc,
			u.Created.UnixNano(), u.LastModified.UnixNano()},
	}}
	return append(stmts, indexInserts(kindUser, u.ID, u.Created, u.LastModified, u.Attributes)...), nil
}

// writeIndex replaces the attr_values rows of one resource. A new
// resource has none to delete.
func (s *Store) writeIndex(ctx context.Context, tx *sql.Tx, kind int, id string, created, modified time.Time, attrs map[string]any, isNew bool) error {
	if !isNew {
		if _, err := s.exec(ctx, tx, `DELETE FROM attr_values WHERE kind = ? AND id = ?`, kind, id); err != nil {
			return fmt.Errorf("clear attribute index: %w", err)
		}
	}
	for _, st := range indexInserts(kind, id, created, modified, attrs) {
		if _, err := s.exec(ctx, tx, st.Query, st.Args...); err != nil {
			return fmt.Errorf("write attribute index: %w", err)
		}
	}
	return nil
}

// indexInserts returns the statements that insert the attr_values rows of
// one resource.
func indexInserts(kind int, id string, created, modified time.Time, attrs map[string]any) []Statement {
	resourceType := "User"
	if kind == kindGroup {
		resourceType = "Group"
	}
	rows := indexRows(resourceType, id, created, modified, attrs)
	// Rows go in batches of one statement each, far below SQLite's limit
	// of 32766 bound parameters.
	const batch = 100
	var stmts []Statement
	for start := 0; start < len(rows); start += batch {
		part := rows[start:min(start+batch, len(rows))]
		args := make([]any, 0, 7*len(part))
		for _, r := range part {
			args = append(args, kind, id, r.path, r.pos, r.v, r.lv, r.t)
		}
		values := strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", len(part)-1) + "(?, ?, ?, ?, ?, ?, ?)"
		stmts = append(stmts, Statement{
			Query: `INSERT OR IGNORE INTO attr_values (kind, id, path, pos, v, lv, t) VALUES ` + values,
			Args:  args,
		})
	}
	return stmts
}

const userColumns = `id, attrs, created, last_modified, version`

func scanUser(row interface{ Scan(...any) error }) (*storage.User, error) {
	var (
		u                 storage.User
		doc               string
		created, modified int64
	)
	if err := row.Scan(&u.ID, &doc, &created, &modified, &u.Version); err != nil {
		return nil, translate(err)
	}
	attrs, err := decodeDoc(doc)
	if err != nil {
		return nil, err
	}
	u.Attributes = attrs
	u.Created = time.Unix(0, created).UTC()
	u.LastModified = time.Unix(0, modified).UTC()
	return &u, nil
}

// GetUser returns the user with the id.
func (s *Store) GetUser(ctx context.Context, id string) (*storage.User, error) {
	u, err := scanUser(s.queryRow(ctx, s.reader, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("get user %q: %w", id, err)
	}
	return u, nil
}

// UpdateUser runs the read, update and write in one write transaction, so
// the version cannot change in between and update runs exactly once.
// update must not write to the store, whose only writing connection the
// transaction holds.
func (s *Store) UpdateUser(ctx context.Context, id string, now time.Time, update func(*storage.User) error) (*storage.User, error) {
	var updated *storage.User
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		u, err := scanUser(s.queryRow(ctx, tx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
		if err != nil {
			return err
		}
		display := memberDisplay(u)
		if err := update(u); err != nil {
			return err
		}
		doc, err := encodeDoc(u.Attributes)
		if err != nil {
			return err
		}
		if memberDisplay(u) != display {
			// The groups' members list the user's display text.
			if _, err := s.exec(ctx, tx, `UPDATE groups SET version = version + 1
				WHERE id IN (SELECT group_id FROM memberships WHERE user_id = ?)`, id); err != nil {
				return err
			}
		}
		version := u.Version
		u.ID = id
		u.Version = version + 1
		u.LastModified = now
		_, err = s.exec(ctx, tx, `UPDATE users SET user_name = ?, user_name_norm = ?, display_name = ?,
			attrs = ?, last_modified = ?, version = ? WHERE id = ? AND version = ?`,
			u.UserName(), normalize(u.UserName()), userDisplay(u), doc, now.UnixNano(), u.Version, id, version)
		if err != nil {
			return err
		}
		if err := s.writeIndex(ctx, tx, kindUser, id, u.Created, now, u.Attributes, false); err != nil {
			return err
		}
		updated = u
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("update user %q: %w", id, err)
	}
	return updated, nil
}

// DeleteUser deletes the user, its memberships in every tenant and its
// index rows, and bumps the version of every group it was a member of.
// The version check runs in the same write transaction, which BEGIN
// IMMEDIATE keeps free of other writers from its start.
//
// NOTE: the Store interface passes no time to DeleteUser and
// RemoveUserFromTenant, so those groups' lastModified is the wall clock.
func (s *Store) DeleteUser(ctx context.Context, id string, ifVersion int64) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var version int64
		if err := s.queryRow(ctx, tx, `SELECT version FROM users WHERE id = ?`, id).Scan(&version); err != nil {
			return translate(err)
		}
		if err := matchVersion(version, ifVersion); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `UPDATE groups SET version = version + 1, last_modified = ?
			WHERE id IN (SELECT group_id FROM memberships WHERE user_id = ?)`,
			time.Now().UnixNano(), id); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM memberships WHERE user_id = ?`, id); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM attr_values WHERE kind = ? AND id = ?`, kindUser, id); err != nil {
			return err
		}
		res, err := s.exec(ctx, tx, `DELETE FROM users WHERE id = ?`, id)
		if err != nil {
			return err
		}
		return requireOne(res)
	})
	if err != nil {
		return fmt.Errorf("delete user %q: %w", id, err)
	}
	return nil
}

// matchVersion returns ErrVersionMismatch unless ifVersion is 0 or equals
// the stored version.
func matchVersion(stored, ifVersion int64) error {
	if ifVersion != 0 && ifVersion != stored {
		return fmt.Errorf("%w: version %d, not %d", storage.ErrVersionMismatch, stored, ifVersion)
	}
	return nil
}

// requireOne returns ErrNotFound unless the statement changed a row.
func requireOne(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// RemoveUserFromTenant deletes the user's memberships in the tenant's
// groups and bumps those groups' versions.
func (s *Store) RemoveUserFromTenant(ctx context.Context, tenant, userID string) (int, error) {
	var removed int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, `UPDATE groups SET version = version + 1, last_modified = ?
			WHERE id IN (SELECT group_id FROM memberships WHERE tenant = ? AND user_id = ?)`,
			time.Now().UnixNano(), tenant, userID); err != nil {
			return err
		}
		res, err := s.exec(ctx, tx, `DELETE FROM memberships WHERE tenant = ? AND user_id = ?`, tenant, userID)
		if err != nil {
			return err
		}
		removed, err = res.RowsAffected()
		if err != nil {
			return err
		}
		return s.bumpIfChanged(ctx, tx, res, userID)
	})
	if err != nil {
		return 0, fmt.Errorf("remove user %q from tenant: %w", userID, err)
	}
	return int(removed), nil
}

// UserGroups returns the tenant's groups of each user, ordered by
// displayName.
func (s *Store) UserGroups(ctx context.Context, tenant string, userIDs []string) (map[string][]storage.GroupRef, error) {
	out := make(map[string][]storage.GroupRef, len(userIDs))
	const chunk = 500 // stays far below SQLite's limit on bound parameters
	for start := 0; start < len(userIDs); start += chunk {
		ids := userIDs[start:min(start+chunk, len(userIDs))]
		args := []any{tenant}
		for _, id := range ids {
			args = append(args, id)
		}
		rows, err := s.query(ctx, s.reader, `SELECT m.user_id, g.id, g.display_name
			FROM memberships m JOIN groups g ON g.id = m.group_id
			WHERE m.tenant = ? AND m.user_id IN (`+placeholders(len(ids))+`)
			ORDER BY m.user_id, g.display_name_norm, g.id`, args...)
		if err != nil {
			return nil, fmt.Errorf("list user groups: %w", err)
		}
		for rows.Next() {
			var userID string
			var ref storage.GroupRef
			if err := rows.Scan(&userID, &ref.GroupID, &ref.DisplayName); err != nil {
				rows.Close()
				return nil, fmt.Errorf("list user groups: %w", err)
			}
			out[userID] = append(out[userID], ref)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, fmt.Errorf("list user groups: %w", err)
		}
	}
	return out, nil
}

func placeholders(n int) string {
	if n == 0 {
		return "NULL"
	}
	return strings.Repeat("?, ", n-1) + "?"
}
