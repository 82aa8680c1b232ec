package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/storage"
	"github.com/scimd/scimd/storage/storagetest"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "scimd.db"), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return openTemp(t) }, storagetest.Options{Concurrent: true})
}

func TestPersistence(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "scimd.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	created := time.Date(2024, 1, 2, 3, 4, 5, 6000000, time.UTC)
	u := &storage.User{ID: "u1", Attributes: map[string]any{"userName": "bjensen", "displayName": "Babs"},
		Created: created, LastModified: created}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	g := &storage.Group{ID: "g1", Tenant: storage.MainTenant, Attributes: map[string]any{"displayName": "Admins"},
		Created: created, LastModified: created}
	if err := s.CreateGroup(ctx, g, []string{"u1"}); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openAt(t, path)
	got, err := s.GetUser(ctx, "u1")
	if err != nil {
		t.Fatalf("GetUser after reopening: %v", err)
	}
	u.Version = 2 // created, then added to g1
	if diff := cmp.Diff(u, got); diff != "" {
		t.Errorf("user after reopening (-want +got):\n%s", diff)
	}
	members, err := s.ListMembers(ctx, storage.MainTenant, "g1", "", 10)
	if err != nil {
		t.Fatalf("ListMembers after reopening: %v", err)
	}
	if diff := cmp.Diff([]storage.Member{{UserID: "u1", Display: "Babs"}}, members); diff != "" {
		t.Errorf("members after reopening (-want +got):\n%s", diff)
	}
	// The attribute index survives too.
	f, err := schemas.User.ParseFilter(`displayName eq "babs"`)
	if err != nil {
		t.Fatalf("ParseFilter: %v", err)
	}
	page, err := s.QueryUsers(ctx, storage.MainTenant, storage.Query{Filter: f, Limit: 10, Count: true})
	if err != nil {
		t.Fatalf("QueryUsers after reopening: %v", err)
	}
	if page.Total != 1 || len(page.Items) != 1 {
		t.Errorf("filter after reopening found %d (total %d), want 1", len(page.Items), page.Total)
	}
	if err := s.CreateUser(ctx, &storage.User{ID: "u2", Attributes: map[string]any{"userName": "BJensen"}}); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Errorf("CreateUser with a taken userName after reopening: got %v, want ErrAlreadyExists", err)
	}
}

func openAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// TestIndexAudit runs the conformance suite while recording every
// statement the store sends, then checks the query plan of each: no
// statement may read users, groups, memberships or attr_values by a full
// table scan. Walking an index in order (SCAN … USING INDEX) is accepted.
func TestIndexAudit(t *testing.T) {
	var mu sync.Mutex
	recorded := map[string][]any{}
	record := func(query string, args []any) {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := recorded[query]; !ok {
			recorded[query] = append([]any(nil), args...)
		}
	}
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s := openTemp(t)
		s.SetTrace(record)
		return s
	}, storagetest.Options{Concurrent: true})
	if t.Failed() {
		return
	}

	s := openTemp(t)
	var queries []string
	for q := range recorded {
		queries = append(queries, q)
	}
	slices.Sort(queries)
	checked := 0
	for _, q := range queries {
		verb := strings.ToUpper(strings.Fields(q)[0])
		if !slices.Contains([]string{"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}, verb) {
			continue
		}
		checked++
		for _, scan := range fullScans(t, s, q, recorded[q]) {
			t.Errorf("full scan %q in the plan of:\n%s", scan, q)
		}
	}
	if checked < 30 {
		t.Errorf("checked the plans of %d statements, want at least 30: is the recording hook wired?", checked)
	}
	t.Logf("checked the query plans of %d statements", checked)
}

// fullScanPattern matches a plan step that reads a table or one of its
// aliases without an index.
var fullScanPattern = regexp.MustCompile(`^SCAN (\w+)$`)

// fullScans returns the plan steps of query that scan a whole table.
func fullScans(t *testing.T, s *Store, query string, args []any) []string {
	t.Helper()
	rows, err := s.reader.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN QUERY PLAN %s: %v", query, err)
	}
	defer rows.Close()
	var scans []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatalf("read plan: %v", err)
		}
		m := fullScanPattern.FindStringSubmatch(detail)
		if m == nil {
			continue
		}
		// page is the common table expression of one query page, which
		// holds at most one page of ids.
		if m[1] == "page" || m[1] == "p" {
			continue
		}
		scans = append(scans, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read plan: %v", err)
	}
	return scans
}

func TestFullScans(t *testing.T) {
	s := openTemp(t)
	cases := []struct {
		query string
		want  int
	}{
		{`SELECT id FROM users WHERE display_name = ?`, 1},
		{`SELECT g.id FROM groups g WHERE g.attrs = ?`, 1},
		{`SELECT id FROM users WHERE id = ?`, 0},
		{`SELECT r.id FROM users r ORDER BY r.id LIMIT 1`, 0},
		{`SELECT a.id FROM attr_values a WHERE a.kind = 0 AND a.path = ? AND a.lv = ?`, 0},
	}
	for _, tc := range cases {
		args := make([]any, strings.Count(tc.query, "?"))
		if got := fullScans(t, s, tc.query, args); len(got) != tc.want {
			t.Errorf("fullScans(%s) = %q, want %d", tc.query, got, tc.want)
		}
	}
}
