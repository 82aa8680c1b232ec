package mongodb

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
)

// indexAudit records the filter and sort of every query and write the
// backend sends, and checks each against the declared indexes. The check
// is logical, because FerretDB does not plan with indexes:
//
//   - a filter is served when one of its top-level conditions is on a
//     key of an index whose earlier keys all have equality conditions.
//     Such a condition is any condition on a field except $exists:
//     false, or an $or or $nor whose branches are all served;
//   - a sort is served when its keys, after fields with equality
//     conditions, are the next keys of an index, all in the index's
//     directions or all reversed. A sort on one field under a wildcard
//     key is served when the filter has a condition on that field;
//   - a query whose filter is not served must have a served sort, so
//     that it is an ordered index scan (a listing without a filter);
//   - a count with an empty filter (the size of a whole collection)
//     is accepted: it reads the whole _id index whatever the indexes.
type indexAudit struct {
	mu       sync.Mutex
	commands int
	problems []string
}

func (a *indexAudit) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		a.record(e.CommandName, e.Command)
	}}
}

// record extracts the filters and sort of one command.
func (a *indexAudit) record(name string, cmd bson.Raw) {
	collection, _ := cmd.Lookup(name).StringValueOK()
	type shape struct{ filter, sort bson.Raw }
	var shapes []shape
	doc := func(key string) bson.Raw {
		v, ok := cmd.Lookup(key).DocumentOK()
		if !ok {
			return nil
		}
		return v
	}

	switch name {
	case "find", "findAndModify":
		filterKey := "filter"
		if name == "findAndModify" {
			filterKey = "query"
		}
		shapes = append(shapes, shape{doc(filterKey), doc("sort")})
	case "count", "distinct":
		shapes = append(shapes, shape{doc("query"), nil})
		if name == "count" && len(shapes[0].filter) <= 5 {
			return // the size of a whole collection
		}
	case "aggregate":
		var s shape
		stages, _ := cmd.Lookup("pipeline").ArrayOK()
		values, _ := stages.Values()
		for _, v := range values {
			stage, _ := v.DocumentOK()
			if m, ok := stage.Lookup("$match").DocumentOK(); ok && s.filter == nil {
				s.filter = m
			}
			if m, ok := stage.Lookup("$sort").DocumentOK(); ok && s.sort == nil {
				s.sort = m
			}
		}
		if len(s.filter) <= 5 && s.sort == nil {
			return // CountDocuments of a whole collection
		}
		shapes = append(shapes, s)
	case "update", "delete":
		key := map[string]string{"update": "updates", "delete": "deletes"}[name]
		stmts, _ := cmd.Lookup(key).ArrayOK()
		values, _ := stmts.Values()
		for _, v := range values {
			stmt, _ := v.DocumentOK()
			q, _ := stmt.Lookup("q").DocumentOK()
			shapes = append(shapes, shape{q, nil})
		}
	default:
		return
	}

	// Bulk writes send their statements in an "updates" or "deletes"
	// document sequence, and the event folds it into the command as an
	// array, so the loop above reads them too.
	a.mu.Lock()
	defer a.mu.Unlock()
	a.commands++
	for _, s := range shapes {
		if err := checkServed(collection, s.filter, s.sort); err != nil {
			a.problems = append(a.problems, fmt.Sprintf("%s on %s: %v\n\tfilter %s sort %s",
				name, collection, err, s.filter, s.sort))
		}
	}
}

// report fails t for every command that no index serves.
func (a *indexAudit) report(t *testing.T) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.commands == 0 {
		t.Fatal("index audit saw no command; is the monitor attached?")
	}
	slices.Sort(a.problems)
	a.problems = slices.Compact(a.problems)
	for _, p := range a.problems {
		t.Errorf("query not served by an index: %s", p)
	}
	t.Logf("index audit: %d commands checked", a.commands)
}

// declaredIndexes returns the key lists of the collection's indexes,
// with the implicit _id index first.
func declaredIndexes(collection string) []bson.D {
	out := []bson.D{{{Key: "_id", Value: 1}}}
	for _, ix := range indexes {
		if ix.collection == collection {
			out = append(out, ix.keys)
		}
	}
	return out
}

func checkServed(collection string, filter, sort bson.Raw) error {
	idx := declaredIndexes(collection)
	eq := equalityFields(filter)
	filterOK := len(filter) > 0 && servedFilter(idx, filter, eq)
	sortKeys, err := rawKeys(sort)
	if err != nil {
		return err
	}
	sortOK := len(sortKeys) > 0 && servedSort(idx, sortKeys, eq, conditionFields(filter))
	switch {
	case len(sortKeys) > 0 && !sortOK:
		return fmt.Errorf("sort is not an index order")
	case !filterOK && !sortOK:
		return fmt.Errorf("filter has no indexed condition")
	}
	return nil
}

// equalityFields returns the fields that the filter's top-level
// conditions (and those of its top-level $and) fix to one value.
func equalityFields(filter bson.Raw) map[string]bool {
	out := map[string]bool{}
	elems, _ := filter.Elements()
	for _, e := range elems {
		key := e.Key()
		switch {
		case key == "$and":
			arr, _ := e.Value().ArrayOK()
			values, _ := arr.Values()
			for _, v := range values {
				d, _ := v.DocumentOK()
				for k := range equalityFields(d) {
					out[k] = true
				}
			}
		case strings.HasPrefix(key, "$"):
		case isEquality(e.Value()):
			out[key] = true
		}
	}
	return out
}

func isEquality(v bson.RawValue) bool {
	d, ok := v.DocumentOK()
	if !ok {
		return true
	}
	elems, _ := d.Elements()
	return len(elems) == 0 || !strings.HasPrefix(elems[0].Key(), "$")
}

// servedFilter reports whether one top-level condition of filter narrows
// the documents through an index.
func servedFilter(idx []bson.D, filter bson.Raw, eq map[string]bool) bool {
	elems, _ := filter.Elements()
	for _, e := range elems {
		switch key := e.Key(); key {
		case "$and", "$or":
			arr, _ := e.Value().ArrayOK()
			values, _ := arr.Values()
			all := len(values) > 0
			for _, v := range values {
				d, _ := v.DocumentOK()
				branch := servedFilter(idx, d, mergeFields(eq, equalityFields(d)))
				if key == "$and" && branch {
					return true
				}
				all = all && branch
			}
			if key == "$or" && all {
				return true
			}
		case "$nor":
			// A negation is served by an index on its fields, scanned
			// with the complement of the negated bounds.
			arr, _ := e.Value().ArrayOK()
			values, _ := arr.Values()
			all := len(values) > 0
			for _, v := range values {
				d, _ := v.DocumentOK()
				all = all && servedFilter(idx, d, eq)
			}
			if all {
				return true
			}
		default:
			if indexableCondition(e.Value()) && keyServed(idx, key, eq) {
				return true
			}
		}
	}
	return false
}

func mergeFields(a, b map[string]bool) map[string]bool {
	out := make(map[string]bool, len(a)+len(b))
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// indexableCondition reports whether a condition on a field gives index
// bounds: every operator does ($ne and $nin as the complement of their
// values) except $exists: false alone, which wildcard indexes cannot
// serve.
func indexableCondition(v bson.RawValue) bool {
	d, ok := v.DocumentOK()
	if !ok || isEquality(v) {
		return true
	}
	elems, _ := d.Elements()
	for _, e := range elems {
		if e.Key() != "$exists" {
			return true
		}
		if b, ok := e.Value().BooleanOK(); ok && b {
			return true
		}
	}
	return false
}

// keyServed reports whether an index has field as a key after keys that
// all have equality conditions.
func keyServed(idx []bson.D, field string, eq map[string]bool) bool {
	for _, keys := range idx {
		for _, k := range keys {
			if keyMatches(k.Key, field) {
				return true
			}
			if !eq[k.Key] {
				break
			}
		}
	}
	return false
}

// keyMatches reports whether an index key covers field; a wildcard key
// "p.$**" covers every field under p.
func keyMatches(key, field string) bool {
	if prefix, ok := strings.CutSuffix(key, "$**"); ok {
		return strings.HasPrefix(field, prefix)
	}
	return key == field
}

// servedSort reports whether an index returns documents in sort order
// once the fields that the filter fixes are left out of both.
func servedSort(idx []bson.D, sort bson.D, eq, cond map[string]bool) bool {
	var free bson.D
	for _, s := range sort {
		if !eq[s.Key] {
			free = append(free, s)
		}
	}
	if len(free) == 0 {
		return true
	}
	for _, keys := range idx {
		i := 0
		for i < len(keys) && eq[keys[i].Key] {
			i++
		}
		if sortMatches(keys[i:], free) {
			return true
		}
		// A wildcard index returns one field in order when the filter
		// has a condition on that field.
		if i < len(keys) && len(free) == 1 && cond[free[0].Key] &&
			strings.HasSuffix(keys[i].Key, "$**") && keyMatches(keys[i].Key, free[0].Key) {
			return true
		}
	}
	return false
}

// conditionFields returns the fields that the filter's top-level
// conditions (and those of its top-level $and) constrain, except with
// $exists: false.
func conditionFields(filter bson.Raw) map[string]bool {
	out := map[string]bool{}
	elems, _ := filter.Elements()
	for _, e := range elems {
		key := e.Key()
		switch {
		case key == "$and":
			arr, _ := e.Value().ArrayOK()
			values, _ := arr.Values()
			for _, v := range values {
				d, _ := v.DocumentOK()
				for k := range conditionFields(d) {
					out[k] = true
				}
			}
		case strings.HasPrefix(key, "$"):
		case indexableCondition(e.Value()):
			out[key] = true
		}
	}
	return out
}

// sortMatches reports whether sort is a prefix of keys, with every
// direction equal or every direction reversed. Wildcard keys serve no
// sort here, because a sort needs its tie-breaker in the same index.
func sortMatches(keys, sort bson.D) bool {
	if len(sort) > len(keys) {
		return false
	}
	same, reversed := true, true
	for i, s := range sort {
		if keys[i].Key != s.Key {
			return false
		}
		dir := toInt(s.Value) * toInt(keys[i].Value)
		same = same && dir > 0
		reversed = reversed && dir < 0
	}
	return same || reversed
}

func toInt(v any) int {
	switch v := v.(type) {
	case int32:
		return int(v)
	case int64:
		return int(v)
	case float64:
		return int(v)
	case int:
		return v
	}
	return 0
}

func rawKeys(sort bson.Raw) (bson.D, error) {
	if len(sort) == 0 {
		return nil, nil
	}
	var d bson.D
	if err := bson.Unmarshal(sort, &d); err != nil {
		return nil, fmt.Errorf("decode sort: %w", err)
	}
	return d, nil
}

// TestIndexAuditRejects checks that the audit fails query shapes that no
// declared index serves, so that it can catch a new one.
func TestIndexAuditRejects(t *testing.T) {
	tests := []struct {
		name       string
		collection string
		filter     bson.D
		sort       bson.D
		served     bool
	}{
		{"user by id", colUsers, bson.D{{Key: "_id", Value: "x"}}, nil, true},
		{"user by folded userName", colUsers, bson.D{{Key: "s.userName", Value: "x"}}, nil, true},
		{"user by raw attribute", colUsers, bson.D{{Key: "a.userName", Value: "x"}}, nil, false},
		{"user by version only", colUsers, bson.D{{Key: "version", Value: 3}}, nil, false},
		{"group by displayName in tenant", colGroups,
			bson.D{{Key: "tenant", Value: "t"}, {Key: "s.displayName", Value: "x"}}, nil, true},
		{"group by displayName without tenant", colGroups,
			bson.D{{Key: "s.displayName", Value: "x"}}, nil, false},
		{"members by user across tenants", colMemberships,
			bson.D{{Key: "userId", Value: "u"}}, nil, true},
		{"members of a group in user order", colMemberships,
			bson.D{{Key: "tenant", Value: "t"}, {Key: "groupId", Value: "g"}},
			bson.D{{Key: "userId", Value: 1}}, true},
		{"memberships of a tenant by user and group", colMemberships,
			bson.D{{Key: "tenant", Value: "t"}},
			bson.D{{Key: "userId", Value: 1}, {Key: "groupId", Value: 1}}, false},
		{"user listing by id", colUsers, bson.D{}, bson.D{{Key: "_id", Value: 1}}, true},
		{"user listing by title", colUsers, bson.D{}, bson.D{{Key: "s.title", Value: 1}}, false},
		{"users by title sorted by title", colUsers,
			bson.D{{Key: "s.title", Value: bson.D{{Key: "$exists", Value: true}}}},
			bson.D{{Key: "s.title", Value: 1}}, true},
		{"users by title sorted by title and id", colUsers,
			bson.D{{Key: "s.title", Value: bson.D{{Key: "$exists", Value: true}}}},
			bson.D{{Key: "s.title", Value: 1}, {Key: "_id", Value: 1}}, false},
		{"groups by creation", colGroups, bson.D{{Key: "tenant", Value: "t"}},
			bson.D{{Key: "tenant", Value: 1}, {Key: "created", Value: -1}, {Key: "_id", Value: -1}}, true},
		{"groups by creation, mixed directions", colGroups, bson.D{{Key: "tenant", Value: "t"}},
			bson.D{{Key: "created", Value: -1}, {Key: "_id", Value: 1}}, false},
		{"tenant users by displayName", colUsers, bson.D{{Key: fieldTenants, Value: "k"}},
			bson.D{{Key: "s.displayName", Value: -1}, {Key: "_id", Value: -1}}, true},
		{"tenant users by title", colUsers,
			bson.D{{Key: fieldTenants, Value: "k"}, {Key: "s.title", Value: bson.D{{Key: "$exists", Value: true}}}},
			bson.D{{Key: "s.title", Value: 1}}, true},
		{"counter of a tenant and user", colTenantUsers,
			bson.D{{Key: "tenant", Value: "k"}, {Key: "userId", Value: "u"}}, nil, true},
		{"counters of a user", colTenantUsers, bson.D{{Key: "userId", Value: "u"}}, nil, true},
		{"drained counters of any tenant", colTenantUsers,
			bson.D{{Key: "n", Value: bson.D{{Key: "$lte", Value: 0}}}}, nil, false},
		{"only a negation", colUsers,
			bson.D{{Key: "$nor", Value: bson.A{bson.D{{Key: "a.title", Value: "x"}}}}}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			filter, err := bson.Marshal(tc.filter)
			if err != nil {
				t.Fatalf("marshal filter: %v", err)
			}
			var sort bson.Raw
			if tc.sort != nil {
				if sort, err = bson.Marshal(tc.sort); err != nil {
					t.Fatalf("marshal sort: %v", err)
				}
			}
			err = checkServed(tc.collection, filter, sort)
			if got := err == nil; got != tc.served {
				t.Errorf("served: got %v (%v), want %v", got, err, tc.served)
			}
		})
	}
}
