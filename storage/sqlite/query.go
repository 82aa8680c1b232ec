package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/scimd/scimd/storage"
)

// QueryUsers lists the users of the tenant that match q.
func (s *Store) QueryUsers(ctx context.Context, tenant string, q storage.Query) (*storage.Page[*storage.User], error) {
	b := &builder{kind: kindUser, tenant: tenant}
	var where []string
	if tenant != storage.MainTenant {
		where = append(where, fmt.Sprintf("r.id IN (SELECT mt.user_id FROM memberships mt WHERE mt.tenant = %s)", b.arg(tenant)))
	}
	page, err := runQuery(ctx, s, b, "users", userColumns, where, q, scanUser)
	if err != nil {
		return nil, fmt.Errorf("query users: %w", err)
	}
	return page, nil
}

// QueryGroups lists the tenant's groups that match q.
func (s *Store) QueryGroups(ctx context.Context, tenant string, q storage.Query) (*storage.Page[*storage.Group], error) {
	b := &builder{kind: kindGroup, tenant: tenant}
	where := []string{"r.tenant = " + b.arg(tenant)}
	page, err := runQuery(ctx, s, b, "groups", groupColumns, where, q, scanGroup)
	if err != nil {
		return nil, fmt.Errorf("query groups: %w", err)
	}
	return page, nil
}

// runQuery selects one page of ids in the order asked, then reads the
// records of that page only; the total, when asked, is counted apart.
// Both statements run in one read transaction, so they agree.
func runQuery[T any](ctx context.Context, s *Store, b *builder, table, columns string, where []string,
	q storage.Query, scan func(interface{ Scan(...any) error }) (T, error)) (*storage.Page[T], error) {
	if q.Filter != nil {
		cond, err := b.filter(q.Filter, "r.id")
		if err != nil {
			return nil, err
		}
		where = append(where, cond)
	}
	if q.After != "" && q.SortBy != nil {
		return nil, fmt.Errorf("cursor with sortBy: %w", storage.ErrInvalidCursor)
	}

	key, order := "NULL", "r.id"
	outerOrder := "p.id"
	if q.SortBy != nil {
		k, err := b.sortKey(*q.SortBy)
		if err != nil {
			return nil, err
		}
		key = k
		// Resources without a value sort last ascending and first
		// descending; ties are in id order.
		order, outerOrder = "(k IS NULL), k, r.id", "(p.k IS NULL), p.k, p.id"
		if q.Descending {
			order, outerOrder = "(k IS NULL) DESC, k DESC, r.id", "(p.k IS NULL) DESC, p.k DESC, p.id"
		}
	}
	countWhere := strings.Join(append([]string{"1"}, where...), " AND ")
	countArgs := append([]any(nil), b.args...)

	pageWhere := where
	if q.After != "" {
		pageWhere = append(pageWhere, "r.id > "+b.arg(q.After))
	}
	limit := max(q.Limit, 0)
	offset := max(q.Offset, 0)
	if q.After != "" {
		offset = 0
	}
	// One row more than asked tells whether more follow.
	limitArg, offsetArg := b.arg(limit+1), b.arg(offset)

	cols := make([]string, 0, 6)
	for _, c := range strings.Split(columns, ", ") {
		cols = append(cols, "u."+c)
	}
	pageSQL := fmt.Sprintf(`WITH page (id, k) AS MATERIALIZED (
			SELECT r.id, %s AS k FROM %s r WHERE %s ORDER BY %s LIMIT %s OFFSET %s)
		SELECT %s FROM page p JOIN %s u ON u.id = p.id ORDER BY %s`,
		key, table, strings.Join(append([]string{"1"}, pageWhere...), " AND "), order, limitArg, offsetArg,
		strings.Join(cols, ", "), table, outerOrder)

	out := &storage.Page[T]{Items: []T{}}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if q.Count {
			err := s.queryRow(ctx, tx, fmt.Sprintf("SELECT count(*) FROM %s r WHERE %s", table, countWhere), countArgs...).Scan(&out.Total)
			if err != nil {
				return translate(err)
			}
		}
		rows, err := s.query(ctx, tx, pageSQL, b.args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			item, err := scan(rows)
			if err != nil {
				return err
			}
			if len(out.Items) == limit {
				out.More = true
				continue
			}
			out.Items = append(out.Items, item)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
