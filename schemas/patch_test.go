package schemas

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ops decodes PATCH operations from JSON as the HTTP layer does.
func ops(t *testing.T, s string) []PatchOp {
	t.Helper()
	var out []PatchOp
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("decode operations: %v", err)
	}
	return out
}

func storedUser() map[string]any {
	return map[string]any{
		"schemas":  []any{UserURN, EnterpriseUserURN},
		"userName": "bjensen",
		"name":     map[string]any{"givenName": "Barbara", "familyName": "Jensen"},
		"active":   true,
		"title":    "Guide",
		"emails": []any{
			map[string]any{"value": "b@work.example", "type": "work", "primary": true},
			map[string]any{"value": "b@home.example", "type": "home"},
		},
		EnterpriseUserURN: map[string]any{"department": "Tours", "manager": map[string]any{"value": "m1"}},
	}
}

type patchCase struct {
	name  string
	rt    *ResourceType
	attrs map[string]any
	ops   string
	// edit turns a copy of attrs into the expected attributes.
	edit        func(m map[string]any)
	wantMembers *MemberPatch
}

func runPatchCases(t *testing.T, tests []patchCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attrs := tt.attrs
			if attrs == nil {
				attrs = storedUser()
			}
			rt := tt.rt
			if rt == nil {
				rt = User
			}
			original := deepCopyMap(attrs)
			got, err := rt.ApplyPatch(attrs, ops(t, tt.ops))
			if err != nil {
				t.Fatalf("ApplyPatch: %v", err)
			}
			want := deepCopyMap(attrs)
			tt.edit(want)
			if diff := cmp.Diff(want, got.Attributes); diff != "" {
				t.Errorf("attributes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantMembers, got.Members); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(original, attrs); diff != "" {
				t.Errorf("input changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestPatch(t *testing.T) {
	runPatchCases(t, []patchCase{
		{
			name: "replace simple attribute",
			ops:  `[{"op":"replace","path":"title","value":"Lead"}]`,
			edit: func(m map[string]any) { m["title"] = "Lead" },
		},
		{
			name: "add sub-attribute",
			ops:  `[{"op":"add","path":"name.middleName","value":"Jane"}]`,
			edit: func(m map[string]any) { m["name"].(map[string]any)["middleName"] = "Jane" },
		},
		{
			name: "replace complex attribute merges sub-attributes",
			ops:  `[{"op":"replace","path":"name","value":{"givenName":"Babs"}}]`,
			edit: func(m map[string]any) { m["name"].(map[string]any)["givenName"] = "Babs" },
		},
		{
			name: "remove attribute",
			ops:  `[{"op":"remove","path":"title"}]`,
			edit: func(m map[string]any) { delete(m, "title") },
		},
		{
			name: "remove sub-attribute",
			ops:  `[{"op":"remove","path":"name.givenName"}]`,
			edit: func(m map[string]any) { delete(m["name"].(map[string]any), "givenName") },
		},
		{
			name: "add to multi-valued attribute",
			ops:  `[{"op":"add","path":"phoneNumbers","value":[{"value":"555-1234","type":"work"}]}]`,
			edit: func(m map[string]any) {
				m["phoneNumbers"] = []any{map[string]any{"value": "555-1234", "type": "work"}}
			},
		},
		{
			name: "add existing value is not duplicated",
			ops:  `[{"op":"add","path":"emails","value":[{"value":"b@home.example","type":"home"}]}]`,
			edit: func(m map[string]any) {},
		},
		{
			name: "replace multi-valued attribute",
			ops:  `[{"op":"replace","path":"emails","value":[{"value":"new@example.com"}]}]`,
			edit: func(m map[string]any) { m["emails"] = []any{map[string]any{"value": "new@example.com"}} },
		},
		{
			name: "replace filtered sub-attribute",
			ops:  `[{"op":"replace","path":"emails[type eq \"home\"].value","value":"babs@home.example"}]`,
			edit: func(m map[string]any) {
				m["emails"].([]any)[1].(map[string]any)["value"] = "babs@home.example"
			},
		},
		{
			name: "replace filtered value",
			ops:  `[{"op":"replace","path":"emails[type eq \"home\"]","value":{"value":"x@home.example","type":"home"}}]`,
			edit: func(m map[string]any) {
				m["emails"].([]any)[1] = map[string]any{"value": "x@home.example", "type": "home"}
			},
		},
		{
			name: "remove filtered value",
			ops:  `[{"op":"remove","path":"emails[type eq \"work\" and value ew \"WORK.EXAMPLE\"]"}]`,
			edit: func(m map[string]any) { m["emails"] = m["emails"].([]any)[1:] },
		},
		{
			name: "remove filtered sub-attribute",
			ops:  `[{"op":"remove","path":"emails[type eq \"work\"].primary"}]`,
			edit: func(m map[string]any) { delete(m["emails"].([]any)[0].(map[string]any), "primary") },
		},
		{
			name: "remove last value drops the attribute",
			ops:  `[{"op":"remove","path":"emails[type pr]"}]`,
			edit: func(m map[string]any) { delete(m, "emails") },
		},
		{
			name: "remove values listed in value",
			ops:  `[{"op":"remove","path":"emails","value":[{"value":"b@home.example"}]}]`,
			edit: func(m map[string]any) { m["emails"] = m["emails"].([]any)[:1] },
		},
		{
			name: "extension attribute path",
			ops:  `[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Sales"}]`,
			edit: func(m map[string]any) { m[EnterpriseUserURN].(map[string]any)["department"] = "Sales" },
		},
		{
			name: "extension sub-attribute path",
			ops:  `[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value","value":"m2"}]`,
			edit: func(m map[string]any) {
				m[EnterpriseUserURN].(map[string]any)["manager"] = map[string]any{"value": "m2"}
			},
		},
		{
			name: "bare extension URN path",
			ops:  `[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"costCenter":"4130"}}]`,
			edit: func(m map[string]any) { m[EnterpriseUserURN].(map[string]any)["costCenter"] = "4130" },
		},
		{
			name: "remove whole extension",
			ops:  `[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}]`,
			edit: func(m map[string]any) {
				delete(m, EnterpriseUserURN)
				m["schemas"] = []any{UserURN}
			},
		},
		{
			name: "remove last extension attribute drops the extension",
			attrs: map[string]any{
				"schemas": []any{UserURN, EnterpriseUserURN}, "userName": "b",
				EnterpriseUserURN: map[string]any{"department": "x"},
			},
			ops: `[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}]`,
			edit: func(m map[string]any) {
				delete(m, EnterpriseUserURN)
				m["schemas"] = []any{UserURN}
			},
		},
		{
			name:  "first extension attribute adds the schema",
			attrs: map[string]any{"schemas": []any{UserURN}, "userName": "b"},
			ops:   `[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division","value":"North"}]`,
			edit: func(m map[string]any) {
				m[EnterpriseUserURN] = map[string]any{"division": "North"}
				m["schemas"] = []any{UserURN, EnterpriseUserURN}
			},
		},
		{
			name: "path-less replace with value object",
			ops:  `[{"op":"replace","value":{"title":"Lead","name":{"familyName":"J"},"nope":"ignored"}}]`,
			edit: func(m map[string]any) {
				m["title"] = "Lead"
				m["name"].(map[string]any)["familyName"] = "J"
			},
		},
		{
			name: "path-less add with extension object",
			ops:  `[{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"division":"N"}}}]`,
			edit: func(m map[string]any) { m[EnterpriseUserURN].(map[string]any)["division"] = "N" },
		},
		{
			name: "add sets primary false on the other values",
			ops:  `[{"op":"add","path":"emails","value":[{"value":"n@example.com","primary":true}]}]`,
			edit: func(m map[string]any) {
				m["emails"].([]any)[0].(map[string]any)["primary"] = false
				m["emails"] = append(m["emails"].([]any), map[string]any{"value": "n@example.com", "primary": true})
			},
		},
		{
			name: "filtered primary true moves primary",
			ops:  `[{"op":"replace","path":"emails[type eq \"home\"].primary","value":true}]`,
			edit: func(m map[string]any) {
				m["emails"].([]any)[0].(map[string]any)["primary"] = false
				m["emails"].([]any)[1].(map[string]any)["primary"] = true
			},
		},
		{
			name: "operations apply in order",
			ops: `[{"op":"add","path":"nickName","value":"Babs"},
				{"op":"replace","path":"nickName","value":"B"},
				{"op":"remove","path":"title"}]`,
			edit: func(m map[string]any) {
				m["nickName"] = "B"
				delete(m, "title")
			},
		},
		{
			name: "replace with null removes",
			ops:  `[{"op":"replace","path":"title","value":null}]`,
			edit: func(m map[string]any) { delete(m, "title") },
		},
	})
}

func TestPatchPasswordHashed(t *testing.T) {
	got, err := User.ApplyPatch(storedUser(), ops(t, `[{"op":"replace","path":"password","value":"s3cret!"}]`))
	if err != nil {
		t.Fatalf("ApplyPatch: %v", err)
	}
	hash, _ := got.Attributes["password"].(string)
	if !VerifyPassword(hash, "s3cret!") {
		t.Errorf("password = %q, want a hash of the new password", hash)
	}
}

func TestPatchErrors(t *testing.T) {
	tests := []struct {
		name     string
		rt       *ResourceType
		ops      string
		scimType string
		detail   string
	}{
		{"unknown op", User, `[{"op":"move","path":"title"}]`, "invalidSyntax", `unknown op "move"`},
		{"remove without path", User, `[{"op":"remove"}]`, "noTarget", "remove needs a path"},
		{"path-less value not an object", User, `[{"op":"add","value":"x"}]`, "invalidValue", "needs an object"},
		{"unknown attribute", User, `[{"op":"replace","path":"nope","value":"x"}]`, "invalidPath", `unknown attribute "nope"`},
		{"unknown sub-attribute", User, `[{"op":"replace","path":"name.nope","value":"x"}]`, "invalidPath", `unknown sub-attribute "nope"`},
		{"unknown sub-attribute after filter", User, `[{"op":"replace","path":"emails[type eq \"work\"].nope","value":"x"}]`, "invalidPath", `unknown sub-attribute "nope"`},
		{"junk after filter", User, `[{"op":"replace","path":"emails[type eq \"work\"]x","value":"x"}]`, "invalidPath", "after ]"},
		{"filter on a simple attribute", User, `[{"op":"replace","path":"title[value eq \"x\"]","value":"x"}]`, "invalidPath", "not a multi-valued complex attribute"},
		{"invalid filter", User, `[{"op":"replace","path":"emails[type xx \"work\"]","value":"x"}]`, "invalidFilter", "invalid filter syntax"},
		{"remove filter matching nothing", User, `[{"op":"remove","path":"emails[type eq \"other\"]"}]`, "noTarget", "no value of emails matches"},
		{"replace id", User, `[{"op":"replace","path":"id","value":"x"}]`, "mutability", "id is readOnly"},
		{"replace meta", User, `[{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}]`, "mutability", "readOnly"},
		{"add groups", User, `[{"op":"add","path":"groups","value":[{"value":"g1"}]}]`, "mutability", "groups is readOnly"},
		{"path-less groups", User, `[{"op":"add","value":{"groups":[{"value":"g1"}]}}]`, "mutability", "groups is readOnly"},
		{"manager displayName", User, `[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName","value":"x"}]`, "mutability", "readOnly"},
		{"wrong type", User, `[{"op":"replace","path":"active","value":"maybe"}]`, "invalidValue", "active must be true or false"},
		{"add without value", User, `[{"op":"add","path":"title"}]`, "invalidValue", "needs a value"},
		{"remove required userName", User, `[{"op":"remove","path":"userName"}]`, "invalidValue", "userName is required"},
		{"two primaries in one add", User, `[{"op":"add","path":"emails","value":[{"value":"a@x","primary":true},{"value":"b@x","primary":true}]}]`, "invalidValue", "more than one value with primary true"},
		{"replace filter matching nothing without equalities", User, `[{"op":"replace","path":"emails[value co \"zzz\"].type","value":"work"}]`, "noTarget", "does not describe a new value"},
		{"second operation fails", User, `[{"op":"replace","path":"title","value":"x"},{"op":"replace","path":"id","value":"x"}]`, "mutability", "operation 2:"},
		{"group members sub-attribute", Group, `[{"op":"replace","path":"members.display","value":"x"}]`, "invalidPath", "members can only be changed"},
		{"group members filter not on value", Group, `[{"op":"remove","path":"members[display eq \"x\"]"}]`, "invalidFilter", "can only compare value with eq"},
		{"group members filter with co", Group, `[{"op":"remove","path":"members[value co \"x\"]"}]`, "invalidFilter", "can only compare value with eq"},
		{"group members add with filter", Group, `[{"op":"add","path":"members[value eq \"x\"]","value":{"value":"x"}}]`, "invalidPath", "without a filter"},
		{"group member without value", Group, `[{"op":"add","path":"members","value":[{"display":"x"}]}]`, "invalidValue", "every member needs"},
		{"group displayName removed", Group, `[{"op":"remove","path":"displayName"}]`, "invalidValue", "displayName is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attrs := storedUser()
			if tt.rt == Group {
				attrs = map[string]any{"schemas": []any{GroupURN}, "displayName": "Admins"}
			}
			before := deepCopyMap(attrs)
			_, err := tt.rt.ApplyPatch(attrs, ops(t, tt.ops))
			wantError(t, err, tt.scimType, tt.detail)
			if diff := cmp.Diff(before, attrs); diff != "" {
				t.Errorf("input changed (-before +after):\n%s", diff)
			}
		})
	}
}

func storedGroup() map[string]any {
	return map[string]any{"schemas": []any{GroupURN}, "displayName": "Admins"}
}

func TestPatchGroupMembers(t *testing.T) {
	tests := []struct {
		name string
		ops  string
		want *MemberPatch
	}{
		{"add list", `[{"op":"add","path":"members","value":[{"value":"u1"},{"value":"u2"},{"value":"u1"}]}]`,
			&MemberPatch{Add: []string{"u1", "u2"}}},
		{"remove by filter", `[{"op":"remove","path":"members[value eq \"u1\"]"}]`,
			&MemberPatch{Remove: []string{"u1"}}},
		{"remove by filter with or", `[{"op":"remove","path":"members[value eq \"u1\" or value eq \"u2\"]"}]`,
			&MemberPatch{Remove: []string{"u1", "u2"}}},
		{"remove all", `[{"op":"remove","path":"members"}]`,
			&MemberPatch{Replace: true, Set: []string{}}},
		{"remove all with empty list", `[{"op":"remove","path":"members","value":[]}]`,
			&MemberPatch{Replace: true, Set: []string{}}},
		{"replace with list", `[{"op":"replace","path":"members","value":[{"value":"u3"}]}]`,
			&MemberPatch{Replace: true, Set: []string{"u3"}}},
		{"replace with empty list", `[{"op":"replace","path":"members","value":[]}]`,
			&MemberPatch{Replace: true, Set: []string{}}},
		{"remove all then add", `[{"op":"remove","path":"members"},{"op":"add","path":"members","value":[{"value":"x"}]}]`,
			&MemberPatch{Replace: true, Set: []string{"x"}}},
		{"add then remove same", `[{"op":"add","path":"members","value":[{"value":"a"},{"value":"b"}]},{"op":"remove","path":"members[value eq \"a\"]"}]`,
			&MemberPatch{Add: []string{"b"}, Remove: []string{"a"}}},
		{"remove then add same", `[{"op":"remove","path":"members[value eq \"a\"]"},{"op":"add","path":"members","value":[{"value":"a"}]}]`,
			&MemberPatch{Add: []string{"a"}}},
		{"replace then remove", `[{"op":"replace","path":"members","value":[{"value":"a"},{"value":"b"}]},{"op":"remove","path":"members[value eq \"a\"]"}]`,
			&MemberPatch{Replace: true, Set: []string{"b"}}},
		{"path-less add of members", `[{"op":"add","value":{"members":[{"value":"a"}]}}]`,
			&MemberPatch{Add: []string{"a"}}},
		{"path-less replace of members", `[{"op":"replace","value":{"members":[]}}]`,
			&MemberPatch{Replace: true, Set: []string{}}},
		{"no member operation", `[{"op":"replace","path":"displayName","value":"Ops"}]`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Group.ApplyPatch(storedGroup(), ops(t, tt.ops))
			if err != nil {
				t.Fatalf("ApplyPatch: %v", err)
			}
			if diff := cmp.Diff(tt.want, got.Members); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
			if _, ok := got.Attributes["members"]; ok {
				t.Errorf("members in attributes: %v", got.Attributes["members"])
			}
		})
	}
}

func TestMemberPatchEmpty(t *testing.T) {
	tests := []struct {
		mp   *MemberPatch
		want bool
	}{
		{nil, true},
		{&MemberPatch{}, true},
		{&MemberPatch{Replace: true}, false},
		{&MemberPatch{Add: []string{"a"}}, false},
		{&MemberPatch{Remove: []string{"a"}}, false},
	}
	for _, tt := range tests {
		if got := tt.mp.Empty(); got != tt.want {
			t.Errorf("%+v.Empty() = %v, want %v", tt.mp, got, tt.want)
		}
	}
}

func TestPatchSubAttributeOfEveryValue(t *testing.T) {
	runPatchCases(t, []patchCase{
		{
			name: "replace type of every email",
			ops:  `[{"op":"replace","path":"emails.type","value":"other"}]`,
			edit: func(m map[string]any) {
				for _, e := range m["emails"].([]any) {
					e.(map[string]any)["type"] = "other"
				}
			},
		},
		{
			name: "remove primary of every email",
			ops:  `[{"op":"remove","path":"emails.primary"}]`,
			edit: func(m map[string]any) { delete(m["emails"].([]any)[0].(map[string]any), "primary") },
		},
		{
			name:  "add sub-attribute without values creates one",
			attrs: map[string]any{"schemas": []any{UserURN}, "userName": "b"},
			ops:   `[{"op":"add","path":"phoneNumbers.value","value":"555"}]`,
			edit:  func(m map[string]any) { m["phoneNumbers"] = []any{map[string]any{"value": "555"}} },
		},
		{
			name:  "remove last sub-attribute drops the attribute",
			attrs: map[string]any{"schemas": []any{UserURN}, "userName": "b", "name": map[string]any{"givenName": "B"}},
			ops:   `[{"op":"remove","path":"name.givenName"}]`,
			edit:  func(m map[string]any) { delete(m, "name") },
		},
		{
			name: "add filtered value merges",
			ops:  `[{"op":"add","path":"emails[type eq \"home\"]","value":{"display":"Home"}}]`,
			edit: func(m map[string]any) { m["emails"].([]any)[1].(map[string]any)["display"] = "Home" },
		},
		{
			name:  "replace filtered value without match appends it",
			attrs: map[string]any{"schemas": []any{UserURN}, "userName": "b"},
			ops:   `[{"op":"replace","path":"ims[type eq \"xmpp\"]","value":{"value":"b@jabber.example"}}]`,
			edit: func(m map[string]any) {
				m["ims"] = []any{map[string]any{"type": "xmpp", "value": "b@jabber.example"}}
			},
		},
	})
}

func TestPatchPrimaryOnEveryValue(t *testing.T) {
	_, err := User.ApplyPatch(storedUser(), ops(t, `[{"op":"replace","path":"emails.primary","value":true}]`))
	wantError(t, err, "invalidValue", "more than one value with primary true")
}
