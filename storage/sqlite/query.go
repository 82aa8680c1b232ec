package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
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
	from    string // FROM and WHERE clauses
	order   string
	value   string // the sort value selected with each id
	missing bool   // the part of resources without a sort value
	args    []any
}

// pageKey is a position in a query's order, the Page.LastKey of the
// item there: the part it is in, its sort value and its id.
type pageKey struct {
	Missing bool   `json:"m,omitempty"`
	Value   any    `json:"v"`
	ID      string `json:"i"`
}

func encodeKey(k pageKey) (string, error) {
	data, err := json.Marshal(k)
	if err != nil {
		return "", fmt.Errorf("encode page key: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(data), nil
}

// decodeKey reads a Query.AfterKey. Numbers come back with the SQLite
// type they were read with, integer or real, so that they compare as the
// stored values do.
func decodeKey(s string) (*pageKey, error) {
	data, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("page key: %w", storage.ErrInvalidCursor)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var k pageKey
	if err := dec.Decode(&k); err != nil || k.ID == "" {
		return nil, fmt.Errorf("page key: %w", storage.ErrInvalidCursor)
	}
	switch v := k.Value.(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			k.Value = n
		} else if f, err := v.Float64(); err == nil {
			k.Value = f
		} else {
			return nil, fmt.Errorf("page key: %w", storage.ErrInvalidCursor)
		}
	case string, nil:
	default:
		return nil, fmt.Errorf("page key: %w", storage.ErrInvalidCursor)
	}
	return &k, nil
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
	if q.After != "" && (q.SortBy != nil || q.AfterKey != "") {
		return nil, fmt.Errorf("cursor with sortBy: %w", storage.ErrInvalidCursor)
	}
	var after *pageKey
	switch {
	case q.AfterKey != "":
		k, err := decodeKey(q.AfterKey)
		if err != nil {
			return nil, err
		}
		if q.SortBy == nil && (k.Missing || k.Value != nil) {
			return nil, fmt.Errorf("page key of a sorted query: %w", storage.ErrInvalidCursor)
		}
		after = k
	case q.After != "":
		after = &pageKey{ID: q.After}
	}
	countSQL := fmt.Sprintf("SELECT count(*) FROM %s r WHERE %s", table, strings.Join(append([]string{"1"}, where...), " AND "))
	countArgs := append([]any(nil), b.args...)

	parts, err := idParts(b, table, where, q, after)
	if err != nil {
		return nil, err
	}
	limit := max(q.Limit, 0)
	offset := max(q.Offset, 0)
	if after != nil {
		offset = 0
	}

	out := &storage.Page[T]{Items: []T{}}
	var keys []pageKey
	err = s.readTx(ctx, func(tx *sql.Tx) error {
		if q.Count {
			if err := s.queryRow(ctx, tx, countSQL, countArgs...).Scan(&out.Total); err != nil {
				return translate(err)
			}
		}
		// Reading one id more than the limit shows whether more follow.
		keys, err = s.pageIDs(ctx, tx, parts, offset, limit+1)
		if err != nil {
			return err
		}
		if len(keys) > limit {
			keys, out.More = keys[:limit], true
		}
		ids := make([]string, len(keys))
		for i, k := range keys {
			ids[i] = k.ID
		}
		out.Items, err = loadRecords(ctx, s, tx, table, columns, ids, scan, idOf)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(keys) > 0 {
		if out.LastKey, err = encodeKey(keys[len(keys)-1]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// idParts returns the statements that list the matching ids in the order
// that q requests, strictly after the position after when it is not nil.
// Sorted by an attribute, the resources that have a value are listed by
// walking the attr_values index in value order, and those without one
// (last ascending, first descending) in id order. Ties are in id order.
// Descending reverses every part and the order of the parts.
func idParts(b *builder, table string, where []string, q storage.Query, after *pageKey) ([]idPart, error) {
	cond := strings.Join(append([]string{"1"}, where...), " AND ")
	if q.SortBy == nil {
		if after != nil {
			cond += " AND r.id > " + b.arg(after.ID)
		}
		return []idPart{{from: fmt.Sprintf("FROM %s r WHERE %s", table, cond), order: "r.id", value: "NULL", args: b.args}}, nil
	}

	column, path, err := b.sortColumn(*q.SortBy)
	if err != nil {
		return nil, err
	}
	pathArg := b.arg(path)
	dir, cmp := "", ">"
	if q.Descending {
		dir, cmp = " DESC", "<"
	}
	valued := idPart{
		from: fmt.Sprintf("FROM attr_values s JOIN %s r ON r.id = s.id WHERE s.kind = %d AND s.path = %s AND s.pos = 0 AND s.%s IS NOT NULL AND %s",
			table, b.kind, pathArg, column, cond),
		order: fmt.Sprintf("s.%[1]s%[2]s, s.id%[2]s", column, dir),
		value: "s." + column,
		args:  b.args,
	}
	missing := idPart{
		from: fmt.Sprintf(`FROM %s r WHERE %s AND NOT EXISTS (SELECT 1 FROM attr_values s
			WHERE s.kind = %d AND s.id = r.id AND s.path = %s AND s.pos = 0 AND s.%s IS NOT NULL)`,
			table, cond, b.kind, pathArg, column),
		order:   "r.id" + dir,
		value:   "NULL",
		missing: true,
		args:    b.args,
	}
	parts := []idPart{valued, missing}
	if q.Descending {
		parts = []idPart{missing, valued}
	}
	if after == nil {
		return parts, nil
	}

	// Continue in the part of the position, after it, and skip the
	// parts before it. The keyset arguments follow the shared ones.
	for i, p := range parts {
		if p.missing != after.Missing {
			continue
		}
		n := len(b.args)
		if p.missing {
			p.from += fmt.Sprintf(" AND r.id %s ?%d", cmp, n+1)
			p.args = append(slices.Clone(b.args), after.ID)
		} else {
			if after.Value == nil {
				return nil, fmt.Errorf("page key without a sort value: %w", storage.ErrInvalidCursor)
			}
			p.from += fmt.Sprintf(" AND (s.%[1]s %[2]s ?%[3]d OR (s.%[1]s = ?%[3]d AND s.id %[2]s ?%[4]d))", column, cmp, n+1, n+2)
			p.args = append(slices.Clone(b.args), after.Value, after.ID)
		}
		parts[i] = p
		return parts[i:], nil
	}
	return nil, fmt.Errorf("page key: %w", storage.ErrInvalidCursor)
}

// pageIDs reads the positions of up to limit items after skipping
// offset, going through the parts in turn. Only a part that offset skips
// entirely is counted.
func (s *Store) pageIDs(ctx context.Context, tx *sql.Tx, parts []idPart, offset, limit int) ([]pageKey, error) {
	var keys []pageKey
	for _, p := range parts {
		want := limit - len(keys)
		if want <= 0 {
			break
		}
		args := append(append([]any(nil), p.args...), want, offset)
		query := fmt.Sprintf("SELECT r.id, %s %s ORDER BY %s LIMIT ?%d OFFSET ?%d", p.value, p.from, p.order, len(args)-1, len(args))
		got, err := s.queryKeys(ctx, tx, query, args, p.missing)
		if err != nil {
			return nil, err
		}
		keys = append(keys, got...)
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
	return keys, nil
}

func (s *Store) queryKeys(ctx context.Context, tx *sql.Tx, query string, args []any, missing bool) ([]pageKey, error) {
	rows, err := s.query(ctx, tx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []pageKey
	for rows.Next() {
		k := pageKey{Missing: missing}
		if err := rows.Scan(&k.ID, &k.Value); err != nil {
			return nil, err
		}
		if b, ok := k.Value.([]byte); ok {
			k.Value = string(b)
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
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
