package scimserver

import (
	"net/http"
	"strings"
)

// scimEndpoints maps the lower-cased first path segment below a SCIM base
// URL to the endpoint name the routes use.
var scimEndpoints = map[string]string{
	"users":                 "Users",
	"groups":                "Groups",
	"bulk":                  "Bulk",
	"serviceproviderconfig": "ServiceProviderConfig",
	"resourcetypes":         "ResourceTypes",
	"schemas":               "Schemas",
	".search":               ".search",
}

// canonicalEndpoint rewrites the endpoint segment of a SCIM request path
// to its canonical spelling and drops one trailing slash, so that
// /scim/v2/users/ reaches the /Users route. RFC 7644 spells the
// endpoints in one case, but clients send other spellings (Microsoft's
// SCIM validation collection uses /users and /Users/?filter=...), and
// no two endpoints differ only in case, so accepting them is unambiguous.
func canonicalEndpoint(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if path, ok := canonicalSCIMPath(r.URL.Path); ok && path != r.URL.Path {
			r2 := r.Clone(r.Context())
			r2.URL.Path = path
			r2.URL.RawPath = ""
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}

// canonicalSCIMPath returns path with the segment after "/scim/v2/"
// canonicalised and a trailing slash after it removed. It reports false
// for paths outside a SCIM base URL.
func canonicalSCIMPath(path string) (string, bool) {
	const marker = "/scim/v2/"
	i := strings.Index(path, marker)
	if i < 0 {
		return path, false
	}
	base, rest := path[:i+len(marker)], path[i+len(marker):]
	if rest == "" {
		return path, true
	}
	rest = strings.TrimSuffix(rest, "/")
	first, tail, hasTail := strings.Cut(rest, "/")
	if name, ok := scimEndpoints[strings.ToLower(first)]; ok {
		first = name
	}
	if hasTail {
		return base + first + "/" + tail, true
	}
	return base + first, true
}
