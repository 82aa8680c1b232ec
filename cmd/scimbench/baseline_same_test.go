package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/storage"
	"github.com/scimd/scimd/storage/sqlite"
)

// TestSameWritesBaseline checks that users loaded with the statements of
// CreateUser are found by the Store, and that replayed lookups find the
// user asked for and fail for another one.
func TestSameWritesBaseline(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "same.db")
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	st.Close()
	writerDSN, readerDSN := sqlite.DSNs(path, sqlite.Options{})
	writer, err := sql.Open("sqlite", writerDSN)
	if err != nil {
		t.Fatalf("open writer: %v", err)
	}
	defer writer.Close()
	writer.SetMaxOpenConns(1)
	reader, err := sql.Open("sqlite", readerDSN)
	if err != nil {
		t.Fatalf("open reader: %v", err)
	}
	defer reader.Close()

	users, err := loadSameWrites(ctx, writer, 30)
	if err != nil {
		t.Fatalf("loadSameWrites: %v", err)
	}
	if len(users) != 30 {
		t.Fatalf("loadSameWrites returned %d users, want 30", len(users))
	}

	// The Store finds a loaded user through its attribute index.
	st, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open after loading: %v", err)
	}
	email, err := schemas.User.Lookup("emails.value")
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	page, err := st.QueryUsers(ctx, storage.MainTenant, storage.Query{
		Filter: schemas.Compare{Path: email, Op: schemas.Eq, Value: users[5].UserName}, Limit: 10})
	st.Close()
	if err != nil {
		t.Fatalf("QueryUsers: %v", err)
	}
	if len(page.Items) != 1 || page.Items[0].ID != users[5].ID {
		t.Fatalf("QueryUsers by email found %d users, want %s", len(page.Items), users[5].ID)
	}

	lookups, err := recordLookups(ctx, path, users[0])
	if err != nil {
		t.Fatalf("recordLookups: %v", err)
	}
	tests := []struct {
		name string
		t    *tracedLookup
		key  func(user) string
	}{
		{"userName", lookups.userName, func(u user) string { return caseVariant(u.UserName, 3) }},
		{"externalId", lookups.externalID, func(u user) string { return u.ExternalID }},
		{"id", lookups.byID, func(u user) string { return u.ID }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.t.stmts) == 0 {
				t.Fatal("no statements recorded")
			}
			if err := tc.t.replay(ctx, reader, tc.key(users[7]), users[7]); err != nil {
				t.Errorf("replay for user 7: %v", err)
			}
			err := tc.t.replay(ctx, reader, tc.key(users[7]), users[8])
			if err == nil || !strings.Contains(err.Error(), "want user") {
				t.Errorf("replay with user 7's key expecting user 8: got %v, want a wrong-user error", err)
			}
		})
	}
}
