package sqlite

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/storage"
)

func TestScaleProbe(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SCALE_N"))
	if n == 0 {
		t.Skip()
	}
	ctx := context.Background()
	s := openTemp(t)
	now := time.Now()
	start := time.Now()
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%08x-user", i*2654435761%(1<<32))
		ids = append(ids, id)
		u := &storage.User{ID: id, Created: now, LastModified: now, Attributes: map[string]any{
			"userName": fmt.Sprintf("user%d@example.com", i), "displayName": fmt.Sprintf("User %d", i),
			"name":   map[string]any{"givenName": "Given" + strconv.Itoa(i), "familyName": "Family" + strconv.Itoa(i%1000)},
			"emails": []any{map[string]any{"value": fmt.Sprintf("user%d@example.com", i), "type": "work", "primary": true}},
			"active": i%3 != 0, "externalId": "ext" + strconv.Itoa(i),
		}}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("create %d users: %v", n, time.Since(start))
	start = time.Now()
	g := &storage.Group{ID: "big", Tenant: "main", Attributes: map[string]any{"displayName": "Big"}, Created: now, LastModified: now}
	if err := s.CreateGroup(ctx, g, ids); err != nil {
		t.Fatal(err)
	}
	t.Logf("create group with %d members: %v", n, time.Since(start))
	timeIt := func(name string, fn func() error) {
		start := time.Now()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s: %v", name, time.Since(start))
	}
	q := func(filter string, sortBy string, count bool) func() error {
		return func() error {
			var query storage.Query
			query.Limit, query.Count = 100, count
			if filter != "" {
				f, err := schemas.User.ParseFilter(filter)
				if err != nil {
					return err
				}
				query.Filter = f
			}
			if sortBy != "" {
				f, _ := schemas.User.ParseFilter(sortBy + " pr")
				p := f.(schemas.Compare).Path
				query.SortBy = &p
			}
			_, err := s.QueryUsers(ctx, "main", query)
			return err
		}
	}
	timeIt("userName eq", q(`userName eq "USER500@example.com"`, "", true))
	timeIt("list 100 by id with count", q("", "", true))
	timeIt("list 100 by id no count", q("", "", false))
	timeIt("sort by userName", q("", "userName", false))
	timeIt("emails co", q(`emails co "user5000"`, "", true))
	timeIt("familyName eq count", q(`name.familyName eq "family7"`, "", true))
	timeIt("not active", q(`not (active eq true)`, "", true))
	timeIt("groups.value eq big", q(`groups.value eq "big"`, "", true))
	timeIt("add one member", func() error {
		u := &storage.User{ID: "zz-new", Created: now, LastModified: now, Attributes: map[string]any{"userName": "new"}}
		if err := s.CreateUser(ctx, u); err != nil {
			return err
		}
		start := time.Now()
		_, err := s.UpdateGroup(ctx, "main", "big", now, func(*storage.Group) (*storage.MemberChange, error) {
			return &storage.MemberChange{Add: []string{"zz-new"}}, nil
		})
		t.Logf("  (update only %v)", time.Since(start))
		return err
	})
	timeIt("list members page", func() error { _, err := s.ListMembers(ctx, "main", "big", ids[77], 100); return err })
	timeIt("delete member user", func() error { return s.DeleteUser(ctx, ids[5]) })
	timeIt("group members.value filter", func() error {
		f, _ := schemas.Group.ParseFilter(`members.value eq "` + ids[9] + `"`)
		_, err := s.QueryGroups(ctx, "main", storage.Query{Filter: f, Limit: 10, Count: true})
		return err
	})
}
