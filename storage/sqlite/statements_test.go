package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/storage"
)

// TestCreateUserStatements checks that CreateUserStatements returns what
// CreateUser sends: the same users row and the same attr_values rows,
// whose order within the statements follows map iteration.
func TestCreateUserStatements(t *testing.T) {
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	many := make([]any, 120) // more rows than one INSERT holds
	for i := range many {
		many[i] = map[string]any{"value": fmt.Sprintf("u%d@example.com", i), "type": "work"}
	}
	cases := []struct {
		name  string
		attrs map[string]any
	}{
		{"few attributes", map[string]any{"userName": "BJensen", "displayName": "Babs", "active": true}},
		{"no displayName", map[string]any{"userName": "x"}},
		{"several statements", map[string]any{"userName": "many", "emails": many,
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"employeeNumber": "7"}}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			var mu sync.Mutex
			var traced []Statement
			s.SetTrace(func(query string, args []any) {
				mu.Lock()
				defer mu.Unlock()
				traced = append(traced, Statement{Query: query, Args: slices.Clone(args)})
			})
			u := &storage.User{ID: fmt.Sprintf("id%d", i), Attributes: tc.attrs, Created: created, LastModified: created}
			got, err := CreateUserStatements(u)
			if err != nil {
				t.Fatalf("CreateUserStatements: %v", err)
			}
			if err := s.CreateUser(context.Background(), u); err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
			s.SetTrace(nil)
			if len(got) < 2 {
				t.Fatalf("CreateUserStatements returned %d statements, want the users row and index rows", len(got))
			}
			if diff := cmp.Diff(canonical(t, traced), canonical(t, got)); diff != "" {
				t.Errorf("statements (-CreateUser sent +CreateUserStatements):\n%s", diff)
			}
		})
	}
}

// canonical returns the statements as text with the attr_values rows of
// all INSERT statements sorted, so that row order does not matter.
func canonical(t *testing.T, stmts []Statement) []string {
	t.Helper()
	var out, rows []string
	for _, st := range stmts {
		if !strings.Contains(st.Query, "INTO attr_values") {
			out = append(out, fmt.Sprintf("%s %#v", strings.Join(strings.Fields(st.Query), " "), st.Args))
			continue
		}
		if len(st.Args)%7 != 0 {
			t.Fatalf("attr_values insert with %d arguments, not a multiple of 7", len(st.Args))
		}
		for i := 0; i < len(st.Args); i += 7 {
			rows = append(rows, fmt.Sprintf("%#v", st.Args[i:i+7]))
		}
	}
	slices.Sort(rows)
	return append(out, rows...)
}

func TestDSNs(t *testing.T) {
	writer, reader := DSNs("/data/scimd.db", Options{BusyTimeoutMillis: 250})
	for _, tc := range []struct {
		dsn  string
		want []string
	}{
		{writer, []string{"busy_timeout%28250%29", "synchronous%28NORMAL%29", "journal_mode%28WAL%29", "cache_size%28-32768%29", "_txlock=immediate"}},
		{reader, []string{"busy_timeout%28250%29", "query_only%281%29", "cache_size%28-8192%29"}},
	} {
		if !strings.HasPrefix(tc.dsn, "file:/data/scimd.db?") {
			t.Errorf("DSN %q does not name the file", tc.dsn)
		}
		for _, w := range tc.want {
			if !strings.Contains(tc.dsn, w) {
				t.Errorf("DSN %q lacks %q", tc.dsn, w)
			}
		}
	}
}
