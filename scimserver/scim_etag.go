package scimserver

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/scimd/scimd/tenants"
)

// currentTag is the entity tag of the requesting tenant's current view of
// a resource. version is the store version, which guards a write against
// changes made after the tag was computed.
type currentTag struct {
	tag     string
	version int64
}

// sameTag compares two entity tags with the weak comparison of RFC 7232
// §2.3.2: equal opaque tags, whether or not either is marked weak.
func sameTag(a, b string) bool {
	a = strings.TrimPrefix(strings.TrimSpace(a), "W/")
	b = strings.TrimPrefix(strings.TrimSpace(b), "W/")
	return a != "" && a == b
}

// splitETags splits an If-Match or If-None-Match list. Entity tags
// contain no commas, since this server issues only hex digits.
func splitETags(header string) []string {
	var tags []string
	for _, t := range strings.Split(header, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

// ifMatchVersion turns an If-Match header into the ifVersion argument of
// a tenants write. Without a header or for "*" it returns
// tenants.AnyVersion. Otherwise it returns the store version of the
// resource when one of the tags matches its current tag, and
// tenants.NoVersion when none does. The write then still fails if the
// resource changes after current read it.
func ifMatchVersion(r *http.Request, current func() (currentTag, error)) (int64, error) {
	return matchVersion(r.Header.Get("If-Match"), current)
}

// matchVersion is ifMatchVersion for a header value, shared with Bulk
// operations, whose version field plays the part of If-Match.
func matchVersion(header string, current func() (currentTag, error)) (int64, error) {
	header = strings.TrimSpace(header)
	if header == "" || header == "*" {
		return tenants.AnyVersion, nil
	}
	cur, err := current()
	if err != nil {
		return 0, err
	}
	for _, tag := range splitETags(header) {
		if sameTag(tag, cur.tag) {
			return cur.version, nil
		}
	}
	return tenants.NoVersion, nil
}

// notModified reports whether an If-None-Match header matches tag, in
// which case a GET returns 304 (RFC 7232 §3.2, weak comparison).
func notModified(r *http.Request, tag string) bool {
	header := strings.TrimSpace(r.Header.Get("If-None-Match"))
	if header == "" {
		return false
	}
	if header == "*" {
		return true
	}
	for _, t := range splitETags(header) {
		if sameTag(t, tag) {
			return true
		}
	}
	return false
}

// userTag reads the entity tag of the tenant's view of a user.
func (s *Server) userTag(ctx context.Context, t *tenants.Tenant, id string) func() (currentTag, error) {
	return func() (currentTag, error) {
		u, err := s.svc.GetUser(ctx, t, id)
		if err != nil {
			return currentTag{}, fmt.Errorf("get user: %w", err)
		}
		groups, err := s.svc.UserGroups(ctx, t, []string{id})
		if err != nil {
			return currentTag{}, fmt.Errorf("read groups of user: %w", err)
		}
		return currentTag{tag: userETag(u, groups[id]), version: u.Version}, nil
	}
}

// groupTag reads the entity tag of a group.
func (s *Server) groupTag(ctx context.Context, t *tenants.Tenant, id string) func() (currentTag, error) {
	return func() (currentTag, error) {
		g, err := s.svc.GetGroup(ctx, t, id)
		if err != nil {
			return currentTag{}, fmt.Errorf("get group: %w", err)
		}
		return currentTag{tag: etag(g.Version), version: g.Version}, nil
	}
}

// writeNotModified writes the 304 response of a conditional GET whose tag matches.
func writeNotModified(w http.ResponseWriter, tag string) error {
	w.Header().Set("ETag", tag)
	w.WriteHeader(http.StatusNotModified)
	return nil
}

// preferMinimal reports whether the client asked for no response body
// with the Prefer header (RFC 7240 §4.2, return=minimal), which RFC 7644
// §3.5.2 allows a PATCH to return with 204.
func preferMinimal(r *http.Request) bool {
	return preferReturn(r, "minimal")
}

// preferReturn reports whether the Prefer header requests return=value.
func preferReturn(r *http.Request, value string) bool {
	for _, header := range r.Header.Values("Prefer") {
		for _, pref := range strings.Split(header, ",") {
			name, got, _ := strings.Cut(strings.TrimSpace(pref), "=")
			if strings.EqualFold(strings.TrimSpace(name), "return") &&
				strings.EqualFold(strings.Trim(strings.TrimSpace(got), `"`), value) {
				return true
			}
		}
	}
	return false
}
