package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/scimd/scimd/storage"
)

const groupColumns = `id, tenant, attrs, created, last_modified, version`

func scanGroup(row interface{ Scan(...any) error }) (*storage.Group, error) {
	var (
		g                 storage.Group
		doc               string
		created, modified int64
	)
	if err := row.Scan(&g.ID, &g.Tenant, &doc, &created, &modified, &g.Version); err != nil {
		return nil, translate(err)
	}
	attrs, err := decodeDoc(doc)
	if err != nil {
		return nil, err
	}
	g.Attributes = attrs
	g.Created = time.Unix(0, created).UTC()
	g.LastModified = time.Unix(0, modified).UTC()
	return &g, nil
}

// CreateGroup stores a new group and its members in one transaction,
// which also checks that the tenant is live.
func (s *Store) CreateGroup(ctx context.Context, g *storage.Group, members []string) error {
	doc, err := encodeDoc(g.Attributes)
	if err != nil {
		return fmt.Errorf("create group %q: %w", g.ID, err)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if g.Tenant != storage.MainTenant {
			if err := s.checkSandboxKey(ctx, tx, g.Tenant); err != nil {
				return err
			}
		}
		_, err := s.exec(ctx, tx, `INSERT INTO groups
			(id, tenant, display_name, display_name_norm, attrs, created, last_modified, version)
			VALUES (?, ?, ?, ?, ?, ?, ?, 1)`,
			g.ID, g.Tenant, g.DisplayName(), normalize(g.DisplayName()), doc,
			g.Created.UnixNano(), g.LastModified.UnixNano())
		if err != nil {
			return err
		}
		if err := s.writeIndex(ctx, tx, kindGroup, g.ID, g.Created, g.LastModified, g.Attributes, true); err != nil {
			return err
		}
		return s.addMembers(ctx, tx, g.Tenant, g.ID, members)
	})
	if err != nil {
		return fmt.Errorf("create group %q: %w", g.ID, err)
	}
	g.Version = 1
	return nil
}

// addMembers adds memberships after checking that each user exists. It
// reads neither the group's other members nor the user records.
func (s *Store) addMembers(ctx context.Context, tx *sql.Tx, tenant, groupID string, userIDs []string) error {
	for _, id := range userIDs {
		var one int
		err := s.queryRow(ctx, tx, `SELECT 1 FROM users WHERE id = ?`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return &storage.MemberNotFoundError{UserID: id}
		}
		if err != nil {
			return translate(err)
		}
		res, err := s.exec(ctx, tx, `INSERT OR IGNORE INTO memberships (group_id, user_id, tenant)
			VALUES (?, ?, ?)`, groupID, id, tenant)
		if err != nil {
			return err
		}
		if err := s.bumpIfChanged(ctx, tx, res, id); err != nil {
			return err
		}
	}
	return nil
}

// bumpIfChanged increments the user's version when res changed a
// membership of the user: its groups attribute is part of the resource.
func (s *Store) bumpIfChanged(ctx context.Context, tx *sql.Tx, res sql.Result, userID string) error {
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return err
	}
	_, err = s.exec(ctx, tx, `UPDATE users SET version = version + 1 WHERE id = ?`, userID)
	return err
}

// bumpMembersOf increments the version of every user with a membership
// in the group, before those memberships are deleted.
func (s *Store) bumpMembersOf(ctx context.Context, tx *sql.Tx, groupID string) error {
	_, err := s.exec(ctx, tx, `UPDATE users SET version = version + 1
		WHERE id IN (SELECT user_id FROM memberships WHERE group_id = ?)`, groupID)
	return err
}

func (s *Store) getGroup(ctx context.Context, q querier, tenant, id string) (*storage.Group, error) {
	return scanGroup(s.queryRow(ctx, q, `SELECT `+groupColumns+` FROM groups WHERE id = ? AND tenant = ?`, id, tenant))
}

// GetGroup returns the group with the id in the tenant.
func (s *Store) GetGroup(ctx context.Context, tenant, id string) (*storage.Group, error) {
	g, err := s.getGroup(ctx, s.reader, tenant, id)
	if err != nil {
		return nil, fmt.Errorf("get group %q: %w", id, err)
	}
	return g, nil
}

// UpdateGroup runs the read, update and write in one write transaction,
// so update runs exactly once. update must not write to the store.
func (s *Store) UpdateGroup(ctx context.Context, tenant, id string, now time.Time, update func(*storage.Group) (*storage.MemberChange, error)) (*storage.Group, error) {
	var updated *storage.Group
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		g, err := s.getGroup(ctx, tx, tenant, id)
		if err != nil {
			return err
		}
		change, err := update(g)
		if err != nil {
			return err
		}
		doc, err := encodeDoc(g.Attributes)
		if err != nil {
			return err
		}
		version := g.Version
		g.ID, g.Tenant = id, tenant
		g.Version = version + 1
		g.LastModified = now
		_, err = s.exec(ctx, tx, `UPDATE groups SET display_name = ?, display_name_norm = ?, attrs = ?,
			last_modified = ?, version = ? WHERE id = ? AND version = ?`,
			g.DisplayName(), normalize(g.DisplayName()), doc, now.UnixNano(), g.Version, id, version)
		if err != nil {
			return err
		}
		if err := s.writeIndex(ctx, tx, kindGroup, id, g.Created, now, g.Attributes, false); err != nil {
			return err
		}
		if err := s.changeMembers(ctx, tx, tenant, id, change); err != nil {
			return err
		}
		updated = g
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("update group %q: %w", id, err)
	}
	return updated, nil
}

func (s *Store) changeMembers(ctx context.Context, tx *sql.Tx, tenant, groupID string, c *storage.MemberChange) error {
	if c == nil {
		return nil
	}
	if c.Replace {
		if err := s.bumpMembersOf(ctx, tx, groupID); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM memberships WHERE group_id = ?`, groupID); err != nil {
			return err
		}
		return s.addMembers(ctx, tx, tenant, groupID, c.Set)
	}
	for _, id := range c.Remove {
		res, err := s.exec(ctx, tx, `DELETE FROM memberships WHERE group_id = ? AND user_id = ?`, groupID, id)
		if err != nil {
			return err
		}
		if err := s.bumpIfChanged(ctx, tx, res, id); err != nil {
			return err
		}
	}
	return s.addMembers(ctx, tx, tenant, groupID, c.Add)
}

// DeleteGroup deletes the group, its memberships and its index rows,
// after checking the version in the same write transaction.
func (s *Store) DeleteGroup(ctx context.Context, tenant, id string, ifVersion int64) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var version int64
		if err := s.queryRow(ctx, tx, `SELECT version FROM groups WHERE id = ? AND tenant = ?`, id, tenant).Scan(&version); err != nil {
			return translate(err)
		}
		if err := matchVersion(version, ifVersion); err != nil {
			return err
		}
		if err := s.bumpMembersOf(ctx, tx, id); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM memberships WHERE group_id = ?`, id); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM attr_values WHERE kind = ? AND id = ?`, kindGroup, id); err != nil {
			return err
		}
		_, err := s.exec(ctx, tx, `DELETE FROM groups WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete group %q: %w", id, err)
	}
	return nil
}

// ListMembers returns a page of the group's members in user id order.
func (s *Store) ListMembers(ctx context.Context, tenant, groupID, after string, limit int) ([]storage.Member, error) {
	var members []storage.Member
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := s.queryRow(ctx, tx, `SELECT 1 FROM groups WHERE id = ? AND tenant = ?`, groupID, tenant).Scan(&one); err != nil {
			return translate(err)
		}
		if limit <= 0 {
			return nil
		}
		rows, err := s.query(ctx, tx, `SELECT m.user_id, COALESCE(u.display_name, u.user_name)
			FROM memberships m JOIN users u ON u.id = m.user_id
			WHERE m.group_id = ? AND m.user_id > ? ORDER BY m.user_id LIMIT ?`, groupID, after, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m storage.Member
			if err := rows.Scan(&m.UserID, &m.Display); err != nil {
				return err
			}
			members = append(members, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list members of group %q: %w", groupID, err)
	}
	return members, nil
}

// IsMember reports whether the user is a member of the tenant's group.
func (s *Store) IsMember(ctx context.Context, tenant, groupID, userID string) (bool, error) {
	var member bool
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := s.queryRow(ctx, tx, `SELECT 1 FROM groups WHERE id = ? AND tenant = ?`, groupID, tenant).Scan(&one); err != nil {
			return translate(err)
		}
		err := s.queryRow(ctx, tx, `SELECT 1 FROM memberships WHERE group_id = ? AND user_id = ?`, groupID, userID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		member = err == nil
		return translate(err)
	})
	if err != nil {
		return false, fmt.Errorf("check member of group %q: %w", groupID, err)
	}
	return member, nil
}
