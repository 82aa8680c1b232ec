package schemas

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func manyEmails(n, from int) []any {
	list := make([]any, n)
	for i := range list {
		list[i] = map[string]any{"value": fmt.Sprintf("u%d@example.com", from+i)}
	}
	return list
}

func TestNormalizeLimits(t *testing.T) {
	tests := []struct {
		name   string
		rt     *ResourceType
		body   map[string]any
		detail string
	}{
		{"userName 1 MB", User, map[string]any{"userName": strings.Repeat("u", 1<<20)},
			"attribute userName is 1048576 bytes long, more than the maximum of 1024"},
		{"user displayName", User, map[string]any{"userName": "b", "displayName": strings.Repeat("d", MaxNameValueBytes+1)},
			"attribute displayName is 1025 bytes long"},
		{"group displayName 4 MB", Group, map[string]any{"displayName": strings.Repeat("d", 4<<20)},
			"attribute displayName is 4194304 bytes long"},
		{"title", User, map[string]any{"userName": "b", "title": strings.Repeat("t", MaxStringValueBytes+1)},
			"attribute title is 65537 bytes long, more than the maximum of 65536"},
		{"sub-attribute", User, map[string]any{"userName": "b", "name": map[string]any{"givenName": strings.Repeat("g", MaxStringValueBytes+1)}},
			"attribute name.givenName is 65537 bytes long"},
		{"extension attribute", User, map[string]any{"userName": "b", EnterpriseUserURN: map[string]any{"department": strings.Repeat("x", MaxStringValueBytes+1)}},
			"attribute department is 65537 bytes long"},
		{"password", User, map[string]any{"userName": "b", "password": strings.Repeat("p", MaxStringValueBytes+1)},
			"attribute password is 65537 bytes long"},
		{"binary", User, map[string]any{"userName": "b", "x509Certificates": []any{map[string]any{"value": strings.Repeat("QUJD", MaxStringValueBytes/4+1)}}},
			"attribute x509Certificates.value is 65540 bytes long"},
		{"too many emails", User, map[string]any{"userName": "b", "emails": manyEmails(MaxMultiValuedCount+1, 0)},
			"attribute emails has 1001 values, more than the maximum of 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.rt.Normalize(tt.body)
			wantError(t, err, "invalidValue", tt.detail)
		})
	}
}

func TestNormalizeAtLimits(t *testing.T) {
	body := map[string]any{
		"userName":    strings.Repeat("u", MaxNameValueBytes),
		"displayName": strings.Repeat("d", MaxNameValueBytes),
		"title":       strings.Repeat("t", MaxStringValueBytes),
		"emails":      manyEmails(MaxMultiValuedCount, 0),
		// Sub-attributes named displayName take the general limit.
		"emails.display": strings.Repeat("e", MaxNameValueBytes+1),
	}
	got, err := User.Normalize(body)
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	if n := len(got["emails"].([]any)); n != MaxMultiValuedCount {
		t.Errorf("stored %d emails, want %d", n, MaxMultiValuedCount)
	}
}

func TestPatchLimits(t *testing.T) {
	tests := []struct {
		name   string
		ops    []PatchOp
		detail string
	}{
		{"displayName 4 MB", []PatchOp{{Op: "replace", Path: "displayName", Value: strings.Repeat("d", 4<<20)}},
			"attribute displayName is 4194304 bytes long"},
		{"path-less userName", []PatchOp{{Op: "replace", Value: map[string]any{"userName": strings.Repeat("u", MaxNameValueBytes+1)}}},
			"attribute userName is 1025 bytes long"},
		{"filtered sub-attribute", []PatchOp{{Op: "replace", Path: `emails[type eq "work"].value`, Value: strings.Repeat("v", MaxStringValueBytes+1)}},
			"attribute emails.value is 65537 bytes long"},
		{"one add too many", []PatchOp{{Op: "add", Path: "emails", Value: manyEmails(MaxMultiValuedCount+1, 0)}},
			"attribute emails has 1001 values"},
		{"adds grow the list", []PatchOp{
			{Op: "add", Path: "emails", Value: manyEmails(600, 0)},
			{Op: "add", Path: "emails", Value: manyEmails(600, 600)},
		}, "attribute emails has 1202 values, more than the maximum of 1000"},
		{"filtered adds grow the list", filteredAdds(MaxMultiValuedCount - 1),
			"attribute emails has 1001 values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := User.ApplyPatch(storedUser(), tt.ops)
			wantError(t, err, "invalidValue", tt.detail)
		})
	}
}

// filteredAdds returns n replace operations that each add an email through
// a filter that matches no value.
func filteredAdds(n int) []PatchOp {
	out := make([]PatchOp, n)
	for i := range out {
		out[i] = PatchOp{Op: "replace", Path: fmt.Sprintf(`emails[type eq "t%d"].value`, i), Value: "x@example.com"}
	}
	return out
}

func TestPatchGroupMembersUnlimited(t *testing.T) {
	ids := make([]any, 3*MaxMultiValuedCount)
	for i := range ids {
		ids[i] = map[string]any{"value": fmt.Sprint("user-", i)}
	}
	got, err := Group.ApplyPatch(storedGroup(), []PatchOp{{Op: "add", Path: "members", Value: ids}})
	if err != nil {
		t.Fatalf("ApplyPatch: %v", err)
	}
	if n := len(got.Members.Add); n != len(ids) {
		t.Errorf("members patch adds %d, want %d", n, len(ids))
	}
}

func TestNormalizeDottedMultiValuedKey(t *testing.T) {
	got, err := User.Normalize(map[string]any{
		"userName":     "b",
		"emails":       []any{map[string]any{"value": "a@example.com"}, map[string]any{"value": "b@example.com"}},
		"emails.type":  "work",
		"ims.value":    "b@chat",
		"phoneNumbers": nil,
	})
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	want := map[string]any{
		"schemas":  []any{UserURN},
		"userName": "b",
		"emails": []any{
			map[string]any{"value": "a@example.com", "type": "work"},
			map[string]any{"value": "b@example.com", "type": "work"},
		},
		"ims": []any{map[string]any{"value": "b@chat"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Normalize (-want +got):\n%s", diff)
	}

	_, err = User.Normalize(map[string]any{
		"userName":       "b",
		"emails":         []any{map[string]any{"value": "a@example.com"}, map[string]any{"value": "b@example.com"}},
		"emails.primary": true,
	})
	wantError(t, err, "invalidValue", "more than one value with primary true")
}
