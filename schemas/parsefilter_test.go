package schemas

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func path(t *testing.T, rt *ResourceType, s string) Path {
	t.Helper()
	p, err := rt.Lookup(s)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", s, err)
	}
	return p
}

// comparePaths lets cmp compare Paths by their attributes' identity
// instead of walking the Parent cycle.
var comparePaths = cmp.Comparer(func(a, b *Attribute) bool { return a == b })

func TestParseFilter(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		rt     *ResourceType
		filter string
		want   func(t *testing.T) Filter
	}{
		{User, `userName eq "bjensen"`, func(t *testing.T) Filter {
			return Compare{path(t, User, "userName"), Eq, "bjensen"}
		}},
		{User, `UserName EQ "BJensen"`, func(t *testing.T) Filter {
			return Compare{path(t, User, "userName"), Eq, "BJensen"}
		}},
		{User, `userName eq "a\"b\u0041"`, func(t *testing.T) Filter {
			return Compare{path(t, User, "userName"), Eq, `a"bA`}
		}},
		{User, `name.familyName co "O'Malley"`, func(t *testing.T) Filter {
			return Compare{path(t, User, "name.familyName"), Co, "O'Malley"}
		}},
		{User, `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, func(t *testing.T) Filter {
			return Compare{path(t, User, "userName"), Sw, "J"}
		}},
		{User, EnterpriseUserURN + `:manager.value eq "26118915"`, func(t *testing.T) Filter {
			return Compare{path(t, User, EnterpriseUserURN+":manager.value"), Eq, "26118915"}
		}},
		{User, `emails co "@example.com"`, func(t *testing.T) Filter {
			return Compare{path(t, User, "emails.value"), Co, "@example.com"}
		}},
		{User, `emails pr`, func(t *testing.T) Filter {
			return Compare{path(t, User, "emails"), Pr, nil}
		}},
		{User, `name pr`, func(t *testing.T) Filter {
			return Compare{path(t, User, "name"), Pr, nil}
		}},
		{User, `active eq true`, func(t *testing.T) Filter {
			return Compare{path(t, User, "active"), Eq, true}
		}},
		{User, `active eq "True"`, func(t *testing.T) Filter {
			return Compare{path(t, User, "active"), Eq, true}
		}},
		{User, `active ne "false"`, func(t *testing.T) Filter {
			return Compare{path(t, User, "active"), Ne, false}
		}},
		{User, `meta.created gt "2026-01-02T03:04:05Z"`, func(t *testing.T) Filter {
			return Compare{path(t, User, "meta.created"), Gt, created}
		}},
		{User, `meta.lastModified le "2026-01-02T04:04:05+01:00"`, func(t *testing.T) Filter {
			return Compare{path(t, User, "meta.lastModified"), Le, created.In(time.FixedZone("", 3600))}
		}},
		{User, `title eq null`, func(t *testing.T) Filter {
			return Not{Compare{path(t, User, "title"), Pr, nil}}
		}},
		{User, `title ne null`, func(t *testing.T) Filter {
			return Compare{path(t, User, "title"), Pr, nil}
		}},
		{User, `userName eq "a" and not (title pr) or active eq false`, func(t *testing.T) Filter {
			return Or{
				And{Compare{path(t, User, "userName"), Eq, "a"}, Not{Compare{path(t, User, "title"), Pr, nil}}},
				Compare{path(t, User, "active"), Eq, false},
			}
		}},
		{User, `userName eq "a" and (title pr or active eq false)`, func(t *testing.T) Filter {
			return And{
				Compare{path(t, User, "userName"), Eq, "a"},
				Or{Compare{path(t, User, "title"), Pr, nil}, Compare{path(t, User, "active"), Eq, false}},
			}
		}},
		{User, `emails[type eq "work" and value co "@example.com"]`, func(t *testing.T) Filter {
			return ValuePath{path(t, User, "emails"), And{
				Compare{path(t, User, "emails.type"), Eq, "work"},
				Compare{path(t, User, "emails.value"), Co, "@example.com"},
			}}
		}},
		{User, `emails[not (primary eq true)] and userName pr`, func(t *testing.T) Filter {
			return And{
				ValuePath{path(t, User, "emails"), Not{Compare{path(t, User, "emails.primary"), Eq, true}}},
				Compare{path(t, User, "userName"), Pr, nil},
			}
		}},
		{User, `emails[type eq "work" and (value co "@example.com" or value ew ".org") and not (primary eq false)]`, func(t *testing.T) Filter {
			return ValuePath{path(t, User, "emails"), And{
				And{
					Compare{path(t, User, "emails.type"), Eq, "work"},
					Or{Compare{path(t, User, "emails.value"), Co, "@example.com"}, Compare{path(t, User, "emails.value"), Ew, ".org"}},
				},
				Not{Compare{path(t, User, "emails.primary"), Eq, false}},
			}}
		}},
		{User, `emails[value eq "a]b"] or addresses[country eq "NL"]`, func(t *testing.T) Filter {
			return Or{
				ValuePath{path(t, User, "emails"), Compare{path(t, User, "emails.value"), Eq, "a]b"}},
				ValuePath{path(t, User, "addresses"), Compare{path(t, User, "addresses.country"), Eq, "NL"}},
			}
		}},
		{Group, `members eq "2819c223"`, func(t *testing.T) Filter {
			return Compare{path(t, Group, "members.value"), Eq, "2819c223"}
		}},
		{Group, `members[value eq "2819c223"]`, func(t *testing.T) Filter {
			return ValuePath{path(t, Group, "members"), Compare{path(t, Group, "members.value"), Eq, "2819c223"}}
		}},
		{Group, `displayName eq "Admins" and meta.resourceType eq "Group"`, func(t *testing.T) Filter {
			return And{
				Compare{path(t, Group, "displayName"), Eq, "Admins"},
				Compare{path(t, Group, "meta.resourceType"), Eq, "Group"},
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			got, err := tt.rt.ParseFilter(tt.filter)
			if err != nil {
				t.Fatalf("ParseFilter: %v", err)
			}
			if diff := cmp.Diff(tt.want(t), got, comparePaths); diff != "" {
				t.Errorf("filter (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseFilterInvalid(t *testing.T) {
	tests := []struct {
		rt         *ResourceType
		filter     string
		wantDetail string
	}{
		{User, `nope eq "x"`, `unknown attribute "nope"`},
		{User, `name.nope eq "x"`, `unknown sub-attribute "nope"`},
		{User, `department eq "x"`, `unknown attribute "department"`},
		{User, `password eq "secret"`, "never returned"},
		{User, `password pr`, "never returned"},
		{User, `meta.version pr`, "meta.version is not filterable"},
		{User, `meta.location pr`, "meta.location is not filterable"},
		{Group, `meta.VERSION eq "W/\"1\""`, "meta.version is not filterable"},
		{User, `urn:ietf:params:scim:schemas:core:2.0:User:meta.location co "/Users/"`, "meta.location is not filterable"},
		{User, `meta[location pr]`, "meta.location is not filterable"},
		{User, `userName eq "` + strings.Repeat("a", MaxFilterStringBytes+1) + `"`, "maximum of 1024"},
		{User, `emails[value co "` + strings.Repeat("a", MaxFilterStringBytes+1) + `"]`, "maximum of 1024"},
		{User, `active gt true`, "cannot order boolean"},
		{User, `active co "t"`, "needs a string attribute"},
		{User, `meta.created co "2026"`, "needs a string attribute"},
		{User, `meta.created gt "yesterday"`, "invalid dateTime"},
		{User, `meta.created gt 5`, "expected a quoted dateTime"},
		{User, `active eq "yes"`, "expected true or false"},
		{User, `userName eq 12`, "expected a quoted string"},
		{User, `userName eq true`, "expected a quoted string"},
		{User, `name eq "x"`, "is complex"},
		{User, `emails[type eq "work"].value eq "x"`, "invalid filter syntax"},
		{User, `emails[nope eq "x"]`, `unknown sub-attribute "nope"`},
		{User, `emails[emails.type eq "x"]`, "must be a sub-attribute"},
		{User, `userName[value eq "x"]`, "not complex"},
		{User, `emails[]`, "invalid filter syntax"},
		{User, `emails[type eq "a"]]`, "unbalanced ]"},
		{User, `emails[type eq "a"`, "unbalanced ["},
		{User, `emails[type eq "a" and ims[value pr]]`, "nested"},
		{User, `scimdValueFilter eq 0`, "unknown attribute"},
		{User, `userName gt null`, "null"},
		{User, `userName eq`, "invalid filter syntax"},
		{User, `userName xx "a"`, "invalid filter syntax"},
		{User, `(userName eq "a"`, "invalid filter syntax"},
		{User, ``, "empty"},
		{User, `   `, "empty"},
		{User, `userName eq "\x"`, "invalid filter syntax"},
		{Group, `userName eq "x"`, `unknown attribute "userName"`},
		{User, strings.Repeat("(", MaxFilterDepth+1) + `userName eq "a"` + strings.Repeat(")", MaxFilterDepth+1), "levels deep"},
		{User, strings.Repeat("not(", MaxFilterDepth+1) + `userName eq "a"` + strings.Repeat(")", MaxFilterDepth+1), "levels deep"},
		{User, strings.Repeat("(", 5000), "levels deep"},
		{User, `userName eq "` + strings.Repeat("a", MaxFilterLength) + `"`, "maximum of 8192"},
		{User, strings.Repeat(`userName eq "a" or `, MaxFilterNodes/2+1) + `userName eq "a"`, "more than 256 expressions"},
	}
	for _, tt := range tests {
		t.Run(truncate(tt.filter), func(t *testing.T) {
			_, err := tt.rt.ParseFilter(tt.filter)
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("ParseFilter error = %v, want *Error", err)
			}
			if se.ScimType != "invalidFilter" {
				t.Errorf("scimType = %q, want invalidFilter", se.ScimType)
			}
			if !strings.Contains(se.Detail, tt.wantDetail) {
				t.Errorf("detail = %q, want it to contain %q", se.Detail, tt.wantDetail)
			}
		})
	}
}

func TestParseFilterDepthWithinLimit(t *testing.T) {
	f := strings.Repeat("(", MaxFilterDepth) + `userName eq "a"` + strings.Repeat(")", MaxFilterDepth)
	if _, err := User.ParseFilter(f); err != nil {
		t.Errorf("ParseFilter at maximum depth: %v", err)
	}
	// Brackets inside strings are values, not nesting.
	f = `userName eq "` + strings.Repeat("(", 100) + `"`
	if _, err := User.ParseFilter(f); err != nil {
		t.Errorf("ParseFilter with parentheses in a string: %v", err)
	}
}

func TestParseFilterAcceptedLimits(t *testing.T) {
	filters := []string{
		`meta.created gt "2026-01-01T00:00:00Z"`,
		`meta.lastModified pr`,
		`meta.resourceType eq "User"`,
		`userName eq "` + strings.Repeat("a", MaxFilterStringBytes) + `"`,
		// The bound applies to the decoded string: 1024 escaped quotes
		// are 1024 bytes.
		`userName eq "` + strings.Repeat(`\"`, MaxFilterStringBytes) + `"`,
	}
	for _, f := range filters {
		if _, err := User.ParseFilter(f); err != nil {
			t.Errorf("ParseFilter(%s): %v", truncate(f), err)
		}
	}
}

// TestParseFilterHostileTime bounds the time spent on the largest inputs
// the limits let through.
func TestParseFilterHostileTime(t *testing.T) {
	inputs := []string{
		strings.Repeat(`userName eq "a" or `, MaxFilterLength/20) + `userName eq "a"`,
		strings.Repeat(`(`, MaxFilterDepth) + strings.Repeat(`x`, MaxFilterLength-2*MaxFilterDepth) + strings.Repeat(`)`, MaxFilterDepth),
		`userName eq "` + strings.Repeat(`\"`, MaxFilterLength/2-8) + `"`,
		strings.Repeat(`emails[type eq "a"] and `, MaxFilterLength/25),
	}
	for i, in := range inputs {
		start := time.Now()
		_, _ = User.ParseFilter(in)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("input %d (%d bytes) took %v", i, len(in), d)
		}
	}
}
