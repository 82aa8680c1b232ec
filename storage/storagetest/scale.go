package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/scimd/scimd/storage"
)

func testLargeGroup(t *testing.T, s storage.Store) {
	const n = 2500
	var ids []string
	for i := range n {
		id := fmt.Sprintf("m%05d", i)
		attrs := map[string]any{}
		if i%2 == 0 {
			attrs["displayName"] = "Member " + strconv.Itoa(i)
		}
		mustCreateUser(t, s, newUser(id, "user"+strconv.Itoa(i), base, attrs))
		ids = append(ids, id)
	}
	mustCreateGroup(t, s, newGroup("big", storage.MainTenant, "Everyone", base, nil), ids[:n/2]...)
	// The second half arrives in batches, as identity providers send it.
	for start := n / 2; start < n; start += 250 {
		batch := ids[start:min(start+250, n)]
		if _, err := s.UpdateGroup(ctx(t), storage.MainTenant, "big", base, func(*storage.Group) (*storage.MemberChange, error) {
			return &storage.MemberChange{Add: batch}, nil
		}); err != nil {
			t.Fatalf("UpdateGroup adding %d members: %v", len(batch), err)
		}
	}

	var got []storage.Member
	after := ""
	for {
		piece, err := s.ListMembers(ctx(t), storage.MainTenant, "big", after, 1000)
		if err != nil {
			t.Fatalf("ListMembers after %q: %v", after, err)
		}
		if len(piece) > 1000 {
			t.Fatalf("ListMembers returned %d members, limit 1000", len(piece))
		}
		got = append(got, piece...)
		if len(piece) < 1000 {
			break
		}
		after = piece[len(piece)-1].UserID
	}
	if len(got) != n {
		t.Fatalf("listed %d members, want %d", len(got), n)
	}
	for i, m := range got {
		want := storage.Member{UserID: ids[i], Display: "user" + strconv.Itoa(i)}
		if i%2 == 0 {
			want.Display = "Member " + strconv.Itoa(i)
		}
		if m != want {
			t.Errorf("member %d = %+v, want %+v", i, m, want)
			break
		}
	}

	// Removing one member leaves the others.
	if _, err := s.UpdateGroup(ctx(t), storage.MainTenant, "big", base, func(*storage.Group) (*storage.MemberChange, error) {
		return &storage.MemberChange{Remove: []string{ids[7]}}, nil
	}); err != nil {
		t.Fatalf("UpdateGroup removing a member: %v", err)
	}
	page, err := s.ListMembers(ctx(t), storage.MainTenant, "big", ids[5], 3)
	if err != nil {
		t.Fatalf("ListMembers: %v", err)
	}
	var pageIDs []string
	for _, m := range page {
		pageIDs = append(pageIDs, m.UserID)
	}
	if want := []string{ids[6], ids[8], ids[9]}; !slices.Equal(pageIDs, want) {
		t.Errorf("members after %s: got %v, want %v", ids[5], pageIDs, want)
	}
	if g := mustGetGroup(t, s, storage.MainTenant, "big"); g.Version != 2+int64(n/2/250) {
		t.Errorf("group version %d, want %d", g.Version, 2+n/2/250)
	}
}

func testConcurrentMemberAdds(t *testing.T, s storage.Store) {
	const writers, perWriter = 4, 25
	for w := range writers {
		for i := range perWriter {
			mustCreateUser(t, s, newUser(fmt.Sprintf("w%d-%02d", w, i), fmt.Sprintf("w%d-%02d", w, i), base, nil))
		}
	}
	mustCreateGroup(t, s, newGroup("g1", storage.MainTenant, "Shared", base, nil))

	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				id := fmt.Sprintf("w%d-%02d", w, i)
				_, err := s.UpdateGroup(ctx(t), storage.MainTenant, "g1", base, func(*storage.Group) (*storage.MemberChange, error) {
					return &storage.MemberChange{Add: []string{id}}, nil
				})
				if err != nil {
					errs <- fmt.Errorf("add %s: %w", id, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := members(t, s, storage.MainTenant, "g1"); len(got) != writers*perWriter {
		t.Errorf("group has %d members after concurrent adds, want %d", len(got), writers*perWriter)
	}
	if g := mustGetGroup(t, s, storage.MainTenant, "g1"); g.Version != 1+writers*perWriter {
		t.Errorf("group version %d, want %d", g.Version, 1+writers*perWriter)
	}
}

func testConcurrentUserUpdates(t *testing.T, s storage.Store) {
	const writers, perWriter = 4, 25
	mustCreateUser(t, s, newUser("u1", "counter", base, map[string]any{"nickName": "0"}))

	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter)
	for range writers {
		wg.Go(func() {
			for range perWriter {
				_, err := s.UpdateUser(ctx(t), "u1", base, func(u *storage.User) error {
					n, err := strconv.Atoi(u.Attributes["nickName"].(string))
					if err != nil {
						return err
					}
					u.Attributes["nickName"] = strconv.Itoa(n + 1)
					return nil
				})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("UpdateUser: %v", err)
	}
	u, err := s.GetUser(ctx(t), "u1")
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if got, want := u.Attributes["nickName"], strconv.Itoa(writers*perWriter); got != want {
		t.Errorf("counter = %v after concurrent updates, want %s", got, want)
	}
	if u.Version != 1+writers*perWriter {
		t.Errorf("version = %d, want %d", u.Version, 1+writers*perWriter)
	}
}

func testConcurrentUserNameCreates(t *testing.T, s storage.Store) {
	names := []string{"Race", "race", "RACE", "rAcE", "raCE", "RAce", "racE", "RacE"}
	var wg sync.WaitGroup
	results := make([]error, len(names))
	for i, name := range names {
		wg.Go(func() {
			results[i] = s.CreateUser(ctx(t), newUser(fmt.Sprintf("r%d", i), name, base, nil))
		})
	}
	wg.Wait()
	wins := 0
	for i, err := range results {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, storage.ErrAlreadyExists):
			t.Errorf("CreateUser(%s): got %v, want nil or ErrAlreadyExists", names[i], err)
		}
	}
	if wins != 1 {
		t.Errorf("%d concurrent creates of one userName succeeded, want 1", wins)
	}
	page, err := s.QueryUsers(ctx(t), storage.MainTenant, storage.Query{Limit: 10, Count: true})
	if err != nil {
		t.Fatalf("QueryUsers: %v", err)
	}
	if page.Total != 1 {
		t.Errorf("%d users stored, want 1", page.Total)
	}
}
