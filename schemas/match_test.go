package schemas

import "testing"

func bjensen() map[string]any {
	return map[string]any{
		"schemas":  []any{UserURN, EnterpriseUserURN},
		"id":       "2819c223",
		"userName": "bjensen",
		"name":     map[string]any{"givenName": "Barbara", "familyName": "Jensen"},
		"title":    "",
		"active":   true,
		"emails": []any{
			map[string]any{"value": "bjensen@example.com", "type": "work", "primary": true},
			map[string]any{"value": "babs@jensen.org", "type": "home"},
		},
		"externalId": "Ext-1",
		"meta": map[string]any{
			"created":      "2026-01-02T03:04:05Z",
			"lastModified": "2026-03-01T00:00:00.5Z",
			"version":      `W/"a"`,
		},
		EnterpriseUserURN: map[string]any{
			"department": "Tour Operations",
			"manager":    map[string]any{"value": "26118915"},
		},
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		filter string
		want   bool
	}{
		{`userName eq "bjensen"`, true},
		{`userName eq "BJENSEN"`, true}, // userName is not caseExact
		{`userName ne "bjensen"`, false},
		{`userName ne "other"`, true},
		{`userName sw "bj"`, true},
		{`userName ew "SEN"`, true},
		{`userName co "jen"`, true},
		{`userName co "x"`, false},
		{`userName gt "a"`, true},
		{`userName lt "a"`, false},
		{`userName ge "bjensen"`, true},
		{`userName le "BJENSEN"`, true},
		{`externalId eq "Ext-1"`, true},
		{`externalId eq "ext-1"`, false}, // externalId is caseExact
		{`id eq "2819C223"`, false},
		{`name.givenName eq "barbara"`, true},
		{`name.middleName pr`, false},
		{`name pr`, true},
		{`title pr`, false}, // empty string is not a value
		{`title ne "x"`, true},
		{`nickName ne "x"`, true}, // ne matches an absent attribute
		{`nickName eq "x"`, false},
		{`nickName eq null`, true},
		{`userName eq null`, false},
		{`active eq true`, true},
		{`active eq "False"`, false},
		{`active ne false`, true},
		{`emails co "@example.com"`, true},
		{`emails.value ew ".org"`, true},
		{`emails.value eq "nobody@example.com"`, false},
		{`emails.value ne "babs@jensen.org"`, false},
		{`emails.type eq "home"`, true},
		{`emails pr`, true},
		{`phoneNumbers pr`, false},
		{`emails[type eq "work" and value co "example.com"]`, true},
		{`emails[type eq "home" and value co "example.com"]`, false},
		{`emails[type eq "home" and not (primary eq true)]`, true},
		{`emails[primary eq true and type eq "home"]`, false},
		{`emails[display pr]`, false},
		{`not (emails[type eq "other"])`, true},
		{`meta.created eq "2026-01-02T04:04:05+01:00"`, true},
		{`meta.created lt "2026-01-02T03:04:06Z"`, true},
		{`meta.created gt "2026-01-02T03:04:05Z"`, false},
		{`meta.lastModified gt "2026-03-01T00:00:00Z"`, true},
		{`meta.lastModified ge "2026-03-01T00:00:01Z"`, false},
		{`meta.resourceType eq "User"`, false},
		{`meta.resourceType pr`, false},
		{EnterpriseUserURN + `:department eq "tour operations"`, true},
		{EnterpriseUserURN + `:manager.value eq "26118915"`, true},
		{EnterpriseUserURN + `:manager.value pr and userName eq "x"`, false},
		{EnterpriseUserURN + `:costCenter pr or userName eq "bjensen"`, true},
		{`urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "jensen"`, true},
	}
	doc := bjensen()
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			f, err := User.ParseFilter(tt.filter)
			if err != nil {
				t.Fatalf("ParseFilter: %v", err)
			}
			if got := Match(f, doc); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMatchKeysAndTypes(t *testing.T) {
	// Keys in another case and values of other Go types still match.
	doc := map[string]any{
		"USERNAME": "bjensen",
		"Active":   "True",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": map[string]any{
			"Department": "Ops",
		},
		"emails": []map[string]any{{"value": "a@b.c"}},
	}
	tests := []struct {
		filter string
		want   bool
	}{
		{`userName eq "bjensen"`, true},
		{`active eq true`, true},
		{EnterpriseUserURN + `:department eq "ops"`, true},
		{`emails.value eq "a@b.c"`, true},
		{`emails[value eq "a@b.c"]`, true},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			f, err := User.ParseFilter(tt.filter)
			if err != nil {
				t.Fatalf("ParseFilter: %v", err)
			}
			if got := Match(f, doc); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMatchGroupMembers(t *testing.T) {
	doc := map[string]any{
		"displayName": "Admins",
		"members":     []any{map[string]any{"value": "u1"}, map[string]any{"value": "u2", "display": "Two"}},
	}
	tests := []struct {
		filter string
		want   bool
	}{
		{`members[value eq "u2"]`, true},
		{`members[value eq "u3"]`, false},
		{`members eq "u1"`, true},
		{`members.display eq "two"`, true},
		{`displayName eq "admins" and members pr`, true},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			f, err := Group.ParseFilter(tt.filter)
			if err != nil {
				t.Fatalf("ParseFilter: %v", err)
			}
			if got := Match(f, doc); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMatchTypedValues(t *testing.T) {
	rt := typedResource()
	doc := map[string]any{"count": int64(42), "ratio": 1.5, "since": "2026-01-02T03:04:05Z", "code": "Ab"}
	tests := []struct {
		filter string
		want   bool
	}{
		{`count eq 42`, true},
		{`count eq "42"`, true},
		{`count gt 41`, true},
		{`count lt 42`, false},
		{`count le 42`, true},
		{`count ne 42`, false},
		{`ratio ge 1.5`, true},
		{`ratio gt 1.5`, false},
		{`ratio lt 2`, true},
		{`ratio eq 1.5e0`, true},
		{`since ge "2026-01-02T03:04:05Z"`, true},
		{`since lt "2026-01-02T04:04:05+01:00"`, false},
		{`code eq "ab"`, true},
		{`count pr and ratio pr and since pr`, true},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			f, err := rt.ParseFilter(tt.filter)
			if err != nil {
				t.Fatalf("ParseFilter: %v", err)
			}
			if got := Match(f, doc); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}

	// Documents decoded from JSON hold numbers as float64.
	f, err := rt.ParseFilter(`count eq 42`)
	if err != nil {
		t.Fatalf("ParseFilter: %v", err)
	}
	if !Match(f, map[string]any{"count": 42.0}) {
		t.Errorf("count eq 42 does not match float64 42")
	}
	if Match(f, map[string]any{"count": "forty-two"}) {
		t.Errorf("count eq 42 matches a string")
	}
}

func TestParseFilterTypedInvalid(t *testing.T) {
	rt := typedResource()
	tests := []struct {
		filter, detail string
	}{
		{`count eq 1.5`, "expected an integer"},
		{`count eq "x"`, "expected an integer"},
		{`count co 4`, "needs a string attribute"},
		{`ratio eq "x"`, "expected a number"},
		{`ratio eq true`, "expected a number"},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			_, err := rt.ParseFilter(tt.filter)
			wantError(t, err, "invalidFilter", tt.detail)
		})
	}
}
