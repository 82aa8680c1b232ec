package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/scimd/scimd/storage"
)

// CreateSandbox stores a new sandbox.
func (s *Store) CreateSandbox(ctx context.Context, sb *storage.Sandbox) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, `INSERT INTO sandboxes (id, key, display_name, created) VALUES (?, ?, ?, ?)`,
			sb.ID, sb.Key, sb.DisplayName, sb.Created.UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("create sandbox %q: %w", sb.ID, err)
	}
	return nil
}

func scanSandbox(row interface{ Scan(...any) error }) (*storage.Sandbox, error) {
	var sb storage.Sandbox
	var created int64
	if err := row.Scan(&sb.ID, &sb.Key, &sb.DisplayName, &created); err != nil {
		return nil, translate(err)
	}
	sb.Created = time.Unix(0, created).UTC()
	return &sb, nil
}

// GetSandbox returns the sandbox with the id.
func (s *Store) GetSandbox(ctx context.Context, id string) (*storage.Sandbox, error) {
	sb, err := scanSandbox(s.queryRow(ctx, s.reader, `SELECT id, key, display_name, created FROM sandboxes WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("get sandbox %q: %w", id, err)
	}
	return sb, nil
}

// ListSandboxes returns every sandbox in id order.
func (s *Store) ListSandboxes(ctx context.Context) ([]*storage.Sandbox, error) {
	rows, err := s.query(ctx, s.reader, `SELECT id, key, display_name, created FROM sandboxes ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list sandboxes: %w", err)
	}
	defer rows.Close()
	var out []*storage.Sandbox
	for rows.Next() {
		sb, err := scanSandbox(rows)
		if err != nil {
			return nil, fmt.Errorf("list sandboxes: %w", err)
		}
		out = append(out, sb)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sandboxes: %w", err)
	}
	return out, nil
}

// DeleteSandbox deletes the sandbox with its groups, memberships and
// credentials in one transaction.
func (s *Store) DeleteSandbox(ctx context.Context, id string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var key string
		if err := s.queryRow(ctx, tx, `SELECT key FROM sandboxes WHERE id = ?`, id).Scan(&key); err != nil {
			return translate(err)
		}
		steps := []string{
			`DELETE FROM sandboxes WHERE id = ?`,
			`UPDATE users SET version = version + 1
				WHERE id IN (SELECT user_id FROM memberships WHERE tenant = ?)`,
			`DELETE FROM memberships WHERE tenant = ?`,
			`DELETE FROM attr_values WHERE kind = 1 AND id IN (SELECT id FROM groups WHERE tenant = ?)`,
			`DELETE FROM groups WHERE tenant = ?`,
			`DELETE FROM credentials WHERE tenant = ?`,
		}
		for i, q := range steps {
			arg := key
			if i == 0 {
				arg = id
			}
			if _, err := s.exec(ctx, tx, q, arg); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete sandbox %q: %w", id, err)
	}
	return nil
}

// checkSandboxKey returns ErrTenantNotFound unless a sandbox has the key.
// Run inside the write transaction, the check and the write that follows
// are serialised with DeleteSandbox by the single writer.
func (s *Store) checkSandboxKey(ctx context.Context, tx *sql.Tx, key string) error {
	var one int
	err := s.queryRow(ctx, tx, `SELECT 1 FROM sandboxes WHERE key = ?`, key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.ErrTenantNotFound
	}
	return translate(err)
}

// CreateCredential stores a new credential after checking, in the same
// transaction, that its tenant is live.
func (s *Store) CreateCredential(ctx context.Context, c *storage.Credential) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if c.Tenant != storage.MainTenant && c.Tenant != storage.AdminTenant {
			if err := s.checkSandboxKey(ctx, tx, c.Tenant); err != nil {
				return err
			}
		}
		_, err := s.exec(ctx, tx, `INSERT INTO credentials (id, tenant, description, created, hash)
			VALUES (?, ?, ?, ?, ?)`, c.ID, c.Tenant, c.Description, c.Created.UnixNano(), c.Hash)
		return err
	})
	if err != nil {
		return fmt.Errorf("create credential %q: %w", c.ID, err)
	}
	return nil
}

const credentialColumns = `id, tenant, description, created, hash`

func scanCredential(row interface{ Scan(...any) error }) (*storage.Credential, error) {
	var c storage.Credential
	var created int64
	if err := row.Scan(&c.ID, &c.Tenant, &c.Description, &created, &c.Hash); err != nil {
		return nil, translate(err)
	}
	c.Created = time.Unix(0, created).UTC()
	return &c, nil
}

// CredentialByHash returns the credential whose secret has the hash.
func (s *Store) CredentialByHash(ctx context.Context, hash []byte) (*storage.Credential, error) {
	c, err := scanCredential(s.queryRow(ctx, s.reader, `SELECT `+credentialColumns+` FROM credentials WHERE hash = ?`, hash))
	if err != nil {
		return nil, fmt.Errorf("find credential by hash: %w", err)
	}
	return c, nil
}

// ListCredentials returns every credential in id order.
func (s *Store) ListCredentials(ctx context.Context) ([]*storage.Credential, error) {
	rows, err := s.query(ctx, s.reader, `SELECT `+credentialColumns+` FROM credentials ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	defer rows.Close()
	var out []*storage.Credential
	for rows.Next() {
		c, err := scanCredential(rows)
		if err != nil {
			return nil, fmt.Errorf("list credentials: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	return out, nil
}

// DeleteCredential deletes the credential with the id.
func (s *Store) DeleteCredential(ctx context.Context, id string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `DELETE FROM credentials WHERE id = ?`, id)
		if err != nil {
			return err
		}
		return requireOne(res)
	})
	if err != nil {
		return fmt.Errorf("delete credential %q: %w", id, err)
	}
	return nil
}
