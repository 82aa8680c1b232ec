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
	page, err := runQuery(ctx, s, b, "users", userColumns, where, q, scanUser, func(u *storage.User) string { return u.ID })
	if err != nil {
		return nil, fmt.Errorf("query users: %w", err)
	}
	return page, nil
}

// QueryGroups lists the tenant's groups that match q.
func (s *Store) QueryGroups(ctx context.Context, tenant string, q storage.Query) (*storage.Page[*storage.Group], error) {
	b := &builder{kind: kindGroup, tenant: tenant}
	where := []string{"r.tenant = " + b.arg(tenant)}
	page, err := runQuery(ctx, s, b, "groups", groupColumns, where, q, scanGroup, func(g *storage.Group) string { return g.ID })
	if err != nil {
		return nil, fmt.Errorf("query groups: %w", err)
	}
	return page, nil
}

// idPart is one statement that lists matching ids in order. A sorted
// query has two: the resources with a sort value and those without.
type idPart struct {
	from  string // FROM and WHERE clauses
	order string
	args  []any
}

// runQuery selects one page of ids in the order asked, then reads the
// records of that page only; the total, when asked, is counted apart.
// All statements run in one read transaction, so they agree.
func runQuery[T any](ctx context.Context, s *Store, b *builder, table, columns string, where []string,
	q storage.Query, scan func(interface{ Scan(...any) error }) (T, error), idOf func(T) string) (*storage.Page[T], error) {
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
	countSQL := fmt.Sprintf("SELECT count(*) FROM %s r WHERE %s", table, strings.Join(append([]string{"1"}, where...), " AND "))
	countArgs := append([]any(nil), b.args...)

	parts, err := idParts(b, table, where, q)
	if err != nil {
		return nil, err
	}
	limit := max(q.Limit, 0)
	offset := max(q.Offset, 0)
	if q.After != "" {
		offset = 0
	}

	out := &storage.Page[T]{Items: []T{}}
	err = s.readTx(ctx, func(tx *sql.Tx) error {
		if q.Count {
			if err := s.queryRow(ctx, tx, countSQL, countArgs...).Scan(&out.Total); err != nil {
				return translate(err)
			}
		}
		// Reading one id more than the limit shows whether more follow.
		ids, err := s.pageIDs(ctx, tx, parts, offset, limit+1)
		if err != nil {
			return err
		}
		if len(ids) > limit {
			ids, out.More = ids[:limit], true
		}
		out.Items, err = loadRecords(ctx, s, tx, table, columns, ids, scan, idOf)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// idParts returns the statements that list the matching ids in the order
// that q requests. Sorted by an attribute, the resources that have a value are
// listed by walking the attr_values index in value order, and those
// without one (last ascending, first descending) in id order. Ties are in
// id order.
func idParts(b *builder, table string, where []string, q storage.Query) ([]idPart, error) {
	cond := strings.Join(append([]string{"1"}, where...), " AND ")
	if q.SortBy == nil {
		if q.After != "" {
			cond += " AND r.id > " + b.arg(q.After)
		}
		return []idPart{{from: fmt.Sprintf("FROM %s r WHERE %s", table, cond), order: "r.id", args: b.args}}, nil
	}

	column, path, err := b.sortColumn(*q.SortBy)
	if err != nil {
		return nil, err
	}
	pathArg := b.arg(path)
	valued := idPart{
		from: fmt.Sprintf("FROM attr_values s JOIN %s r ON r.id = s.id WHERE s.kind = %d AND s.path = %s AND s.pos = 0 AND s.%s IS NOT NULL AND %s",
			table, b.kind, pathArg, column, cond),
		order: fmt.Sprintf("s.%s, s.id", column),
		args:  b.args,
	}
	missing := idPart{
		from: fmt.Sprintf(`FROM %s r WHERE %s AND NOT EXISTS (SELECT 1 FROM attr_values s
			WHERE s.kind = %d AND s.id = r.id AND s.path = %s AND s.pos = 0 AND s.%s IS NOT NULL)`,
			table, cond, b.kind, pathArg, column),
		order: "r.id",
		args:  b.args,
	}
	if q.Descending {
		valued.order = fmt.Sprintf("s.%s DESC, s.id", column)
		return []idPart{missing, valued}, nil
	}
	return []idPart{valued, missing}, nil
}

// pageIDs reads up to limit ids after skipping offset, going through the
// parts in turn. Only a part that offset skips entirely is counted.
func (s *Store) pageIDs(ctx context.Context, tx *sql.Tx, parts []idPart, offset, limit int) ([]string, error) {
	var ids []string
	for _, p := range parts {
		want := limit - len(ids)
		if want <= 0 {
			break
		}
		args := append(append([]any(nil), p.args...), want, offset)
		query := fmt.Sprintf("SELECT r.id %s ORDER BY %s LIMIT ?%d OFFSET ?%d", p.from, p.order, len(args)-1, len(args))
		got, err := s.queryIDs(ctx, tx, query, args)
		if err != nil {
			return nil, err
		}
		ids = append(ids, got...)
		if len(got) > 0 || offset == 0 {
			offset = 0
			continue
		}
		var n int
		if err := s.queryRow(ctx, tx, "SELECT count(*) "+p.from, p.args...).Scan(&n); err != nil {
			return nil, translate(err)
		}
		offset = max(0, offset-n)
	}
	return ids, nil
}

func (s *Store) queryIDs(ctx context.Context, tx *sql.Tx, query string, args []any) ([]string, error) {
	rows, err := s.query(ctx, tx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// loadRecords reads the records with the ids and returns them in the
// order of ids.
func loadRecords[T any](ctx context.Context, s *Store, tx *sql.Tx, table, columns string, ids []string,
	scan func(interface{ Scan(...any) error }) (T, error), idOf func(T) string) ([]T, error) {
	byID := make(map[string]T, len(ids))
	const chunk = 500 // stays far below SQLite's limit on bound parameters
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		rows, err := s.query(ctx, tx, fmt.Sprintf("SELECT %s FROM %s WHERE id IN (%s)", columns, table, placeholders(len(part))), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			item, err := scan(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			byID[idOf(item)] = item
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	items := make([]T, 0, len(ids))
	for _, id := range ids {
		if item, ok := byID[id]; ok {
			items = append(items, item)
		}
	}
	return items, nil
}
