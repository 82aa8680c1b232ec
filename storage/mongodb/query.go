package mongodb

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/storage"
)

// QueryUsers lists all users for the main account and the members of the
// sandbox's groups for a sandbox.
func (s *Store) QueryUsers(ctx context.Context, tenant string, q storage.Query) (*storage.Page[*storage.User], error) {
	if groupID, ok := groupMembersFilter(q); ok {
		if q.AfterKey != "" {
			k, err := decodePageKey(q.AfterKey)
			if err != nil {
				return nil, fmt.Errorf("query users: %w", err)
			}
			if k.Missing || k.Value.Type != 0 || q.After != "" {
				return nil, fmt.Errorf("query users: page key of another query: %w", storage.ErrInvalidCursor)
			}
			q.After = k.ID
		}
		page, err := s.groupMemberUsers(ctx, tenant, groupID, q)
		if err != nil {
			return nil, fmt.Errorf("query users: %w", err)
		}
		if n := len(page.Items); n > 0 {
			page.LastKey = encodePageKey(pageKey{ID: page.Items[n-1].ID})
		}
		return page, nil
	}
	tr := &translator{s: s, tenant: tenant}
	var scope bson.D
	if tenant != storage.MainTenant {
		scope = bson.D{{Key: fieldTenants, Value: tenant}}
	}
	docs, page, err := s.query(ctx, s.users, tr, scope, q)
	if err != nil {
		return nil, fmt.Errorf("query users: %w", err)
	}
	out := &storage.Page[*storage.User]{Total: page.Total, More: page.More, LastKey: page.LastKey}
	for _, d := range docs {
		u, err := d.user()
		if err != nil {
			return nil, fmt.Errorf("query users: %w", err)
		}
		out.Items = append(out.Items, u)
	}
	return out, nil
}

// QueryGroups lists the tenant's groups.
func (s *Store) QueryGroups(ctx context.Context, tenant string, q storage.Query) (*storage.Page[*storage.Group], error) {
	tr := &translator{s: s, tenant: tenant, groups: true}
	scope := bson.D{{Key: "tenant", Value: tenant}}
	docs, page, err := s.query(ctx, s.groups, tr, scope, q)
	if err != nil {
		return nil, fmt.Errorf("query groups: %w", err)
	}
	out := &storage.Page[*storage.Group]{Total: page.Total, More: page.More, LastKey: page.LastKey}
	for _, d := range docs {
		g, err := d.group()
		if err != nil {
			return nil, fmt.Errorf("query groups: %w", err)
		}
		out.Items = append(out.Items, g)
	}
	return out, nil
}

// query runs q on collection c within scope (equality conditions that
// restrict the collection to a tenant).
//
// Documents without a value for the sort attribute come last in
// ascending order and first in descending order. MongoDB orders a missing
// value before every other, so such a query runs in two parts. The first
// has the documents with a value, sorted by it and then by id. The second
// has those without one in id order, in the sort direction so that
// descending is exactly ascending reversed.
func (s *Store) query(ctx context.Context, c *mongo.Collection, tr *translator, scope bson.D, q storage.Query) ([]resourceDoc, storage.Page[struct{}], error) {
	var page storage.Page[struct{}]
	if q.After != "" && (q.SortBy != nil || q.AfterKey != "") {
		return nil, page, fmt.Errorf("cursor with sortBy: %w", storage.ErrInvalidCursor)
	}
	var after *pageKey
	switch {
	case q.AfterKey != "":
		k, err := decodePageKey(q.AfterKey)
		if err != nil {
			return nil, page, err
		}
		after = k
	case q.After != "":
		after = &pageKey{ID: q.After}
	}
	f, err := tr.filter(ctx, q.Filter)
	if err != nil {
		return nil, page, err
	}
	filter := append(bson.D{}, scope...)
	if len(f) > 0 {
		filter = append(filter, bson.E{Key: "$and", Value: bson.A{f}})
	}
	if q.Count {
		n, err := c.CountDocuments(ctx, filter)
		if err != nil {
			return nil, page, translate("count", err)
		}
		page.Total = int(n)
	}
	parts, err := sortParts(c.Name(), scope, filter, q, after)
	if err != nil {
		return nil, page, err
	}
	if q.Limit <= 0 {
		switch {
		case after != nil:
			page.More, err = anyAfter(ctx, c, parts)
		case !q.Count:
			var n int64
			n, err = c.CountDocuments(ctx, filter, options.Count().SetLimit(int64(q.Offset)+1))
			page.More = n > int64(q.Offset)
		default:
			page.More = page.Total > q.Offset
		}
		if err != nil {
			return nil, page, translate("count", err)
		}
		return nil, page, nil
	}

	offset, want := int64(q.Offset), int64(q.Limit)+1
	if after != nil {
		offset = 0
	}
	var (
		docs []resourceDoc
		keys []pageKey
	)
	for _, p := range parts {
		if want == 0 {
			break
		}
		got, gotKeys, err := p.find(ctx, c, offset, want)
		if err != nil {
			return nil, page, err
		}
		docs, keys = append(docs, got...), append(keys, gotKeys...)
		want -= int64(len(got))
		if len(got) > 0 || offset == 0 {
			offset = 0
			continue
		}
		// The part had fewer documents than the offset; skip them all.
		n, err := p.count(ctx, c)
		if err != nil {
			return nil, page, translate("count", err)
		}
		offset = max(0, offset-n)
	}
	if len(docs) > q.Limit {
		docs, keys, page.More = docs[:q.Limit], keys[:q.Limit], true
	}
	if n := len(keys); n > 0 {
		page.LastKey = encodePageKey(keys[n-1])
	}
	return docs, page, nil
}

// anyAfter reports whether one of the parts has a document.
func anyAfter(ctx context.Context, c *mongo.Collection, parts []queryPart) (bool, error) {
	for _, p := range parts {
		n, err := c.CountDocuments(ctx, p.filter, options.Count().SetLimit(1))
		if err != nil || n > 0 {
			return n > 0, err
		}
	}
	return false, nil
}

// pageKey is a position in a query's order, the Page.LastKey of the
// document there: whether it lacks the sort attribute, its sort value
// (with its BSON type, so that it compares as stored) and its id.
type pageKey struct {
	Missing bool          `bson:"m,omitempty"`
	Value   bson.RawValue `bson:"v,omitempty"`
	ID      string        `bson:"i"`
}

func encodePageKey(k pageKey) string {
	// A struct of a bool, a value read from the server and a string
	// always encodes.
	data, _ := bson.Marshal(k)
	return base64.RawURLEncoding.EncodeToString(data)
}

func decodePageKey(s string) (*pageKey, error) {
	data, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("page key: %w", storage.ErrInvalidCursor)
	}
	var k pageKey
	if err := bson.Unmarshal(data, &k); err != nil || k.ID == "" {
		return nil, fmt.Errorf("page key: %w", storage.ErrInvalidCursor)
	}
	return &k, nil
}

// uniqueSortField is, per collection, the sort field that a unique index
// covers, so that it needs no tie-breaker.
var uniqueSortField = map[string]string{colUsers: "s.userName", colGroups: "s.displayName"}

// queryPart is one filter and order of a query (see Store.query).
type queryPart struct {
	filter bson.D
	sort   bson.D
	// field is the sort field whose value a page key records, "" for the
	// part of documents without one and for the id order.
	field   string
	missing bool
	// ties is set when sort has no _id tie-breaker although field may
	// have equal values: find then reads each run of equal values that
	// the page may cut again in id order, in direction dir.
	ties bool
	dir  int
	// all and present are set for the part of documents without the
	// sort attribute: it is counted as all minus present, because no
	// index serves a count of documents that lack a field.
	all, present bson.D
}

func (p *queryPart) count(ctx context.Context, c *mongo.Collection) (int64, error) {
	if p.all == nil {
		return c.CountDocuments(ctx, p.filter)
	}
	all, err := c.CountDocuments(ctx, p.all)
	if err != nil {
		return 0, err
	}
	present, err := c.CountDocuments(ctx, p.present)
	if err != nil {
		return 0, err
	}
	return all - present, nil
}

// find reads up to limit documents of the part after skipping skip, and
// the page key of each.
//
// When the sort leaves ties in index order (p.ties), the runs of equal
// values are put in id order. A run inside the page is complete and is
// sorted in memory. A run at an end of the page may continue outside it,
// so it is read again by its value in id order: the first run after
// skipping those of its documents that the offset covers, the last one
// up to its length in the page.
func (p *queryPart) find(ctx context.Context, c *mongo.Collection, skip, limit int64) ([]resourceDoc, []pageKey, error) {
	docs, keys, err := p.read(ctx, c, p.filter, p.sort, skip, limit)
	if err != nil || !p.ties || len(docs) == 0 {
		return docs, keys, err
	}
	var outDocs []resourceDoc
	var outKeys []pageKey
	for start := 0; start < len(docs); {
		end := start + 1
		for end < len(docs) && sameValue(keys[end].Value, keys[start].Value) {
			end++
		}
		first, last := start == 0 && skip > 0, end == len(docs) && int64(len(docs)) == limit
		runDocs, runKeys := docs[start:end], keys[start:end]
		if first || last {
			runDocs, runKeys, err = p.readRun(ctx, c, keys[start].Value, first, skip, int64(end-start))
			if err != nil {
				return nil, nil, err
			}
		} else {
			p.sortRun(runDocs, runKeys)
		}
		outDocs, outKeys = append(outDocs, runDocs...), append(outKeys, runKeys...)
		start = end
	}
	return outDocs, outKeys, nil
}

// readRun reads n documents of the part with the sort value v in id
// order. For the first run of a page read with an offset, it skips the
// documents with that value that the offset covers.
func (p *queryPart) readRun(ctx context.Context, c *mongo.Collection, v bson.RawValue, first bool, skip, n int64) ([]resourceDoc, []pageKey, error) {
	var runSkip int64
	if first {
		before := "$lt"
		if p.dir < 0 {
			before = "$gt"
		}
		ahead, err := c.CountDocuments(ctx, bson.D{{Key: "$and", Value: bson.A{
			p.filter, bson.D{{Key: p.field, Value: bson.D{{Key: before, Value: v}}}},
		}}})
		if err != nil {
			return nil, nil, translate("count", err)
		}
		runSkip = max(0, skip-ahead)
	}
	filter := bson.D{{Key: "$and", Value: bson.A{p.filter, bson.D{{Key: p.field, Value: v}}}}}
	return p.read(ctx, c, filter, bson.D{{Key: "_id", Value: p.dir}}, runSkip, n)
}

// sortRun orders a run of documents with equal sort values by id.
func (p *queryPart) sortRun(docs []resourceDoc, keys []pageKey) {
	order := make([]int, len(docs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return p.dir * strings.Compare(docs[a].ID, docs[b].ID) })
	sortedDocs, sortedKeys := make([]resourceDoc, len(docs)), make([]pageKey, len(docs))
	for i, j := range order {
		sortedDocs[i], sortedKeys[i] = docs[j], keys[j]
	}
	copy(docs, sortedDocs)
	copy(keys, sortedKeys)
}

// sameValue reports whether two sort values are equal as stored.
func sameValue(a, b bson.RawValue) bool {
	return a.Type == b.Type && bytes.Equal(a.Value, b.Value)
}

// read runs one find of the part with the filter and sort given.
func (p *queryPart) read(ctx context.Context, c *mongo.Collection, filter, sort bson.D, skip, limit int64) ([]resourceDoc, []pageKey, error) {
	projection := withoutSearch
	if strings.HasPrefix(p.field, "s.") {
		// The search copy holds the sort value; read only that of it.
		projection = bson.D{{Key: "tenant", Value: 1}, {Key: "a", Value: 1}, {Key: "created", Value: 1},
			{Key: "lastModified", Value: 1}, {Key: "version", Value: 1}, {Key: p.field, Value: 1}}
	}
	opts := options.Find().SetSort(sort).SetLimit(limit).SetProjection(projection)
	if skip > 0 {
		opts.SetSkip(skip)
	}
	cur, err := c.Find(ctx, filter, opts)
	if err != nil {
		return nil, nil, translate("find", err)
	}
	var raws []bson.Raw
	if err := cur.All(ctx, &raws); err != nil {
		return nil, nil, translate("find", err)
	}
	docs := make([]resourceDoc, len(raws))
	keys := make([]pageKey, len(raws))
	for i, raw := range raws {
		if err := bson.Unmarshal(raw, &docs[i]); err != nil {
			return nil, nil, translate("find", err)
		}
		keys[i] = pageKey{Missing: p.missing, ID: docs[i].ID}
		if p.field != "" && p.field != "_id" {
			v, err := raw.LookupErr(strings.Split(p.field, ".")...)
			if err != nil {
				return nil, nil, fmt.Errorf("find: sort value %s of %q: %w", p.field, docs[i].ID, err)
			}
			keys[i].Value = v
		}
	}
	return docs, keys, nil
}

// sortParts returns the parts of q's order, strictly after the position
// after when it is not nil: the parts before the position are left out
// and the part of the position continues after it (a keyset on the sort
// value and id).
func sortParts(collection string, scope, filter bson.D, q storage.Query, after *pageKey) ([]queryPart, error) {
	byID := sortKeys(scope, "_id", 1)
	if q.SortBy == nil {
		if after != nil {
			if after.Missing || after.Value.Type != 0 {
				return nil, fmt.Errorf("page key of a sorted query: %w", storage.ErrInvalidCursor)
			}
			filter = append(slices.Clone(filter), bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: after.ID}}})
		}
		return []queryPart{{filter: filter, sort: byID}}, nil
	}

	field, always, err := sortField(*q.SortBy)
	if err != nil {
		return nil, err
	}
	dir, cmp := 1, "$gt"
	if q.Descending {
		dir, cmp = -1, "$lt"
	}

	sorted := sortKeys(scope, field, dir)
	ties := false
	switch {
	case field == "_id" || uniqueSortField[collection] == field:
	case hasSortIndex(collection, sorted):
		// Ties are ordered by id, in the sort direction so that one
		// index on (field, _id) serves both directions.
		sorted = append(sorted, bson.E{Key: "_id", Value: dir})
	default:
		// The wildcard index orders by the field alone; find puts ties
		// in id order (see queryPart.ties).
		ties = true
	}
	var parts []queryPart
	if always {
		parts = []queryPart{{filter: filter, sort: sorted, field: field}}
	} else {
		present := append(slices.Clone(filter), bson.E{Key: field, Value: bson.D{{Key: "$exists", Value: true}}})
		missing := append(slices.Clone(filter), bson.E{Key: field, Value: bson.D{{Key: "$exists", Value: false}}})
		presentPart := queryPart{filter: present, sort: sorted, field: field, ties: ties, dir: dir}
		missingPart := queryPart{filter: missing, sort: sortKeys(scope, "_id", dir), missing: true, all: filter, present: present}
		parts = []queryPart{presentPart, missingPart}
		if q.Descending {
			parts = []queryPart{missingPart, presentPart}
		}
	}
	if after == nil {
		return parts, nil
	}

	for i, p := range parts {
		if p.missing != after.Missing {
			continue
		}
		afterID := bson.E{Key: "_id", Value: bson.D{{Key: cmp, Value: after.ID}}}
		switch {
		case p.missing, field == "_id":
			p.filter = append(slices.Clone(p.filter), afterID)
		case after.Value.Type == 0:
			return nil, fmt.Errorf("page key without a sort value: %w", storage.ErrInvalidCursor)
		default:
			p.filter = append(slices.Clone(p.filter), bson.E{Key: "$or", Value: bson.A{
				bson.D{{Key: field, Value: bson.D{{Key: cmp, Value: after.Value}}}},
				bson.D{{Key: field, Value: after.Value}, afterID},
			}})
		}
		// A count of the rest of the part is not needed: no offset
		// applies after a position.
		p.all, p.present = nil, nil
		parts[i] = p
		return parts[i:], nil
	}
	return nil, fmt.Errorf("page key: %w", storage.ErrInvalidCursor)
}

// hasSortIndex reports whether the collection has an index on the sort
// keys followed by _id.
func hasSortIndex(collection string, sort bson.D) bool {
	for _, ix := range indexes {
		if ix.collection != collection || len(ix.keys) != len(sort)+1 || ix.keys[len(sort)].Key != "_id" {
			continue
		}
		match := true
		for i, k := range sort {
			match = match && ix.keys[i].Key == k.Key
		}
		if match {
			return true
		}
	}
	return false
}

// sortKeys orders by field within the equality conditions of scope, so
// that the sort is served by an index that starts with the scope's
// fields. The multikey tenants field is left out: sorting by an array
// orders by its smallest element, and the equality condition alone lets
// an index that starts with tenants return the order of its next keys.
func sortKeys(scope bson.D, field string, dir int) bson.D {
	var keys bson.D
	for _, e := range scope {
		if _, isValue := e.Value.(string); isValue && e.Key != fieldTenants {
			keys = append(keys, bson.E{Key: e.Key, Value: 1})
		}
	}
	return append(keys, bson.E{Key: field, Value: dir})
}

// sortField returns the field that orders by path and whether every
// document has it.
func sortField(path schemas.Path) (string, bool, error) {
	name := path.Attr.Name
	if path.Extension() == "" {
		switch {
		case strings.EqualFold(name, "id"):
			return "_id", true, nil
		case strings.EqualFold(name, "meta") && path.Sub != nil && strings.EqualFold(path.Sub.Name, "created"):
			return "created", true, nil
		case strings.EqualFold(name, "meta") && path.Sub != nil && strings.EqualFold(path.Sub.Name, "lastModified"):
			return "lastModified", true, nil
		case strings.EqualFold(name, "meta"), strings.EqualFold(name, "groups"), strings.EqualFold(name, "members"):
			return "", false, schemas.Errorf("invalidValue", "sorting by %s is not supported", path)
		}
	}
	return searchField(path.Keys(), path.Leaf()), false, nil
}

func find(ctx context.Context, c *mongo.Collection, filter, sort bson.D, skip, limit int64) ([]resourceDoc, error) {
	opts := options.Find().SetSort(sort).SetLimit(limit).SetProjection(withoutSearch)
	if skip > 0 {
		opts.SetSkip(skip)
	}
	cur, err := c.Find(ctx, filter, opts)
	if err != nil {
		return nil, translate("find", err)
	}
	var docs []resourceDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("find", err)
	}
	return docs, nil
}

// ids returns the _id of every document of c that matches filter.
func (s *Store) ids(ctx context.Context, c *mongo.Collection, filter bson.D) ([]string, error) {
	cur, err := c.Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.ID
	}
	return out, nil
}

// UserGroups returns the tenant's groups of each user, ordered by
// displayName and then id.
func (s *Store) UserGroups(ctx context.Context, tenant string, userIDs []string) (map[string][]storage.GroupRef, error) {
	out := make(map[string][]storage.GroupRef, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	cur, err := s.memberships.Find(ctx, bson.D{
		{Key: "tenant", Value: tenant},
		{Key: "userId", Value: bson.D{{Key: "$in", Value: userIDs}}},
	}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "groupId", Value: 1}, {Key: "userId", Value: 1}}))
	if err != nil {
		return nil, translate("list user groups", err)
	}

	var pairs []struct {
		GroupID string `bson:"groupId"`
		UserID  string `bson:"userId"`
	}
	if err := cur.All(ctx, &pairs); err != nil {
		return nil, translate("list user groups", err)
	}
	if len(pairs) == 0 {
		return out, nil
	}

	groupIDs := make([]string, 0, len(pairs))
	for _, p := range pairs {
		groupIDs = append(groupIDs, p.GroupID)
	}
	names, err := s.groupNames(ctx, tenant, groupIDs)
	if err != nil {
		return nil, translate("list user groups", err)
	}

	for _, p := range pairs {
		if name, ok := names[p.GroupID]; ok {
			out[p.UserID] = append(out[p.UserID], storage.GroupRef{GroupID: p.GroupID, DisplayName: name})
		}
	}

	for _, refs := range out {
		slices.SortFunc(refs, func(a, b storage.GroupRef) int {
			if c := strings.Compare(a.DisplayName, b.DisplayName); c != 0 {
				return c
			}
			return strings.Compare(a.GroupID, b.GroupID)
		})
	}
	return out, nil
}

func (s *Store) groupNames(ctx context.Context, tenant string, ids []string) (map[string]string, error) {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	cur, err := s.groups.Find(ctx, bson.D{
		{Key: "tenant", Value: tenant},
		{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}},
	}, options.Find().SetProjection(bson.D{{Key: "a.displayName", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []struct {
		ID string `bson:"_id"`
		A  struct {
			DisplayName string `bson:"displayName"`
		} `bson:"a"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(docs))
	for _, d := range docs {
		out[d.ID] = d.A.DisplayName
	}
	return out, nil
}

// groupMembersFilter reports whether q lists one group's members in id
// order, with the filter `groups.value eq "<group id>"` and no sort, and
// returns the group id.
func groupMembersFilter(q storage.Query) (string, bool) {
	c, ok := q.Filter.(schemas.Compare)
	if !ok || q.SortBy != nil || c.Op != schemas.Eq || c.Path.Extension() != "" || c.Path.Sub == nil ||
		!strings.EqualFold(c.Path.Attr.Name, "groups") || !strings.EqualFold(c.Path.Sub.Name, "value") {
		return "", false
	}
	id, ok := c.Value.(string)
	return id, ok
}

// groupMemberUsers serves a groupMembersFilter query from the group's
// memberships in user id order, a page at a time, so that no query
// carries the member list of a large group. A member of a tenant's group
// is always listed in the tenant (see fieldTenants), so the result is
// the same as the general query's.
//
// Offset and the total count the memberships, which include those of a
// user whose deletion failed half-way without a transaction; such a
// membership is skipped in the page.
func (s *Store) groupMemberUsers(ctx context.Context, tenant, groupID string, q storage.Query) (*storage.Page[*storage.User], error) {
	out := &storage.Page[*storage.User]{}
	if _, err := s.getGroup(ctx, tenant, groupID); errors.Is(err, mongo.ErrNoDocuments) {
		return out, nil
	} else if err != nil {
		return nil, translate("get group", err)
	}
	byGroup := bson.D{{Key: "groupId", Value: groupID}}
	if q.Count {
		n, err := s.memberships.CountDocuments(ctx, byGroup)
		if err != nil {
			return nil, translate("count members", err)
		}
		out.Total = int(n)
	}
	if q.Limit <= 0 {
		n, err := s.memberships.CountDocuments(ctx, byGroup, options.Count().SetLimit(int64(q.Offset)+1))
		if err != nil {
			return nil, translate("count members", err)
		}
		out.More = n > int64(q.Offset)
		return out, nil
	}

	after, skip := q.After, int64(q.Offset)
	if after != "" {
		skip = 0
	}
	for len(out.Items) <= q.Limit {
		ids, err := s.memberPage(ctx, groupID, after, skip, q.Limit+1-len(out.Items))
		if err != nil {
			return nil, translate("list members", err)
		}
		if len(ids) == 0 {
			break
		}
		users, err := find(ctx, s.users, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
			bson.D{{Key: "_id", Value: 1}}, 0, int64(len(ids)))
		if err != nil {
			return nil, err
		}
		for _, d := range users {
			u, err := d.user()
			if err != nil {
				return nil, err
			}
			out.Items = append(out.Items, u)
		}
		after, skip = ids[len(ids)-1], 0
	}
	if len(out.Items) > q.Limit {
		out.Items, out.More = out.Items[:q.Limit], true
	}
	return out, nil
}

// memberPage returns up to limit member ids of the group after the id
// after, skipping the first skip, in id order.
func (s *Store) memberPage(ctx context.Context, groupID, after string, skip int64, limit int) ([]string, error) {
	filter := bson.D{{Key: "groupId", Value: groupID}}
	if after != "" {
		filter = append(filter, bson.E{Key: "userId", Value: bson.D{{Key: "$gt", Value: after}}})
	}
	opts := options.Find().
		SetSort(bson.D{{Key: "groupId", Value: 1}, {Key: "userId", Value: 1}}).
		SetLimit(int64(limit)).
		SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "userId", Value: 1}})
	if skip > 0 {
		opts.SetSkip(skip)
	}
	cur, err := s.memberships.Find(ctx, filter, opts)
	if err != nil {
		return nil, err
	}
	var docs []struct {
		UserID string `bson:"userId"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.UserID
	}
	return ids, nil
}
