package scimserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/scimserver"
	"github.com/scimd/scimd/tenants"
)

const (
	userURN         = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupURN        = "urn:ietf:params:scim:schemas:core:2.0:Group"
	errorURN        = "urn:ietf:params:scim:api:messages:2.0:Error"
	listResponseURN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
)

// leakMarkers are fragments of driver, runtime and source text that must
// never reach a response body.
var leakMarkers = []string{"sql", "sqlite", "mongo", "runtime", "panic", "goroutine", ".go:"}

func userBody(userName string) string {
	return fmt.Sprintf(`{"schemas":[%q],"userName":%q,"name":{"givenName":"G","familyName":"F"},"displayName":%q}`,
		userURN, userName, "Display "+userName)
}

func groupBody(displayName string, memberIDs ...string) string {
	members := make([]string, len(memberIDs))
	for i, id := range memberIDs {
		members[i] = fmt.Sprintf(`{"value":%q}`, id)
	}
	return fmt.Sprintf(`{"schemas":[%q],"displayName":%q,"members":[%s]}`,
		groupURN, displayName, strings.Join(members, ","))
}

func (s *testServer) createUser(t *testing.T, userName string) string {
	t.Helper()
	doc := s.mustSend(t, http.StatusCreated, s.mainToken, http.MethodPost, "/scim/v2/Users", userBody(userName))
	return doc["id"].(string)
}

func (s *testServer) createGroup(t *testing.T, token, prefix, displayName string, memberIDs ...string) string {
	t.Helper()
	doc := s.mustSend(t, http.StatusCreated, token, http.MethodPost, prefix+"/Groups", groupBody(displayName, memberIDs...))
	return doc["id"].(string)
}

// checkSCIMError checks that resp is a SCIM error body with the status
// and scimType given, and that it carries no driver or runtime text.
func checkSCIMError(t *testing.T, resp *testResponse, status int, scimType string) {
	t.Helper()
	if resp.status != status {
		t.Errorf("status = %d, want %d; body %s", resp.status, status, resp.body)
	}
	if ct := resp.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
		t.Errorf("Content-Type = %q, want application/scim+json", ct)
	}
	var body struct {
		Schemas  []string `json:"schemas"`
		Status   string   `json:"status"`
		ScimType string   `json:"scimType"`
		Detail   string   `json:"detail"`
	}
	if err := json.Unmarshal(resp.body, &body); err != nil {
		t.Fatalf("error body is not JSON: %v; body %s", err, resp.body)
	}
	if !slices.Equal(body.Schemas, []string{errorURN}) {
		t.Errorf("schemas = %v, want [%s]", body.Schemas, errorURN)
	}
	if body.Status != fmt.Sprint(status) {
		t.Errorf("body status = %q, want %q", body.Status, fmt.Sprint(status))
	}
	if body.ScimType != scimType {
		t.Errorf("scimType = %q, want %q; detail %q", body.ScimType, scimType, body.Detail)
	}
	checkNoLeak(t, resp.body)
}

func checkNoLeak(t *testing.T, body []byte) {
	t.Helper()
	lower := strings.ToLower(string(body))
	for _, m := range leakMarkers {
		if strings.Contains(lower, m) {
			t.Errorf("response body contains %q: %s", m, body)
		}
	}
}

func TestUserLifecycleWithETags(t *testing.T) {
	ts := startTestServer(t, scimserver.Config{})
	tok := ts.mainToken

	resp := ts.send(t, tok, http.MethodPost, "/scim/v2/Users", userBody("bjensen"))
	if resp.status != http.StatusCreated {
		t.Fatalf("create: status %d, want 201; body %s", resp.status, resp.body)
	}
	created := resp.object(t)
	id, _ := created["id"].(string)
	if id == "" {
		t.Fatalf("created user has no id: %s", resp.body)
	}
	meta, _ := created["meta"].(map[string]any)
	wantLocation := ts.url + "/scim/v2/Users/" + id
	if got := resp.header.Get("Location"); got != wantLocation {
		t.Errorf("Location = %q, want %q", got, wantLocation)
	}
	if meta["location"] != wantLocation {
		t.Errorf("meta.location = %v, want %q", meta["location"], wantLocation)
	}
	if meta["resourceType"] != "User" {
		t.Errorf("meta.resourceType = %v, want User", meta["resourceType"])
	}
	tag1 := resp.header.Get("ETag")
	if !strings.HasPrefix(tag1, `W/"`) || meta["version"] != tag1 {
		t.Errorf("version = %v, ETag = %q; want the same weak tag for both", meta["version"], tag1)
	}
	for _, key := range []string{"created", "lastModified"} {
		if _, err := time.Parse(time.RFC3339, fmt.Sprint(meta[key])); err != nil {
			t.Errorf("meta.%s = %v is not an RFC 3339 time", key, meta[key])
		}
	}
	if !slices.Contains(toStrings(created["schemas"]), userURN) {
		t.Errorf("schemas = %v, want it to contain %s", created["schemas"], userURN)
	}

	path := "/scim/v2/Users/" + id
	get := ts.send(t, tok, http.MethodGet, path, "")
	if get.status != http.StatusOK || get.header.Get("ETag") != tag1 {
		t.Errorf("get: status %d, ETag %q; want 200, %s", get.status, get.header.Get("ETag"), tag1)
	}
	if nm := ts.send(t, tok, http.MethodGet, path, "", "If-None-Match", tag1); nm.status != http.StatusNotModified {
		t.Errorf("get with matching If-None-Match: status %d, want 304", nm.status)
	}
	if nm := ts.send(t, tok, http.MethodGet, path, "", "If-None-Match", `W/"7"`); nm.status != http.StatusOK {
		t.Errorf("get with other If-None-Match: status %d, want 200", nm.status)
	}

	stale := ts.send(t, tok, http.MethodPut, path, userBody("bjensen"), "If-Match", `W/"9"`)
	checkSCIMError(t, stale, http.StatusPreconditionFailed, "")
	malformed := ts.send(t, tok, http.MethodPut, path, userBody("bjensen"), "If-Match", `garbage`)
	checkSCIMError(t, malformed, http.StatusPreconditionFailed, "")

	putResp := ts.send(t, tok, http.MethodPut, path,
		strings.Replace(userBody("bjensen"), `"displayName":"Display bjensen"`, `"displayName":"Babs"`, 1),
		"If-Match", tag1)
	if putResp.status != http.StatusOK {
		t.Fatalf("PUT with the current tag: status %d, want 200; body %s", putResp.status, putResp.body)
	}
	put := putResp.object(t)
	if put["displayName"] != "Babs" {
		t.Errorf("after PUT displayName = %v, want Babs", put["displayName"])
	}
	tag2 := putResp.header.Get("ETag")
	if v := put["meta"].(map[string]any)["version"]; v != tag2 || tag2 == tag1 {
		t.Errorf("after PUT version = %v, ETag %s; want a new tag in both (old %s)", v, tag2, tag1)
	}

	patch := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","path":"displayName","value":"Barbara"}]}`
	patched := ts.mustSend(t, http.StatusOK, tok, http.MethodPatch, path, patch, "If-Match", tag2)
	if patched["displayName"] != "Barbara" {
		t.Errorf("after PATCH displayName = %v, want Barbara", patched["displayName"])
	}

	minimal := ts.send(t, tok, http.MethodPatch, path, patch, "Prefer", "return=minimal")
	if minimal.status != http.StatusNoContent || len(minimal.body) != 0 {
		t.Errorf("PATCH with return=minimal: status %d, body %q; want 204 and no body", minimal.status, minimal.body)
	}
	tag4 := minimal.header.Get("ETag")
	if current := ts.send(t, tok, http.MethodGet, path, "").header.Get("ETag"); tag4 == "" || tag4 != current {
		t.Errorf("PATCH with return=minimal: ETag %q, want the tag a GET returns next (%q)", tag4, current)
	}

	checkSCIMError(t, ts.send(t, tok, http.MethodDelete, path, "", "If-Match", tag1), http.StatusPreconditionFailed, "")
	if del := ts.send(t, tok, http.MethodDelete, path, "", "If-Match", tag4); del.status != http.StatusNoContent {
		t.Fatalf("delete: status %d, want 204; body %s", del.status, del.body)
	}
	checkSCIMError(t, ts.send(t, tok, http.MethodGet, path, ""), http.StatusNotFound, "")
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, item := range list {
		out = append(out, fmt.Sprint(item))
	}
	return out
}

func TestUserUniqueness(t *testing.T) {
	ts := startTestServer(t, scimserver.Config{})
	ts.createUser(t, "jdoe")
	resp := ts.send(t, ts.mainToken, http.MethodPost, "/scim/v2/Users", userBody("JDOE"))
	checkSCIMError(t, resp, http.StatusConflict, "uniqueness")
}

func TestGroupMembersAndUserGroups(t *testing.T) {
	ts := startTestServer(t, scimserver.Config{})
	alice := ts.createUser(t, "alice")
	bob := ts.createUser(t, "bob")
	groupID := ts.createGroup(t, ts.mainToken, "/scim/v2", "Engineering", alice, bob)

	group := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodGet, "/scim/v2/Groups/"+groupID, "")
	type member struct {
		Value, Display, Ref, Type string
	}
	var got []member
	for _, m := range group["members"].([]any) {
		m := m.(map[string]any)
		got = append(got, member{fmt.Sprint(m["value"]), fmt.Sprint(m["display"]), fmt.Sprint(m["$ref"]), fmt.Sprint(m["type"])})
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Value < got[j].Value })
	want := []member{
		{alice, "Display alice", ts.url + "/scim/v2/Users/" + alice, "User"},
		{bob, "Display bob", ts.url + "/scim/v2/Users/" + bob, "User"},
	}
	sort.Slice(want, func(i, j int) bool { return want[i].Value < want[j].Value })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}

	user := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodGet, "/scim/v2/Users/"+alice, "")
	groups, _ := user["groups"].([]any)
	if len(groups) != 1 {
		t.Fatalf("user groups = %v, want one group", user["groups"])
	}
	g := groups[0].(map[string]any)
	if g["value"] != groupID || g["display"] != "Engineering" || g["$ref"] != ts.url+"/scim/v2/Groups/"+groupID {
		t.Errorf("user group = %v, want value %s, display Engineering, $ref at the main base URL", g, groupID)
	}

	withoutMembers := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodGet,
		"/scim/v2/Groups/"+groupID+"?excludedAttributes=members", "")
	if _, ok := withoutMembers["members"]; ok {
		t.Errorf("excludedAttributes=members still returned members")
	}
	onlyName := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodGet,
		"/scim/v2/Groups/"+groupID+"?attributes=displayName", "")
	if _, ok := onlyName["members"]; ok {
		t.Errorf("attributes=displayName returned members")
	}
	if onlyName["id"] != groupID || onlyName["displayName"] != "Engineering" {
		t.Errorf("attributes=displayName returned %v, want id and displayName", onlyName)
	}
	valuesOnly := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodGet,
		"/scim/v2/Groups/"+groupID+"?attributes=members.value", "")
	for _, m := range valuesOnly["members"].([]any) {
		if keys := mapKeys(m.(map[string]any)); !slices.Equal(keys, []string{"value"}) {
			t.Errorf("attributes=members.value returned member keys %v, want [value]", keys)
		}
	}

	userNoGroups := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodGet,
		"/scim/v2/Users/"+alice+"?excludedAttributes=groups", "")
	if _, ok := userNoGroups["groups"]; ok {
		t.Errorf("excludedAttributes=groups still returned groups")
	}
}

func mapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestLargeGroupStreamsAllMembers(t *testing.T) {
	ts := startTestServer(t, scimserver.Config{})
	// More than one ListMembers piece (500 members) per group.
	const n = 1203
	ids := make([]string, n)
	for i := range ids {
		// Created through the service: 1,203 HTTP round trips would only
		// slow the test down.
		u, err := ts.svc.CreateUser(context.Background(), tenants.Main,
			map[string]any{"schemas": []any{userURN}, "userName": fmt.Sprintf("member%04d", i)})
		if err != nil {
			t.Fatalf("create user %d: %v", i, err)
		}
		ids[i] = u.ID
	}
	groupID := ts.createGroup(t, ts.mainToken, "/scim/v2", "Everyone", ids...)

	group := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodGet, "/scim/v2/Groups/"+groupID, "")
	var got []string
	for _, m := range group["members"].([]any) {
		got = append(got, m.(map[string]any)["value"].(string))
	}
	sort.Strings(got)
	want := slices.Clone(ids)
	sort.Strings(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("members of a %d-member group (-want +got):\n%s", n, diff)
	}
}

func listIDs(t *testing.T, doc map[string]any) []string {
	t.Helper()
	var ids []string
	resources, _ := doc["Resources"].([]any)
	for _, r := range resources {
		ids = append(ids, r.(map[string]any)["id"].(string))
	}
	return ids
}

func number(v any) int {
	f, _ := v.(float64)
	return int(f)
}

func TestListIndexPaging(t *testing.T) {
	ts := startTestServer(t, scimserver.Config{MaxPageSize: 3})
	for i := range 5 {
		ts.createUser(t, fmt.Sprintf("user%d", i))
	}
	tests := []struct {
		query                  string
		total, items, startIdx int
	}{
		{"startIndex=2&count=2", 5, 2, 2},
		{"startIndex=0&count=2", 5, 2, 1},
		{"startIndex=-4", 5, 3, 1},
		{"count=-1", 5, 0, 1},
		{"count=0", 5, 0, 1},
		{"count=100", 5, 3, 1},
		{"startIndex=5&count=3", 5, 1, 5},
		{"startIndex=9", 5, 0, 9},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			doc := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodGet, "/scim/v2/Users?"+tt.query, "")
			if !slices.Equal(toStrings(doc["schemas"]), []string{listResponseURN}) {
				t.Errorf("schemas = %v, want [%s]", doc["schemas"], listResponseURN)
			}
			if got := number(doc["totalResults"]); got != tt.total {
				t.Errorf("totalResults = %d, want %d", got, tt.total)
			}
			if got := number(doc["itemsPerPage"]); got != tt.items {
				t.Errorf("itemsPerPage = %d, want %d", got, tt.items)
			}
			if got := len(listIDs(t, doc)); got != tt.items {
				t.Errorf("got %d resources, want %d", got, tt.items)
			}
			if got := number(doc["startIndex"]); got != tt.startIdx {
				t.Errorf("startIndex = %d, want %d", got, tt.startIdx)
			}
		})
	}

	checkSCIMError(t, ts.send(t, ts.mainToken, http.MethodGet, "/scim/v2/Users?count=many", ""),
		http.StatusBadRequest, "invalidValue")
}

func TestListFilterAndSort(t *testing.T) {
	ts := startTestServer(t, scimserver.Config{})
	for _, name := range []string{"carol", "alice", "bob", "alfred"} {
		ts.createUser(t, name)
	}

	filtered := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodGet,
		"/scim/v2/Users?filter="+url.QueryEscape(`userName sw "AL"`)+"&sortBy=userName&sortOrder=descending", "")
	var names []string
	for _, r := range filtered["Resources"].([]any) {
		names = append(names, r.(map[string]any)["userName"].(string))
	}
	if diff := cmp.Diff([]string{"alice", "alfred"}, names); diff != "" {
		t.Errorf("filtered and sorted userNames (-want +got):\n%s", diff)
	}
	if got := number(filtered["totalResults"]); got != 2 {
		t.Errorf("totalResults = %d, want 2", got)
	}

	for _, bad := range []string{`userName eq`, `nosuchattr eq "x"`, `userName eq "a" and (`} {
		resp := ts.send(t, ts.mainToken, http.MethodGet, "/scim/v2/Users?filter="+url.QueryEscape(bad), "")
		checkSCIMError(t, resp, http.StatusBadRequest, "invalidFilter")
	}
	checkSCIMError(t, ts.send(t, ts.mainToken, http.MethodGet, "/scim/v2/Users?sortBy=userName&sortOrder=sideways", ""),
		http.StatusBadRequest, "invalidValue")
}

func TestListCursorPaging(t *testing.T) {
	ts := startTestServer(t, scimserver.Config{})
	var want []string
	for i := range 7 {
		want = append(want, ts.createUser(t, fmt.Sprintf("cursor%d", i)))
	}
	sort.Strings(want)

	var got []string
	cursor, pages := "", 0
	for {
		doc := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodGet,
			"/scim/v2/Users?count=3&cursor="+url.QueryEscape(cursor), "")
		pages++
		if got := number(doc["totalResults"]); got != 7 {
			t.Errorf("page %d: totalResults = %d, want 7", pages, got)
		}
		if _, ok := doc["startIndex"]; ok {
			t.Errorf("page %d: a cursor page has startIndex", pages)
		}
		got = append(got, listIDs(t, doc)...)
		next, _ := doc["nextCursor"].(string)
		if next == "" || pages > 10 {
			break
		}
		cursor = next
	}
	if pages != 3 {
		t.Errorf("read %d pages, want 3", pages)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ids over all cursor pages (-want +got):\n%s", diff)
	}

	first := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodGet, "/scim/v2/Users?count=2&cursor=", "")
	next := first["nextCursor"].(string)
	tests := []struct {
		name, query, scimType string
	}{
		{"tampered", "cursor=" + url.QueryEscape(next[:len(next)-2]+"AA"), "invalidCursor"},
		{"other filter", "cursor=" + url.QueryEscape(next) + "&filter=" + url.QueryEscape(`userName sw "c"`), "invalidCursor"},
		{"with startIndex", "cursor=" + url.QueryEscape(next) + "&startIndex=2", "invalidValue"},
		{"other sortBy", "cursor=" + url.QueryEscape(next) + "&sortBy=userName", "invalidCursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkSCIMError(t, ts.send(t, ts.mainToken, http.MethodGet, "/scim/v2/Users?"+tt.query, ""),
				http.StatusBadRequest, tt.scimType)
		})
	}
	// A cursor of one endpoint is not valid at another.
	checkSCIMError(t, ts.send(t, ts.mainToken, http.MethodGet, "/scim/v2/Groups?cursor="+url.QueryEscape(next), ""),
		http.StatusBadRequest, "invalidCursor")
}

func TestListCursorPagingSorted(t *testing.T) {
	ts := startTestServer(t, scimserver.Config{})
	names := []string{"delta", "alpha", "echo", "charlie", "bravo"}
	for _, name := range names {
		ts.createUser(t, name)
	}

	var got []string
	cursor, pages := "", 0
	for pages < 10 {
		doc := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodGet,
			"/scim/v2/Users?count=2&sortBy=userName&sortOrder=descending&cursor="+url.QueryEscape(cursor), "")
		pages++
		for _, r := range doc["Resources"].([]any) {
			got = append(got, r.(map[string]any)["userName"].(string))
		}
		next, _ := doc["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	want := []string{"echo", "delta", "charlie", "bravo", "alpha"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("userNames over sorted cursor pages (-want +got):\n%s", diff)
	}
	if pages != 3 {
		t.Errorf("read %d pages, want 3", pages)
	}
}

// TestListCursorPagingSortedDelete deletes the last user of each sorted
// cursor page before reading the next: the cursor continues after that
// user's position, so no user is skipped or repeated.
func TestListCursorPagingSortedDelete(t *testing.T) {
	for _, order := range []string{"ascending", "descending"} {
		t.Run(order, func(t *testing.T) {
			ts := startTestServer(t, scimserver.Config{})
			// Ties on displayName, and users without one.
			type user struct{ id, display string }
			var users []user
			for i, display := range []string{"Beta", "alpha", "", "beta", "Alpha", "", "gamma", "BETA"} {
				body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"sorted%d"`, i)
				if display != "" {
					body += fmt.Sprintf(`,"displayName":%q`, display)
				}
				doc := ts.mustSend(t, http.StatusCreated, ts.mainToken, http.MethodPost, "/scim/v2/Users", body+"}")
				users = append(users, user{doc["id"].(string), strings.ToLower(display)})
			}
			slices.SortFunc(users, func(a, b user) int {
				if (a.display == "") != (b.display == "") {
					return strings.Compare(b.display, a.display) // without a value last
				}
				if c := strings.Compare(a.display, b.display); c != 0 {
					return c
				}
				return strings.Compare(a.id, b.id)
			})
			var want []string
			for _, u := range users {
				want = append(want, u.id)
			}
			if order == "descending" {
				slices.Reverse(want)
			}

			var got []string
			cursor := ""
			for pages := 0; pages < 10; pages++ {
				doc := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodGet,
					"/scim/v2/Users?count=2&sortBy=displayName&sortOrder="+order+"&cursor="+url.QueryEscape(cursor), "")
				ids := listIDs(t, doc)
				got = append(got, ids...)
				next, _ := doc["nextCursor"].(string)
				if next == "" {
					break
				}
				ts.mustSend(t, http.StatusNoContent, ts.mainToken, http.MethodDelete, "/scim/v2/Users/"+ids[len(ids)-1], "")
				cursor = next
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ids over sorted cursor pages with deletions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCursorExpires(t *testing.T) {
	ts := startTestServer(t, scimserver.Config{CursorTTL: time.Nanosecond})
	for i := range 3 {
		ts.createUser(t, fmt.Sprintf("expiring%d", i))
	}
	first := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodGet, "/scim/v2/Users?count=1&cursor=", "")
	next, _ := first["nextCursor"].(string)
	if next == "" {
		t.Fatalf("first page has no nextCursor: %v", first)
	}
	resp := ts.send(t, ts.mainToken, http.MethodGet, "/scim/v2/Users?count=1&cursor="+url.QueryEscape(next), "")
	checkSCIMError(t, resp, http.StatusBadRequest, "expiredCursor")
}

func TestSearchEndpoints(t *testing.T) {
	ts := startTestServer(t, scimserver.Config{})
	alice := ts.createUser(t, "alice")
	ts.createUser(t, "bob")
	groupID := ts.createGroup(t, ts.mainToken, "/scim/v2", "Admins", alice)

	users := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodPost, "/scim/v2/Users/.search",
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName eq \"alice\"","attributes":["userName"]}`)
	if ids := listIDs(t, users); !slices.Equal(ids, []string{alice}) {
		t.Errorf("/Users/.search ids = %v, want [%s]", ids, alice)
	}
	first := users["Resources"].([]any)[0].(map[string]any)
	if _, ok := first["name"]; ok {
		t.Errorf("attributes=[userName] returned name")
	}

	groups := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodPost, "/scim/v2/Groups/.search",
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"displayName eq \"admins\""}`)
	if ids := listIDs(t, groups); !slices.Equal(ids, []string{groupID}) {
		t.Errorf("/Groups/.search ids = %v, want [%s]", ids, groupID)
	}

	root := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodPost, "/scim/v2/.search",
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"count":10}`)
	if got := number(root["totalResults"]); got != 3 {
		t.Errorf("root search totalResults = %d, want 3 (two users, one group)", got)
	}
	types := map[string]int{}
	for _, r := range root["Resources"].([]any) {
		types[r.(map[string]any)["meta"].(map[string]any)["resourceType"].(string)]++
	}
	if diff := cmp.Diff(map[string]int{"User": 2, "Group": 1}, types); diff != "" {
		t.Errorf("root search resource types (-want +got):\n%s", diff)
	}

	// Index paging across the two types: users first, then groups.
	second := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodPost, "/scim/v2/.search",
		`{"startIndex":3,"count":5}`)
	if ids := listIDs(t, second); !slices.Equal(ids, []string{groupID}) {
		t.Errorf("root search from startIndex 3 = %v, want [%s]", ids, groupID)
	}

	// Cursor paging across the two types.
	var all []string
	cursor := ""
	for range 5 {
		body := fmt.Sprintf(`{"count":1,"cursor":%q}`, cursor)
		doc := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodPost, "/scim/v2/.search", body)
		all = append(all, listIDs(t, doc)...)
		next, _ := doc["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(all) != 3 || !slices.Contains(all, groupID) || !slices.Contains(all, alice) {
		t.Errorf("root cursor search returned %v, want both users and the group once each", all)
	}

	// A filter on an attribute only users have matches only users.
	byName := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodPost, "/scim/v2/.search",
		`{"filter":"userName eq \"bob\""}`)
	if got := number(byName["totalResults"]); got != 1 {
		t.Errorf("root search on userName: totalResults = %d, want 1", got)
	}

	rootGet := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodGet,
		"/scim/v2/?filter="+url.QueryEscape(`displayName eq "Admins"`), "")
	if ids := listIDs(t, rootGet); !slices.Equal(ids, []string{groupID}) {
		t.Errorf("GET on the base URL with a displayName filter = %v, want [%s]", ids, groupID)
	}

	checkSCIMError(t, ts.send(t, ts.mainToken, http.MethodPost, "/scim/v2/.search", `{"filter":"nosuch eq 1"}`),
		http.StatusBadRequest, "invalidFilter")
	checkSCIMError(t, ts.send(t, ts.mainToken, http.MethodPost, "/scim/v2/.search", `{"filter":`),
		http.StatusBadRequest, "invalidSyntax")
}

func TestSandboxUsersAndGroups(t *testing.T) {
	ts := startTestServer(t, scimserver.Config{})
	sandboxToken := ts.newSandbox(t, "acme-test")
	prefix := "/sandboxes/acme-test/scim/v2"
	alice := ts.createUser(t, "alice")
	ts.createUser(t, "bob")

	checkSCIMError(t, ts.send(t, sandboxToken, http.MethodPost, prefix+"/Users", userBody("carol")), http.StatusForbidden, "")

	groupID := ts.createGroup(t, sandboxToken, prefix, "Testers", alice)
	users := ts.mustSend(t, http.StatusOK, sandboxToken, http.MethodGet, prefix+"/Users", "")
	if ids := listIDs(t, users); !slices.Equal(ids, []string{alice}) {
		t.Errorf("sandbox users = %v, want only the member %s", ids, alice)
	}
	user := ts.mustSend(t, http.StatusOK, sandboxToken, http.MethodGet, prefix+"/Users/"+alice, "")
	sandboxBase := ts.url + prefix
	if loc := user["meta"].(map[string]any)["location"]; loc != sandboxBase+"/Users/"+alice {
		t.Errorf("sandbox user meta.location = %v, want %s", loc, sandboxBase+"/Users/"+alice)
	}
	groups, _ := user["groups"].([]any)
	if len(groups) != 1 || groups[0].(map[string]any)["$ref"] != sandboxBase+"/Groups/"+groupID {
		t.Errorf("sandbox user groups = %v, want the sandbox group with its sandbox $ref", user["groups"])
	}
	group := ts.mustSend(t, http.StatusOK, sandboxToken, http.MethodGet, prefix+"/Groups/"+groupID, "")
	if ref := group["members"].([]any)[0].(map[string]any)["$ref"]; ref != sandboxBase+"/Users/"+alice {
		t.Errorf("sandbox member $ref = %v, want %s", ref, sandboxBase+"/Users/"+alice)
	}

	// The main account does not see the sandbox group, nor the sandbox the
	// main account's credential.
	checkSCIMError(t, ts.send(t, ts.mainToken, http.MethodGet, "/scim/v2/Groups/"+groupID, ""), http.StatusNotFound, "")
	checkSCIMError(t, ts.send(t, ts.mainToken, http.MethodGet, prefix+"/Groups/"+groupID, ""), http.StatusUnauthorized, "")

	checkSCIMError(t, ts.send(t, sandboxToken, http.MethodPatch, prefix+"/Users/"+alice,
		`{"Operations":[{"op":"replace","path":"displayName","value":"x"}]}`), http.StatusForbidden, "")
	if resp := ts.send(t, sandboxToken, http.MethodDelete, prefix+"/Users/"+alice, ""); resp.status != http.StatusNoContent {
		t.Fatalf("sandbox delete user: status %d, want 204; body %s", resp.status, resp.body)
	}
	checkSCIMError(t, ts.send(t, sandboxToken, http.MethodGet, prefix+"/Users/"+alice, ""), http.StatusNotFound, "")
	ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodGet, "/scim/v2/Users/"+alice, "")

	// The root search of a sandbox returns its groups and its members only.
	root := ts.mustSend(t, http.StatusOK, sandboxToken, http.MethodPost, prefix+"/.search", `{}`)
	if ids := listIDs(t, root); !slices.Equal(ids, []string{groupID}) {
		t.Errorf("sandbox root search = %v, want only its group %s", ids, groupID)
	}
}

func TestBulkWithBulkIDs(t *testing.T) {
	ts := startTestServer(t, scimserver.Config{})
	existing := ts.createUser(t, "existing")
	body := fmt.Sprintf(`{
		"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
		"Operations": [
			{"method": "POST", "path": "/Groups", "bulkId": "g1",
			 "data": {"schemas": [%[1]q], "displayName": "Bulk group", "members": [{"value": "bulkId:u1"}, {"value": %[3]q}]}},
			{"method": "POST", "path": "/Users", "bulkId": "u1", "data": %[2]s},
			{"method": "PATCH", "path": "/Users/bulkId:u1",
			 "data": {"Operations": [{"op": "replace", "path": "displayName", "value": "Patched"}]}},
			{"method": "DELETE", "path": "/Users/%[3]s", "version": "W/\"9\""},
			{"method": "POST", "path": "/Users", "bulkId": "dup", "data": %[4]s}
		]
	}`, groupURN, userBody("bulkuser"), existing, userBody("BULKUSER"))
	doc := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodPost, "/scim/v2/Bulk", body)

	ops := doc["Operations"].([]any)
	if len(ops) != 5 {
		t.Fatalf("got %d operation results, want 5: %v", len(ops), ops)
	}
	byBulkID := map[string]map[string]any{}
	var statuses []string
	for _, op := range ops {
		op := op.(map[string]any)
		statuses = append(statuses, fmt.Sprint(op["status"]))
		if id, ok := op["bulkId"].(string); ok {
			byBulkID[id] = op
		}
	}
	if diff := cmp.Diff([]string{"201", "201", "200", "412", "409"}, statuses); diff != "" {
		t.Errorf("operation statuses in request order (-want +got):\n%s", diff)
	}
	userLoc, _ := byBulkID["u1"]["location"].(string)
	userID := userLoc[strings.LastIndex(userLoc, "/")+1:]
	groupLoc, _ := byBulkID["g1"]["location"].(string)
	if !strings.HasPrefix(groupLoc, ts.url+"/scim/v2/Groups/") || userID == "" {
		t.Fatalf("locations: group %q, user %q", groupLoc, userLoc)
	}
	if resp, _ := byBulkID["dup"]["response"].(map[string]any); resp["scimType"] != "uniqueness" {
		t.Errorf("duplicate userName response = %v, want scimType uniqueness", resp)
	}

	group := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodGet, strings.TrimPrefix(groupLoc, ts.url), "")
	var members []string
	for _, m := range group["members"].([]any) {
		members = append(members, m.(map[string]any)["value"].(string))
	}
	sort.Strings(members)
	want := []string{existing, userID}
	sort.Strings(want)
	if diff := cmp.Diff(want, members); diff != "" {
		t.Errorf("bulk group members (-want +got):\n%s", diff)
	}
	user := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodGet, "/scim/v2/Users/"+userID, "")
	if user["displayName"] != "Patched" {
		t.Errorf("bulk-patched displayName = %v, want Patched", user["displayName"])
	}
}

func TestBulkFailOnErrorsAndLimits(t *testing.T) {
	ts := startTestServer(t, scimserver.Config{MaxBulkOperations: 3, MaxBulkPayloadBytes: 4096})
	body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"failOnErrors":1,"Operations":[
		{"method":"DELETE","path":"/Users/nosuch"},
		{"method":"POST","path":"/Users","bulkId":"a","data":` + userBody("never") + `}]}`
	doc := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodPost, "/scim/v2/Bulk", body)
	ops := doc["Operations"].([]any)
	if len(ops) != 1 || ops[0].(map[string]any)["status"] != "404" {
		t.Errorf("failOnErrors=1: results %v, want only the failed DELETE with status 404", ops)
	}
	list := ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodGet, "/scim/v2/Users", "")
	if got := number(list["totalResults"]); got != 0 {
		t.Errorf("after failOnErrors stop: %d users, want 0", got)
	}

	tooMany := `{"Operations":[` + strings.Repeat(`{"method":"DELETE","path":"/Users/x"},`, 3) +
		`{"method":"DELETE","path":"/Users/x"}]}`
	checkSCIMError(t, ts.send(t, ts.mainToken, http.MethodPost, "/scim/v2/Bulk", tooMany),
		http.StatusRequestEntityTooLarge, "tooMany")

	large := `{"Operations":[{"method":"POST","path":"/Users","bulkId":"x","data":{"userName":"` +
		strings.Repeat("x", 5000) + `"}}]}`
	checkSCIMError(t, ts.send(t, ts.mainToken, http.MethodPost, "/scim/v2/Bulk", large),
		http.StatusRequestEntityTooLarge, "")

	cycle := `{"Operations":[
		{"method":"POST","path":"/Groups","bulkId":"a","data":{"displayName":"A","members":[{"value":"bulkId:b"}]}},
		{"method":"POST","path":"/Groups","bulkId":"b","data":{"displayName":"B","members":[{"value":"bulkId:a"}]}}]}`
	doc = ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodPost, "/scim/v2/Bulk", cycle)
	for _, op := range doc["Operations"].([]any) {
		if status := op.(map[string]any)["status"]; status != "409" {
			t.Errorf("circular bulkId operation status = %v, want 409", status)
		}
	}
}

func TestBulkOnSandbox(t *testing.T) {
	ts := startTestServer(t, scimserver.Config{})
	sandboxToken := ts.newSandbox(t, "bulk-sandbox")
	alice := ts.createUser(t, "alice")
	body := fmt.Sprintf(`{"Operations":[
		{"method":"POST","path":"/Users","bulkId":"u","data":%s},
		{"method":"POST","path":"/Groups","bulkId":"g","data":%s}]}`, userBody("carol"), groupBody("Sandbox group", alice))
	doc := ts.mustSend(t, http.StatusOK, sandboxToken, http.MethodPost, "/sandboxes/bulk-sandbox/scim/v2/Bulk", body)
	ops := doc["Operations"].([]any)
	if len(ops) != 2 {
		t.Fatalf("got %d results, want 2", len(ops))
	}
	user, group := ops[0].(map[string]any), ops[1].(map[string]any)
	if user["status"] != "403" {
		t.Errorf("sandbox bulk user POST status = %v, want 403", user["status"])
	}
	if group["status"] != "201" {
		t.Errorf("sandbox bulk group POST status = %v, want 201", group["status"])
	}
	if loc, _ := group["location"].(string); !strings.HasPrefix(loc, ts.url+"/sandboxes/bulk-sandbox/scim/v2/Groups/") {
		t.Errorf("sandbox bulk group location = %q, want the sandbox base URL", loc)
	}
	respBody, _ := json.Marshal(user["response"])
	checkNoLeak(t, respBody)
}

func TestDiscoveryEndpoints(t *testing.T) {
	ts := startTestServer(t, scimserver.Config{MaxBulkOperations: 50, MaxBulkPayloadBytes: 1 << 20, MaxPageSize: 200})
	sandboxToken := ts.newSandbox(t, "disc")
	for _, tenant := range []struct{ token, prefix string }{
		{ts.mainToken, "/scim/v2"},
		{sandboxToken, "/sandboxes/disc/scim/v2"},
	} {
		t.Run(tenant.prefix, func(t *testing.T) {
			spc := ts.mustSend(t, http.StatusOK, tenant.token, http.MethodGet, tenant.prefix+"/ServiceProviderConfig", "")
			checks := map[string]any{
				"patch.supported":                    true,
				"bulk.supported":                     true,
				"bulk.maxOperations":                 float64(50),
				"bulk.maxPayloadSize":                float64(1 << 20),
				"filter.supported":                   true,
				"filter.maxResults":                  float64(200),
				"changePassword.supported":           false,
				"sort.supported":                     true,
				"etag.supported":                     true,
				"pagination.cursor":                  true,
				"pagination.index":                   true,
				"pagination.maxPageSize":             float64(200),
				"pagination.defaultPaginationMethod": "index",
				"pagination.cursorTimeout":           float64(3600),
			}
			for path, want := range checks {
				block, key, _ := strings.Cut(path, ".")
				got := spc[block].(map[string]any)[key]
				if got != want {
					t.Errorf("ServiceProviderConfig %s = %v, want %v", path, got, want)
				}
			}
			schemes := spc["authenticationSchemes"].([]any)
			if len(schemes) != 1 || schemes[0].(map[string]any)["type"] != "oauthbearertoken" {
				t.Errorf("authenticationSchemes = %v, want one oauthbearertoken", schemes)
			}

			types := ts.mustSend(t, http.StatusOK, tenant.token, http.MethodGet, tenant.prefix+"/ResourceTypes", "")
			var names []string
			for _, r := range types["Resources"].([]any) {
				names = append(names, r.(map[string]any)["name"].(string))
			}
			if diff := cmp.Diff([]string{"User", "Group"}, names); diff != "" {
				t.Errorf("resource types (-want +got):\n%s", diff)
			}
			userType := ts.mustSend(t, http.StatusOK, tenant.token, http.MethodGet, tenant.prefix+"/ResourceTypes/User", "")
			if userType["endpoint"] != "/Users" || userType["schema"] != userURN {
				t.Errorf("ResourceTypes/User = %v", userType)
			}
			if loc := userType["meta"].(map[string]any)["location"]; loc != ts.url+tenant.prefix+"/ResourceTypes/User" {
				t.Errorf("ResourceTypes/User meta.location = %v", loc)
			}

			all := ts.mustSend(t, http.StatusOK, tenant.token, http.MethodGet, tenant.prefix+"/Schemas", "")
			if got := number(all["totalResults"]); got != 3 {
				t.Errorf("Schemas totalResults = %d, want 3", got)
			}
			userSchema := ts.mustSend(t, http.StatusOK, tenant.token, http.MethodGet, tenant.prefix+"/Schemas/"+userURN, "")
			if userSchema["id"] != userURN {
				t.Errorf("Schemas/%s id = %v", userURN, userSchema["id"])
			}

			checkSCIMError(t, ts.send(t, tenant.token, http.MethodGet, tenant.prefix+"/Schemas/urn:nosuch", ""), http.StatusNotFound, "")
			checkSCIMError(t, ts.send(t, tenant.token, http.MethodGet, tenant.prefix+"/ResourceTypes/Device", ""), http.StatusNotFound, "")
			checkSCIMError(t, ts.send(t, tenant.token, http.MethodGet, tenant.prefix+"/Schemas?filter=id+pr", ""), http.StatusForbidden, "")
		})
	}
}

func TestRequestErrors(t *testing.T) {
	ts := startTestServer(t, scimserver.Config{MaxBodyBytes: 2048})
	tok := ts.mainToken
	tests := []struct {
		name         string
		method, path string
		body         string
		headers      []string
		status       int
		scimType     string
	}{
		{"unknown path", "GET", "/scim/v2/Devices", "", nil, 404, ""},
		{"wrong method", "DELETE", "/scim/v2/Users", "", nil, 405, ""},
		{"unknown user", "GET", "/scim/v2/Users/nosuch", "", nil, 404, ""},
		{"unparsable JSON", "POST", "/scim/v2/Users", `{"userName":`, nil, 400, "invalidSyntax"},
		{"trailing data", "POST", "/scim/v2/Users", `{"userName":"a"} {}`, nil, 400, "invalidSyntax"},
		{"not an object", "POST", "/scim/v2/Users", `[1,2]`, nil, 400, "invalidSyntax"},
		{"unsupported media type", "POST", "/scim/v2/Users", userBody("x"), []string{"Content-Type", "text/plain"}, 415, ""},
		{"body too large", "POST", "/scim/v2/Users", `{"userName":"` + strings.Repeat("a", 4096) + `"}`, nil, 413, ""},
		{"patch without operations", "PATCH", "/scim/v2/Users/x", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`, nil, 400, "invalidSyntax"},
		{"projection too long", "GET", "/scim/v2/Users?attributes=" + strings.Repeat("a,", 5000), "", nil, 400, "invalidValue"},
		{"no credential", "GET", "/scim/v2/Users", "", []string{"Authorization", ""}, 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := tok
			if slices.Contains(tt.headers, "Authorization") {
				token = ""
			}
			resp := ts.send(t, token, tt.method, tt.path, tt.body, tt.headers...)
			checkSCIMError(t, resp, tt.status, tt.scimType)
		})
	}

	ok := ts.send(t, tok, http.MethodPost, "/scim/v2/Users", userBody("jsonclient"),
		"Content-Type", "application/json; charset=utf-8")
	if ok.status != http.StatusCreated {
		t.Errorf("application/json with charset: status %d, want 201; body %s", ok.status, ok.body)
	}
	if ct := ok.header.Get("Content-Type"); ct != "application/scim+json" {
		t.Errorf("response Content-Type = %q, want application/scim+json", ct)
	}
}

func TestPasswordNeverReturned(t *testing.T) {
	ts := startTestServer(t, scimserver.Config{})
	body := fmt.Sprintf(`{"schemas":[%q],"userName":"secretive","password":"t0p-Secret!"}`, userURN)
	created := ts.send(t, ts.mainToken, http.MethodPost, "/scim/v2/Users", body)
	if created.status != http.StatusCreated {
		t.Fatalf("create: status %d, want 201; body %s", created.status, created.body)
	}
	id := created.object(t)["id"].(string)
	for _, path := range []string{
		"/scim/v2/Users/" + id,
		"/scim/v2/Users/" + id + "?attributes=password",
		"/scim/v2/Users?attributes=userName,password",
	} {
		resp := ts.send(t, ts.mainToken, http.MethodGet, path, "")
		if resp.status != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", path, resp.status)
		}
		if strings.Contains(string(resp.body), "password") || strings.Contains(string(resp.body), "t0p-Secret") {
			t.Errorf("GET %s returned the password: %s", path, resp.body)
		}
	}
	if strings.Contains(string(created.body), "password") {
		t.Errorf("create response returned the password: %s", created.body)
	}
}

func TestStoreFailureIsInternalError(t *testing.T) {
	ts := startTestServer(t, scimserver.Config{})
	ts.createUser(t, "before")
	ts.closeStore(t)

	for _, req := range []struct{ method, path, body string }{
		{http.MethodGet, "/scim/v2/Users?filter=" + url.QueryEscape(`userName eq "before"`), ""},
		{http.MethodPost, "/scim/v2/Groups", groupBody("Broken")},
		{http.MethodPost, "/scim/v2/.search", `{}`},
	} {
		resp := ts.send(t, ts.mainToken, req.method, req.path, req.body)
		// Authentication reads the store first, so the failure may surface
		// there; either way it is a 500 without internal text.
		checkSCIMError(t, resp, http.StatusInternalServerError, "")
		if detail := resp.object(t)["detail"]; detail == nil || strings.Contains(fmt.Sprint(detail), "closed") {
			t.Errorf("%s %s: detail = %v, want a fixed text", req.method, req.path, detail)
		}
	}
	if !strings.Contains(ts.logs.String(), "closed") {
		t.Errorf("the server log does not record the store error")
	}
}

// TestUserETagFollowsGroups checks that a user's ETag changes when the
// user joins a group, since the groups attribute is part of the resource:
// a client revalidating with the old tag must get the new groups.
func TestUserETagFollowsGroups(t *testing.T) {
	ts := startTestServer(t, scimserver.Config{})
	sandboxToken := ts.newSandbox(t, "acme-test")
	prefix := "/sandboxes/acme-test/scim/v2"
	alice := ts.createUser(t, "alice")
	ts.createGroup(t, sandboxToken, prefix, "Testers", alice)

	path := prefix + "/Users/" + alice
	first := ts.send(t, sandboxToken, http.MethodGet, path, "")
	tag := first.header.Get("ETag")
	if first.status != http.StatusOK || tag == "" {
		t.Fatalf("get sandbox user: status %d, ETag %q; want 200 and a tag", first.status, tag)
	}

	ts.createGroup(t, sandboxToken, prefix, "Reviewers", alice)
	again := ts.send(t, sandboxToken, http.MethodGet, path, "", "If-None-Match", tag)
	if again.status != http.StatusOK {
		t.Fatalf("get with the tag from before the second group: status %d, want 200", again.status)
	}
	if groups, _ := again.object(t)["groups"].([]any); len(groups) != 2 {
		t.Errorf("groups after joining a second group = %v, want 2 entries", groups)
	}
	if again.header.Get("ETag") == tag {
		t.Errorf("ETag stayed %s after the user joined a group", tag)
	}
}

func TestSearchPathRejectsGet(t *testing.T) {
	ts := startTestServer(t, scimserver.Config{})
	for _, path := range []string{"/scim/v2/Users/.search", "/scim/v2/Groups/.search", "/scim/v2/.search"} {
		resp := ts.send(t, ts.mainToken, http.MethodGet, path, "")
		checkSCIMError(t, resp, http.StatusMethodNotAllowed, "")
		if allow := resp.header.Get("Allow"); allow != http.MethodPost {
			t.Errorf("GET %s: Allow = %q, want POST", path, allow)
		}
	}
}

// TestUserETagHidesOtherTenants checks that a sandbox's tag of a user does
// not change when the user's memberships change in another sandbox, which
// the sandbox must not be able to observe, but does change when the
// user's data changes in the main account.
func TestUserETagHidesOtherTenants(t *testing.T) {
	ts := startTestServer(t, scimserver.Config{})
	tokenA := ts.newSandbox(t, "sandbox-a")
	tokenB := ts.newSandbox(t, "sandbox-b")
	alice := ts.createUser(t, "alice")
	ts.createGroup(t, tokenA, "/sandboxes/sandbox-a/scim/v2", "Testers", alice)

	pathA := "/sandboxes/sandbox-a/scim/v2/Users/" + alice
	tag := ts.send(t, tokenA, http.MethodGet, pathA, "").header.Get("ETag")

	ts.createGroup(t, tokenB, "/sandboxes/sandbox-b/scim/v2", "Reviewers", alice)
	if got := ts.send(t, tokenA, http.MethodGet, pathA, "", "If-None-Match", tag); got.status != http.StatusNotModified {
		t.Errorf("sandbox-a revalidation after a sandbox-b membership change: status %d, want 304", got.status)
	}

	ts.mustSend(t, http.StatusOK, ts.mainToken, http.MethodPatch, "/scim/v2/Users/"+alice,
		`{"Operations":[{"op":"replace","path":"title","value":"Lead"}]}`)
	if got := ts.send(t, tokenA, http.MethodGet, pathA, "", "If-None-Match", tag); got.status != http.StatusOK {
		t.Errorf("sandbox-a revalidation after a main-account change: status %d, want 200", got.status)
	}
}
