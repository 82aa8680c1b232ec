package schemas

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func renderedUser() map[string]any {
	doc := bjensen()
	doc["password"] = "$pbkdf2-sha256$i=1$a$b"
	doc["groups"] = []any{map[string]any{"value": "g1", "display": "Admins"}}
	return doc
}

func TestProjectionApply(t *testing.T) {
	tests := []struct {
		name       string
		attributes string
		excluded   string
		want       func() map[string]any
	}{
		{
			name: "default drops password",
			want: func() map[string]any {
				doc := renderedUser()
				delete(doc, "password")
				return doc
			},
		},
		{
			name:       "attributes keeps id and schemas",
			attributes: "userName",
			want: func() map[string]any {
				return map[string]any{"schemas": []any{UserURN, EnterpriseUserURN}, "id": "2819c223", "userName": "bjensen"}
			},
		},
		{
			name:       "sub-attributes and case-insensitive names",
			attributes: "Name.GivenName, emails.value,unknownAttr",
			want: func() map[string]any {
				return map[string]any{
					"schemas": []any{UserURN, EnterpriseUserURN},
					"id":      "2819c223",
					"name":    map[string]any{"givenName": "Barbara"},
					"emails": []any{
						map[string]any{"value": "bjensen@example.com"},
						map[string]any{"value": "babs@jensen.org"},
					},
				}
			},
		},
		{
			name:       "extension attribute",
			attributes: EnterpriseUserURN + ":manager.value,meta.created",
			want: func() map[string]any {
				return map[string]any{
					"schemas":         []any{UserURN, EnterpriseUserURN},
					"id":              "2819c223",
					"meta":            map[string]any{"created": "2026-01-02T03:04:05Z"},
					EnterpriseUserURN: map[string]any{"manager": map[string]any{"value": "26118915"}},
				}
			},
		},
		{
			name:       "whole extension",
			attributes: EnterpriseUserURN,
			want: func() map[string]any {
				return map[string]any{
					"schemas":         []any{UserURN, EnterpriseUserURN},
					"id":              "2819c223",
					EnterpriseUserURN: bjensen()[EnterpriseUserURN],
				}
			},
		},
		{
			name:       "password never returned even when requested",
			attributes: "password,userName",
			want: func() map[string]any {
				return map[string]any{"schemas": []any{UserURN, EnterpriseUserURN}, "id": "2819c223", "userName": "bjensen"}
			},
		},
		{
			name:     "excluded attributes",
			excluded: "emails,name.familyName,groups,id,schemas," + EnterpriseUserURN + ":department",
			want: func() map[string]any {
				doc := renderedUser()
				delete(doc, "password")
				delete(doc, "emails")
				delete(doc, "groups")
				delete(doc["name"].(map[string]any), "familyName")
				delete(doc[EnterpriseUserURN].(map[string]any), "department")
				return doc
			},
		},
		{
			name:     "excluded whole extension",
			excluded: EnterpriseUserURN,
			want: func() map[string]any {
				doc := renderedUser()
				delete(doc, "password")
				delete(doc, EnterpriseUserURN)
				return doc
			},
		},
		{
			name:       "attributes and excluded",
			attributes: "name",
			excluded:   "name.givenName",
			want: func() map[string]any {
				return map[string]any{
					"schemas": []any{UserURN, EnterpriseUserURN},
					"id":      "2819c223",
					"name":    map[string]any{"familyName": "Jensen"},
				}
			},
		},
		{
			name:       "only unknown names means default",
			attributes: "nope, , other",
			want: func() map[string]any {
				doc := renderedUser()
				delete(doc, "password")
				return doc
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := User.ParseProjection(tt.attributes, tt.excluded)
			if err != nil {
				t.Fatalf("ParseProjection: %v", err)
			}
			doc := renderedUser()
			got := p.Apply(doc)
			if diff := cmp.Diff(tt.want(), got); diff != "" {
				t.Errorf("Apply (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(renderedUser(), doc); diff != "" {
				t.Errorf("input changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestProjectionRequestOnly(t *testing.T) {
	// scimd's schemas have no attribute returned on request, so this test
	// uses a resource type with one.
	secret := &Attribute{Name: "secretCode", Type: String, Returned: "request"}
	plain := &Attribute{Name: "plain", Type: String, Returned: "default"}
	rt := &ResourceType{Name: "Test", Schema: &Schema{ID: "urn:test", Attributes: []*Attribute{secret, plain}}}
	doc := map[string]any{"secretCode": "s", "plain": "p"}

	p, err := rt.ParseProjection("", "plain")
	if err != nil {
		t.Fatalf("ParseProjection: %v", err)
	}
	if diff := cmp.Diff(map[string]any{}, p.Apply(doc)); diff != "" {
		t.Errorf("excluded plain (-want +got):\n%s", diff)
	}
	p, err = rt.ParseProjection("secretCode", "")
	if err != nil {
		t.Fatalf("ParseProjection: %v", err)
	}
	if diff := cmp.Diff(map[string]any{"secretCode": "s"}, p.Apply(doc)); diff != "" {
		t.Errorf("requested secretCode (-want +got):\n%s", diff)
	}
	if !p.Includes("secretCode") || p.Includes("plain") {
		t.Errorf("Includes(secretCode, plain) = %v, %v; want true, false", p.Includes("secretCode"), p.Includes("plain"))
	}
}

func TestProjectionNil(t *testing.T) {
	p, err := Group.ParseProjection("", " ")
	if err != nil || p != nil {
		t.Fatalf("ParseProjection of empty lists = %v, %v; want nil, nil", p, err)
	}
	group := map[string]any{
		"schemas": []any{GroupURN}, "id": "g1", "displayName": "Admins",
		"members": []any{map[string]any{"value": "u1"}},
	}
	if diff := cmp.Diff(group, p.Apply(group)); diff != "" {
		t.Errorf("nil Apply on a group (-want +got):\n%s", diff)
	}
	doc := renderedUser()
	if _, ok := p.Apply(doc)["password"]; ok {
		t.Errorf("nil Apply returned password")
	}
}

func TestProjectionIncludes(t *testing.T) {
	tests := []struct {
		rt                   *ResourceType
		attributes, excluded string
		name                 string
		want                 bool
	}{
		{Group, "", "", "members", true},
		{Group, "displayName", "", "members", false},
		{Group, "", "members", "members", false},
		{Group, "members.value", "", "members", true},
		{Group, "", "members.display", "members", true},
		{User, "", "", "groups", true},
		{User, "userName", "", "groups", false},
		{User, "", "groups", "groups", false},
		{User, "groups", "", "groups", true},
		{User, "userName", "", "id", true},
		{User, "", "", "password", false},
		{User, "password", "", "password", false},
		{User, "", "", "nope", false},
	}
	for _, tt := range tests {
		t.Run(tt.rt.Name+"/"+tt.attributes+"/"+tt.excluded+"/"+tt.name, func(t *testing.T) {
			p, err := tt.rt.ParseProjection(tt.attributes, tt.excluded)
			if err != nil {
				t.Fatalf("ParseProjection: %v", err)
			}
			if got := p.Includes(tt.name); got != tt.want {
				t.Errorf("Includes(%q) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestProjectionTooLong(t *testing.T) {
	_, err := User.ParseProjection(strings.Repeat("a,", MaxProjectionLength), "")
	wantError(t, err, "invalidValue", "at most 8192 bytes")
}

// TestProjectionValueFilterMicrosoftPostman covers the value filters that
// Microsoft's Postman collection for Entra ID sends in attributes, which
// RFC 7644 §3.9 does not allow: the projection applies to the attribute
// before the brackets.
func TestProjectionValueFilterMicrosoftPostman(t *testing.T) {
	emails := renderedUser()["emails"].([]any)
	values := []any{
		map[string]any{"value": "bjensen@example.com"},
		map[string]any{"value": "babs@jensen.org"},
	}
	tests := []struct {
		attributes string
		excluded   string
		want       map[string]any
	}{
		{attributes: `emails[type eq "work"]`, want: map[string]any{"emails": emails}},
		{attributes: `emails[value eq "emailName357"]`, want: map[string]any{"emails": emails}},
		{attributes: `emails[type eq "work"].value`, want: map[string]any{"emails": values}},
		{attributes: `emails[value eq "a,b]"],userName`, want: map[string]any{"emails": emails, "userName": "bjensen"}},
		{attributes: `nope[type eq "work"],userName`, want: map[string]any{"userName": "bjensen"}},
	}
	for _, tt := range tests {
		t.Run(tt.attributes, func(t *testing.T) {
			p, err := User.ParseProjection(tt.attributes, tt.excluded)
			if err != nil {
				t.Fatalf("ParseProjection: %v", err)
			}
			want := map[string]any{"schemas": []any{UserURN, EnterpriseUserURN}, "id": "2819c223"}
			for k, v := range tt.want {
				want[k] = v
			}
			if diff := cmp.Diff(want, p.Apply(renderedUser())); diff != "" {
				t.Errorf("Apply (-want +got):\n%s", diff)
			}
		})
	}

	// An unclosed bracket makes the rest of the list one name that matches
	// no attribute.
	if p, err := User.ParseProjection(`emails[type eq "work",userName`, ""); p != nil || err != nil {
		t.Errorf("ParseProjection with an unclosed bracket = %v, %v; want nil, nil", p, err)
	}

	p, err := User.ParseProjection("", `emails[type eq "work"]`)
	if err != nil {
		t.Fatalf("ParseProjection: %v", err)
	}
	if got := p.Apply(renderedUser()); got["emails"] != nil {
		t.Errorf("excludedAttributes with a value filter returned emails %v, want none", got["emails"])
	}
}
