package scimserver

import "testing"

func TestCanonicalSCIMPath(t *testing.T) {
	tests := []struct {
		path string
		want string
	}{
		{"/scim/v2/Users", "/scim/v2/Users"},
		{"/scim/v2/users", "/scim/v2/Users"},
		{"/scim/v2/Users/", "/scim/v2/Users"},
		{"/scim/v2/USERS/abc", "/scim/v2/Users/abc"},
		{"/scim/v2/groups/abc/", "/scim/v2/Groups/abc"},
		{"/scim/v2/serviceproviderconfig", "/scim/v2/ServiceProviderConfig"},
		{"/scim/v2/", "/scim/v2/"},
		{"/scim/v2/Unknown", "/scim/v2/Unknown"},
		{"/sandboxes/acme/scim/v2/users/.search", "/sandboxes/acme/scim/v2/Users/.search"},
		// The id segment keeps its case: ids are case-sensitive.
		{"/scim/v2/Users/AbC", "/scim/v2/Users/AbC"},
	}
	for _, tt := range tests {
		got, _ := canonicalSCIMPath(tt.path)
		if got != tt.want {
			t.Errorf("canonicalSCIMPath(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}
