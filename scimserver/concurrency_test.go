package scimserver_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/scimd/scimd/scimserver"
)

// TestConcurrentMemberPatches sends PATCHes that each add or remove
// different members of one group from several clients at once, in
// several rounds, and checks that every change survives: membership
// changes apply to the stored memberships, never by writing back a member
// list read earlier.
func TestConcurrentMemberPatches(t *testing.T) {
	ts := startTestServer(t, scimserver.Config{})
	const clients, perClient, rounds = 8, 3, 5
	groupID := ts.createGroup(t, ts.mainToken, "/scim/v2", "Crowd")
	path := "/scim/v2/Groups/" + groupID

	var want []string
	for round := range rounds {
		users := make([][]string, clients)
		for c := range clients {
			for i := range perClient {
				users[c] = append(users[c], ts.createUser(t, fmt.Sprintf("r%dc%du%d", round, c, i)))
			}
		}

		// Each client adds its own users to the group at the same time.
		errs := make(chan error, clients)
		var wg sync.WaitGroup
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- patchMembers(ts, path, "Add", users[c])
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		for _, u := range users {
			want = append(want, u...)
		}
	}

	// Remove every other member from several clients at once.
	var remove, keep []string
	for i, id := range want {
		if i%2 == 0 {
			remove = append(remove, id)
		} else {
			keep = append(keep, id)
		}
	}
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []string
			for i := c; i < len(remove); i += clients {
				mine = append(mine, remove[i])
			}
			errs <- patchMembers(ts, path, "remove", mine)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("remove: %v", err)
		}
	}

	group := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodGet, path, "")
	var got []string
	for _, m := range group["members"].([]any) {
		got = append(got, m.(map[string]any)["value"].(string))
	}
	slices.Sort(got)
	slices.Sort(keep)
	if !slices.Equal(got, keep) {
		t.Errorf("members after concurrent PATCHes: %d, want %d (lost or extra members)", len(got), len(keep))
	}
}

// patchMembers sends one PATCH adding or removing the users as members, in
// the shape Entra ID sends (op name capitalised, a value list).
func patchMembers(ts *testServer, path, op string, userIDs []string) error {
	values := make([]string, len(userIDs))
	for i, id := range userIDs {
		values[i] = fmt.Sprintf(`{"value":%q}`, id)
	}
	body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":%q,"path":"members","value":[%s]}]}`, op, strings.Join(values, ","))
	req, err := http.NewRequest(http.MethodPatch, ts.url+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+ts.mainToken)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := ts.client.Do(req)
	if err != nil {
		return fmt.Errorf("PATCH %s: %w", path, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("PATCH %s %s: status %d, want 204", op, path, resp.StatusCode)
	}
	return nil
}
