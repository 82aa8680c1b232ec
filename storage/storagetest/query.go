package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/storage"
)

const enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// createDataset stores the users and groups that the query tests filter,
// sort and page.
func createDataset(t *testing.T, s storage.Store) {
	t.Helper()
	users := []*storage.User{
		newUser("u1", "bjensen", date("2024-01-01T00:00:00Z"), map[string]any{
			"displayName": "Babs Jensen",
			"name":        map[string]any{"givenName": "Barbara", "familyName": "Jensen"},
			"emails": []any{
				map[string]any{"value": "bjensen@example.com", "type": "work", "primary": true},
				map[string]any{"value": "babs@home.org", "type": "home"},
			},
			"active":     true,
			"externalId": "EXT-1",
			"title":      "Tour Guide",
			enterprise: map[string]any{
				"employeeNumber": "701984",
				"department":     "Tour Operations",
				"manager":        map[string]any{"value": "u2"},
			},
		}),
		newUser("u2", "jsmith", date("2024-06-01T12:30:00.250Z"), map[string]any{
			"displayName": "John Smith",
			"name":        map[string]any{"givenName": "John", "familyName": "Smith"},
			"emails": []any{
				map[string]any{"value": "john@home.org", "type": "home"},
				map[string]any{"value": "jsmith@work.example.com", "type": "work"},
			},
			"active":     false,
			"externalId": "ext-1",
			"title":      "Manager",
		}),
		newUser("u3", "Alice_100%", date("2025-01-01T00:00:00Z"), map[string]any{
			"name":   map[string]any{"familyName": "Zed"},
			"emails": []any{map[string]any{"value": "alice@example.com", "type": "other"}},
			"active": true,
			enterprise: map[string]any{
				"employeeNumber": "42",
			},
		}),
		newUser("u4", "zoë", date("2025-06-01T00:00:00.001Z"), map[string]any{
			"displayName": "Zoë Ümlaut",
			"nickName":    "Z",
		}),
	}
	for _, u := range users {
		mustCreateUser(t, s, u)
	}
	groups := []struct {
		g       *storage.Group
		members []string
	}{
		{newGroup("g1", storage.MainTenant, "Admins", date("2024-01-01T00:00:00Z"), map[string]any{"externalId": "E1"}), []string{"u1", "u2"}},
		{newGroup("g2", storage.MainTenant, "Tour Guides", date("2024-02-01T00:00:00Z"), nil), []string{"u1"}},
		{newGroup("g3", storage.MainTenant, "empty", date("2024-03-01T00:00:00Z"), nil), nil},
		{newGroup("g4", storage.MainTenant, "Others", date("2024-04-01T00:00:00Z"), nil), []string{"u3"}},
		{newGroup("s1", "sbkey", "Admins", date("2024-05-01T00:00:00Z"), nil), []string{"u3", "u4"}},
	}
	mustCreateSandbox(t, s, "sbkey")
	for _, g := range groups {
		mustCreateGroup(t, s, g.g, g.members...)
	}
}

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

type filterCase struct {
	filter string
	want   []string
}

var userFilterCases = []filterCase{
	{`userName eq "BJENSEN"`, []string{"u1"}},
	{`userName eq "ZOË"`, []string{"u4"}},
	{`userName ne "bjensen"`, []string{"u2", "u3", "u4"}},
	{`userName co "smi"`, []string{"u2"}},
	{`userName sw "J"`, []string{"u2"}},
	{`userName ew "SEN"`, []string{"u1"}},
	{`userName co "_100%"`, []string{"u3"}},
	{`userName co "%"`, []string{"u3"}},
	{`userName sw "_"`, nil},
	{`userName ew "%"`, []string{"u3"}},
	{`userName gt "c"`, []string{"u2", "u4"}},
	{`userName ge "jsmith"`, []string{"u2", "u4"}},
	{`userName lt "bjensen"`, []string{"u3"}},
	{`userName le "BJENSEN"`, []string{"u1", "u3"}},
	{`displayName pr`, []string{"u1", "u2", "u4"}},
	{`not (displayName pr)`, []string{"u3"}},
	{`nickName eq "z"`, []string{"u4"}},
	{`title pr and not (title eq "manager")`, []string{"u1"}},
	{`name.familyName eq "jensen"`, []string{"u1"}},
	{`name.givenName sw "j" or name.familyName eq "zed"`, []string{"u2", "u3"}},
	{`name pr`, []string{"u1", "u2", "u3"}},
	{`emails co "example.com"`, []string{"u1", "u2", "u3"}},
	{`emails.value ew "@HOME.org"`, []string{"u1", "u2"}},
	{`emails.type eq "work"`, []string{"u1", "u2"}},
	{`emails.value ne "john@home.org"`, []string{"u1", "u3", "u4"}},
	{`emails[type eq "home" and value sw "john"]`, []string{"u2"}},
	{`emails[type eq "work" and value sw "john"]`, nil},
	{`emails[type eq "work" or type eq "other"]`, []string{"u1", "u2", "u3"}},
	{`emails[not (type eq "work")]`, []string{"u1", "u2", "u3"}},
	{`emails[primary eq true]`, []string{"u1"}},
	{`emails[type ne "work" and value co "example"]`, []string{"u3"}},
	{`not (emails[type eq "work"])`, []string{"u3", "u4"}},
	{`active eq true`, []string{"u1", "u3"}},
	{`active eq false`, []string{"u2"}},
	{`active ne true`, []string{"u2", "u4"}},
	{`active pr`, []string{"u1", "u2", "u3"}},
	{`externalId eq "EXT-1"`, []string{"u1"}},
	{`externalId eq "ext-1"`, []string{"u2"}},
	{`externalId sw "ext"`, []string{"u2"}},
	{`id eq "u2"`, []string{"u2"}},
	{`id eq "U2"`, nil},
	{`id ne "u2"`, []string{"u1", "u3", "u4"}},
	{`meta.created gt "2024-03-01T00:00:00Z"`, []string{"u2", "u3", "u4"}},
	{`meta.created le "2025-01-01T00:00:00Z"`, []string{"u1", "u2", "u3"}},
	{`meta.created eq "2025-01-01T01:00:00+01:00"`, []string{"u3"}},
	{`meta.created eq "2024-06-01T12:30:00.25Z"`, []string{"u2"}},
	{`meta.created lt "2024-06-01T12:30:00.25Z"`, []string{"u1"}},
	{`meta.lastModified ge "2025-06-01T00:00:00.001Z"`, []string{"u4"}},
	{enterprise + `:employeeNumber eq "42"`, []string{"u3"}},
	{enterprise + `:manager.value eq "u2"`, []string{"u1"}},
	{enterprise + `:department co "TOUR"`, []string{"u1"}},
	{`(userName eq "bjensen" or userName eq "jsmith") and active eq false`, []string{"u2"}},
	{`userName eq "bjensen" or userName eq "jsmith" and active eq false`, []string{"u1", "u2"}},
	{`not (userName sw "b" or userName sw "j")`, []string{"u3", "u4"}},
	{`groups.value eq "g2"`, []string{"u1"}},
	{`groups.display eq "admins"`, []string{"u1", "u2"}},
	{`groups[display sw "tour"]`, []string{"u1"}},
	{`groups.value ne "g1"`, []string{"u3", "u4"}},
	{`groups.value pr`, []string{"u1", "u2", "u3"}},
	{`not (groups.value pr)`, []string{"u4"}},
	{`groups.display co "min" and emails.type eq "home"`, []string{"u1", "u2"}},
}

func testUserFilters(t *testing.T, s storage.Store) {
	createDataset(t, s)
	for _, tc := range userFilterCases {
		f, err := schemas.User.ParseFilter(tc.filter)
		if err != nil {
			t.Errorf("ParseFilter(%s): %v", tc.filter, err)
			continue
		}
		checkUserFilter(t, s, storage.MainTenant, tc.filter, f, tc.want)
	}
}

func checkUserFilter(t *testing.T, s storage.Store, tenant, name string, f schemas.Filter, want []string) {
	t.Helper()
	page, err := s.QueryUsers(ctx(t), tenant, storage.Query{Filter: f, Limit: 100, Count: true})
	if err != nil {
		t.Errorf("%s: QueryUsers: %v", name, err)
		return
	}
	got := userIDs(page.Items)
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %v, want %v", name, got, want)
	}
	if page.Total != len(want) {
		t.Errorf("%s: total %d, want %d", name, page.Total, len(want))
	}
}

// testUserFiltersTyped covers integer and decimal attributes, which no
// schema scimd serves has, with filters built by hand.
func testUserFiltersTyped(t *testing.T, s storage.Store) {
	const ext = "urn:example:params:scim:schemas:extension:test:2.0:User"
	level := &schemas.Attribute{Name: "level", Type: schemas.Integer, SchemaURN: ext}
	score := &schemas.Attribute{Name: "score", Type: schemas.Decimal, SchemaURN: ext}
	code := &schemas.Attribute{Name: "code", Type: schemas.String, CaseExact: true, SchemaURN: ext}
	for i, attrs := range []map[string]any{
		{"level": int64(3), "score": 2.5, "code": "AbC"},
		{"level": int64(10), "score": 10.0, "code": "abc"},
		{"level": int64(-1), "score": -0.5},
	} {
		mustCreateUser(t, s, newUser(fmt.Sprintf("t%d", i+1), fmt.Sprintf("typed%d", i+1), base, map[string]any{ext: attrs}))
	}
	// The stored numbers keep their types.
	u, err := s.GetUser(ctx(t), "t2")
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	wantAttrs := map[string]any{"level": int64(10), "score": 10.0, "code": "abc"}
	if diff := cmp.Diff(wantAttrs, u.Attributes[ext]); diff != "" {
		t.Errorf("stored extension (-want +got):\n%s", diff)
	}

	cmpOn := func(a *schemas.Attribute, op schemas.Operator, v any) schemas.Filter {
		return schemas.Compare{Path: schemas.Path{Attr: a}, Op: op, Value: v}
	}
	cases := []struct {
		name string
		f    schemas.Filter
		want []string
	}{
		{"level gt 3", cmpOn(level, schemas.Gt, int64(3)), []string{"t2"}},
		{"level ge 3", cmpOn(level, schemas.Ge, int64(3)), []string{"t1", "t2"}},
		{"level lt 0", cmpOn(level, schemas.Lt, int64(0)), []string{"t3"}},
		{"level eq 10", cmpOn(level, schemas.Eq, int64(10)), []string{"t2"}},
		{"level ne 10", cmpOn(level, schemas.Ne, int64(10)), []string{"t1", "t3"}},
		{"score le 2.5", cmpOn(score, schemas.Le, 2.5), []string{"t1", "t3"}},
		{"score gt 9.99", cmpOn(score, schemas.Gt, 9.99), []string{"t2"}},
		{"score eq 10", cmpOn(score, schemas.Eq, 10.0), []string{"t2"}},
		{"code eq AbC", cmpOn(code, schemas.Eq, "AbC"), []string{"t1"}},
		{"code co b", cmpOn(code, schemas.Co, "b"), []string{"t1", "t2"}},
		{"code sw A", cmpOn(code, schemas.Sw, "A"), []string{"t1"}},
		{"code ew C", cmpOn(code, schemas.Ew, "C"), []string{"t1"}},
		{"code gt a", cmpOn(code, schemas.Gt, "a"), []string{"t2"}},
		{"code pr", cmpOn(code, schemas.Pr, nil), []string{"t1", "t2"}},
	}
	for _, tc := range cases {
		checkUserFilter(t, s, storage.MainTenant, tc.name, tc.f, tc.want)
	}
}

func testSandboxUserFilters(t *testing.T, s storage.Store) {
	createDataset(t, s)
	cases := []filterCase{
		{`userName pr`, []string{"u3", "u4"}},
		{`groups.display eq "admins"`, []string{"u3", "u4"}},
		{`groups.value eq "s1"`, []string{"u3", "u4"}},
		{`groups.value eq "g4"`, nil},
		{`groups.value eq "g1"`, nil},
		{`not (groups.value eq "s1")`, nil},
		{`displayName pr`, []string{"u4"}},
		{`userName eq "bjensen"`, nil},
	}
	for _, tc := range cases {
		f, err := schemas.User.ParseFilter(tc.filter)
		if err != nil {
			t.Errorf("ParseFilter(%s): %v", tc.filter, err)
			continue
		}
		checkUserFilter(t, s, "sbkey", tc.filter, f, tc.want)
	}
	groups, err := s.UserGroups(ctx(t), "sbkey", []string{"u3"})
	if err != nil {
		t.Fatalf("UserGroups: %v", err)
	}
	if diff := cmp.Diff([]storage.GroupRef{{GroupID: "s1", DisplayName: "Admins"}}, groups["u3"]); diff != "" {
		t.Errorf("UserGroups(sandbox) (-want +got):\n%s", diff)
	}
}

var groupFilterCases = []filterCase{
	{`displayName eq "ADMINS"`, []string{"g1"}},
	{`displayName co "u"`, []string{"g2"}},
	{`displayName sw "t" or displayName ew "S"`, []string{"g1", "g2", "g4"}},
	{`externalId pr`, []string{"g1"}},
	{`externalId eq "e1"`, nil},
	{`id eq "g3"`, []string{"g3"}},
	{`id eq "s1"`, nil},
	{`members.value eq "u1"`, []string{"g1", "g2"}},
	{`members.value eq "u4"`, nil},
	{`members.value ne "u1"`, []string{"g3", "g4"}},
	{`members.display eq "babs jensen"`, []string{"g1", "g2"}},
	{`members.display eq "JOHN SMITH"`, []string{"g1"}},
	{`members.display eq "jsmith"`, nil},
	{`members.display eq "alice_100%"`, []string{"g4"}},
	{`members.display sw "alice"`, []string{"g4"}},
	{`members pr`, []string{"g1", "g2", "g4"}},
	{`not (members pr)`, []string{"g3"}},
	{`members[value eq "u2"]`, []string{"g1"}},
	{`members[value eq "u1" and display sw "babs"]`, []string{"g1", "g2"}},
	{`members[value eq "u1" and display sw "john"]`, nil},
	{`members[not (value eq "u1")]`, []string{"g1", "g4"}},
	{`meta.created ge "2024-02-01T00:00:00Z" and meta.created lt "2024-04-01T00:00:00Z"`, []string{"g2", "g3"}},
	{`meta.lastModified gt "2024-03-15T00:00:00Z"`, []string{"g4"}},
}

func testGroupFilters(t *testing.T, s storage.Store) {
	createDataset(t, s)
	for _, tc := range groupFilterCases {
		f, err := schemas.Group.ParseFilter(tc.filter)
		if err != nil {
			t.Errorf("ParseFilter(%s): %v", tc.filter, err)
			continue
		}
		page, err := s.QueryGroups(ctx(t), storage.MainTenant, storage.Query{Filter: f, Limit: 100, Count: true})
		if err != nil {
			t.Errorf("%s: QueryGroups: %v", tc.filter, err)
			continue
		}
		want := tc.want
		if want == nil {
			want = []string{}
		}
		if got := groupIDs(page.Items); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", tc.filter, got, want)
		}
		if page.Total != len(want) {
			t.Errorf("%s: total %d, want %d", tc.filter, page.Total, len(want))
		}
	}
	// A sandbox lists its own group only.
	f, err := schemas.Group.ParseFilter(`displayName eq "admins"`)
	if err != nil {
		t.Fatalf("ParseFilter: %v", err)
	}
	page, err := s.QueryGroups(ctx(t), "sbkey", storage.Query{Filter: f, Limit: 100})
	if err != nil {
		t.Fatalf("QueryGroups: %v", err)
	}
	if got := groupIDs(page.Items); !slices.Equal(got, []string{"s1"}) {
		t.Errorf("sandbox QueryGroups: got %v, want [s1]", got)
	}
}

func sortPath(t *testing.T, rt *schemas.ResourceType, filterPath string) *schemas.Path {
	t.Helper()
	// The path of a pr filter is the resolved attribute path.
	f, err := rt.ParseFilter(filterPath + " pr")
	if err != nil {
		t.Fatalf("ParseFilter(%s pr): %v", filterPath, err)
	}
	c, ok := f.(schemas.Compare)
	if !ok {
		t.Fatalf("ParseFilter(%s pr) = %T, want a Compare", filterPath, f)
	}
	return &c.Path
}

func testUserSort(t *testing.T, s storage.Store) {
	createDataset(t, s)
	cases := []struct {
		by         string
		descending bool
		want       []string
	}{
		{"userName", false, []string{"u3", "u1", "u2", "u4"}},
		{"userName", true, []string{"u4", "u2", "u1", "u3"}},
		{"displayName", false, []string{"u1", "u2", "u4", "u3"}},
		{"displayName", true, []string{"u3", "u4", "u2", "u1"}},
		{"name.familyName", false, []string{"u1", "u2", "u3", "u4"}},
		{"name.familyName", true, []string{"u4", "u3", "u2", "u1"}},
		{"meta.created", true, []string{"u4", "u3", "u2", "u1"}},
		{"meta.created", false, []string{"u1", "u2", "u3", "u4"}},
		{"externalId", false, []string{"u1", "u2", "u3", "u4"}}, // case-exact: "EXT-1" < "ext-1"
		{enterprise + ":employeeNumber", false, []string{"u3", "u1", "u2", "u4"}},
		{"id", true, []string{"u4", "u3", "u2", "u1"}},
		// Ties are in id order.
		{"active", false, []string{"u2", "u1", "u3", "u4"}},
		{"nickName", false, []string{"u4", "u1", "u2", "u3"}},
	}
	for _, tc := range cases {
		q := storage.Query{SortBy: sortPath(t, schemas.User, tc.by), Descending: tc.descending, Limit: 10}
		page, err := s.QueryUsers(ctx(t), storage.MainTenant, q)
		if err != nil {
			t.Errorf("sort by %s: %v", tc.by, err)
			continue
		}
		if got := userIDs(page.Items); !slices.Equal(got, tc.want) {
			t.Errorf("sort by %s descending=%v: got %v, want %v", tc.by, tc.descending, got, tc.want)
		}
	}

	// Pages of a sorted list cross from the users with a value to those
	// without one.
	displayName := sortPath(t, schemas.User, "displayName")
	pages := []struct {
		descending    bool
		offset, limit int
		want          []string
		more          bool
	}{
		{false, 2, 2, []string{"u4", "u3"}, false},
		{false, 3, 2, []string{"u3"}, false},
		{false, 4, 2, []string{}, false},
		{false, 1, 1, []string{"u2"}, true},
		{true, 0, 1, []string{"u3"}, true},
		{true, 1, 2, []string{"u4", "u2"}, true},
		{true, 3, 5, []string{"u1"}, false},
	}
	for _, p := range pages {
		q := storage.Query{SortBy: displayName, Descending: p.descending, Offset: p.offset, Limit: p.limit, Count: true}
		page, err := s.QueryUsers(ctx(t), storage.MainTenant, q)
		if err != nil {
			t.Errorf("sorted page %+v: %v", p, err)
			continue
		}
		if got := userIDs(page.Items); !slices.Equal(got, p.want) || page.More != p.more || page.Total != 4 {
			t.Errorf("sorted page descending=%v offset %d limit %d: got %v more %v total %d, want %v more %v total 4",
				p.descending, p.offset, p.limit, got, page.More, page.Total, p.want, p.more)
		}
	}

	// Sorting combines with filtering and paging.
	f, err := schemas.User.ParseFilter(`emails pr`)
	if err != nil {
		t.Fatalf("ParseFilter: %v", err)
	}
	q := storage.Query{Filter: f, SortBy: sortPath(t, schemas.User, "userName"), Offset: 1, Limit: 1, Count: true}
	page, err := s.QueryUsers(ctx(t), storage.MainTenant, q)
	if err != nil {
		t.Fatalf("QueryUsers: %v", err)
	}
	if got := userIDs(page.Items); !slices.Equal(got, []string{"u1"}) || page.Total != 3 || !page.More {
		t.Errorf("sorted page: got %v total %d more %v, want [u1] 3 true", got, page.Total, page.More)
	}
}

func testGroupSort(t *testing.T, s storage.Store) {
	createDataset(t, s)
	q := storage.Query{SortBy: sortPath(t, schemas.Group, "displayName"), Limit: 10}
	page, err := s.QueryGroups(ctx(t), storage.MainTenant, q)
	if err != nil {
		t.Fatalf("QueryGroups: %v", err)
	}
	if got, want := groupIDs(page.Items), []string{"g1", "g3", "g4", "g2"}; !slices.Equal(got, want) {
		t.Errorf("groups by displayName: got %v, want %v", got, want)
	}
	q.Descending = true
	page, err = s.QueryGroups(ctx(t), storage.MainTenant, q)
	if err != nil {
		t.Fatalf("QueryGroups: %v", err)
	}
	if got, want := groupIDs(page.Items), []string{"g2", "g4", "g3", "g1"}; !slices.Equal(got, want) {
		t.Errorf("groups by displayName descending: got %v, want %v", got, want)
	}
}

func testPaging(t *testing.T, s storage.Store) {
	createDataset(t, s)
	cases := []struct {
		name      string
		q         storage.Query
		want      []string
		wantTotal int
		wantMore  bool
	}{
		{"first page", storage.Query{Limit: 2, Count: true}, []string{"u1", "u2"}, 4, true},
		{"middle page", storage.Query{Offset: 1, Limit: 2, Count: true}, []string{"u2", "u3"}, 4, true},
		{"last page", storage.Query{Offset: 2, Limit: 2, Count: true}, []string{"u3", "u4"}, 4, false},
		{"past the end", storage.Query{Offset: 10, Limit: 2, Count: true}, nil, 4, false},
		{"limit 0 counts", storage.Query{Limit: 0, Count: true}, nil, 4, true},
		{"no count", storage.Query{Limit: 3}, []string{"u1", "u2", "u3"}, 0, true},
		{"after", storage.Query{After: "u2", Limit: 10, Count: true}, []string{"u3", "u4"}, 4, false},
		{"after ignores offset", storage.Query{After: "u1", Offset: 2, Limit: 1}, []string{"u2"}, 0, true},
		{"after between ids", storage.Query{After: "u1x", Limit: 10}, []string{"u2", "u3", "u4"}, 0, false},
	}
	for _, tc := range cases {
		page, err := s.QueryUsers(ctx(t), storage.MainTenant, tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		want := tc.want
		if want == nil {
			want = []string{}
		}
		if got := userIDs(page.Items); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, want)
		}
		if page.Total != tc.wantTotal {
			t.Errorf("%s: total %d, want %d", tc.name, page.Total, tc.wantTotal)
		}
		if page.More != tc.wantMore {
			t.Errorf("%s: more %v, want %v", tc.name, page.More, tc.wantMore)
		}
	}

	// Groups page the same way.
	page, err := s.QueryGroups(ctx(t), storage.MainTenant, storage.Query{Offset: 1, Limit: 2, Count: true})
	if err != nil {
		t.Fatalf("QueryGroups: %v", err)
	}
	if got := groupIDs(page.Items); !slices.Equal(got, []string{"g2", "g3"}) || page.Total != 4 || !page.More {
		t.Errorf("groups page: got %v total %d more %v, want [g2 g3] 4 true", got, page.Total, page.More)
	}
}

func testCursorPaging(t *testing.T, s storage.Store) {
	t.Run("id order", func(t *testing.T) { testCursorByID(t, s) })
	t.Run("sorted", func(t *testing.T) { testCursorSorted(t, s) })
	t.Run("invalid key", func(t *testing.T) { testCursorInvalidKey(t, s) })
}

func testCursorByID(t *testing.T, s storage.Store) {
	const n = 25
	for i := range n {
		mustCreateUser(t, s, newUser(fmt.Sprintf("user-%03d", i), fmt.Sprintf("name-%03d", i), base, map[string]any{
			"active": i%2 == 0,
		}))
	}
	f, err := schemas.User.ParseFilter(`active eq true`)
	if err != nil {
		t.Fatalf("ParseFilter: %v", err)
	}
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > n {
			t.Fatalf("cursor paging did not end after %d pages", pages)
		}
		page, err := s.QueryUsers(ctx(t), storage.MainTenant, storage.Query{Filter: f, After: after, Limit: 4, Count: true})
		if err != nil {
			t.Fatalf("QueryUsers after %q: %v", after, err)
		}
		if page.Total != 13 {
			t.Errorf("total after %q = %d, want 13", after, page.Total)
		}
		got = append(got, userIDs(page.Items)...)
		if !page.More {
			break
		}
		after = page.Items[len(page.Items)-1].ID
	}
	var want []string
	for i := 0; i < n; i += 2 {
		want = append(want, fmt.Sprintf("user-%03d", i))
	}
	if !slices.Equal(got, want) {
		t.Errorf("cursor pages: got %v, want %v", got, want)
	}
}

// testCursorSorted pages sorted queries by Page.LastKey, two at a time,
// and deletes the last user of each page before reading the next, so
// that a position kept as an offset would skip a user.
func testCursorSorted(t *testing.T, s storage.Store) {
	// Ties on the value and users without one, in both parts of the
	// order; nickName is an attribute that no dedicated index covers.
	values := []struct{ id, value string }{
		{"k-a", "B"}, {"k-b", "a"}, {"k-c", "b"}, {"k-d", ""}, {"k-e", "B"},
		{"k-f", "A"}, {"k-g", ""}, {"k-h", "C"}, {"k-i", ""},
	}
	ascending := []string{"k-b", "k-f", "k-a", "k-c", "k-e", "k-h", "k-d", "k-g", "k-i"}
	f, err := schemas.User.ParseFilter(`userName sw "sorted-"`)
	if err != nil {
		t.Fatalf("ParseFilter: %v", err)
	}
	cases := []struct {
		by         string
		descending bool
	}{
		{"", false}, // id order
		{"displayName", false},
		{"displayName", true},
		{"nickName", false},
		{"nickName", true},
	}
	for _, tc := range cases {
		// Created in reverse id order, so that a backend returning ties
		// in storage order fails.
		for _, v := range slices.Backward(values) {
			attrs := map[string]any{}
			if v.value != "" {
				attrs[tc.by] = v.value
			}
			mustCreateUser(t, s, newUser(v.id, "sorted-"+v.id, base, attrs))
		}
		q := storage.Query{Filter: f, Descending: tc.descending, Limit: 2, Count: true}
		want := slices.Clone(ascending)
		if tc.by == "" {
			slices.Sort(want)
		} else {
			q.SortBy = sortPath(t, schemas.User, tc.by)
		}
		if tc.descending {
			slices.Reverse(want)
		}
		var byOffset []string
		for q.Offset = 0; q.Offset < len(want); q.Offset += q.Limit {
			page, err := s.QueryUsers(ctx(t), storage.MainTenant, q)
			if err != nil {
				t.Fatalf("QueryUsers offset %d: %v", q.Offset, err)
			}
			byOffset = append(byOffset, userIDs(page.Items)...)
		}
		if diff := cmp.Diff(byOffset, want); diff != "" {
			t.Errorf("sort by %s descending=%v: pages by offset (-got +want):\n%s", tc.by, tc.descending, diff)
		}
		q.Offset = 0
		got, deleted := pageByKey(t, s, q, len(want))
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("sort by %s descending=%v: pages by key (-got +want):\n%s", tc.by, tc.descending, diff)
		}
		for _, v := range values {
			if !slices.Contains(deleted, v.id) {
				mustDeleteUser(t, s, v.id)
			}
		}
	}
}

// pageByKey reads q's pages by LastKey and deletes the last user of each
// page before reading the next. It returns the ids read and deleted.
func pageByKey(t *testing.T, s storage.Store, q storage.Query, n int) (got, deleted []string) {
	t.Helper()
	got = []string{}
	for pages := 0; ; pages++ {
		if pages > n {
			t.Fatalf("paging by key did not end after %d pages", pages)
		}
		page, err := s.QueryUsers(ctx(t), storage.MainTenant, q)
		if err != nil {
			t.Fatalf("QueryUsers after key %q: %v", q.AfterKey, err)
		}
		if wantTotal := n - len(deleted); page.Total != wantTotal {
			t.Errorf("total after key %q = %d, want %d", q.AfterKey, page.Total, wantTotal)
		}
		got = append(got, userIDs(page.Items)...)
		if len(page.Items) > 0 && page.LastKey == "" {
			t.Errorf("page %v has no LastKey", userIDs(page.Items))
		}
		if !page.More {
			return got, deleted
		}
		last := page.Items[len(page.Items)-1].ID
		mustDeleteUser(t, s, last)
		deleted = append(deleted, last)
		q.AfterKey = page.LastKey
	}
}

func mustDeleteUser(t *testing.T, s storage.Store, id string) {
	t.Helper()
	if err := s.DeleteUser(ctx(t), id, 0); err != nil {
		t.Fatalf("DeleteUser(%q): %v", id, err)
	}
}

// testCursorInvalidKey checks that keys the backend did not issue, and a
// key of an unsorted query used for a sorted one, are rejected.
func testCursorInvalidKey(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, newUser("key-1", "key-1", base, nil))
	mustCreateUser(t, s, newUser("key-2", "key-2", base, nil))
	page, err := s.QueryUsers(ctx(t), storage.MainTenant, storage.Query{Limit: 1})
	if err != nil {
		t.Fatalf("QueryUsers: %v", err)
	}
	if page.LastKey == "" {
		t.Fatalf("unsorted page %v has no LastKey", userIDs(page.Items))
	}
	sorted := sortPath(t, schemas.User, "displayName")
	cases := []struct {
		name string
		q    storage.Query
	}{
		{"not base64", storage.Query{AfterKey: "%%%", Limit: 1}},
		{"not a key", storage.Query{AfterKey: "bm90IGEga2V5", Limit: 1}},
		{"unsorted key for a sorted query", storage.Query{AfterKey: page.LastKey, SortBy: sorted, Limit: 1}},
		{"after with sortBy", storage.Query{After: "key-1", SortBy: sorted, Limit: 1}},
	}
	for _, tc := range cases {
		if _, err := s.QueryUsers(ctx(t), storage.MainTenant, tc.q); !errors.Is(err, storage.ErrInvalidCursor) {
			t.Errorf("%s: got error %v, want ErrInvalidCursor", tc.name, err)
		}
	}
}
