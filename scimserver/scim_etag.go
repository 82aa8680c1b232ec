package scimserver

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/scimd/scimd/tenants"
)

// parseETag returns the version of an entity tag that this server issued:
// W/"<version>", or "<version>" from clients that drop the weak prefix.
func parseETag(tag string) (int64, bool) {
	tag = strings.TrimSpace(tag)
	tag = strings.TrimPrefix(tag, "W/")
	if len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return 0, false
	}
	v, err := strconv.ParseInt(tag[1:len(tag)-1], 10, 64)
	if err != nil || v < 1 {
		return 0, false
	}
	return v, true
}

// splitETags splits an If-Match or If-None-Match list. Entity tags
// contain no commas, since this server issues only digits.
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
// a tenants write: tenants.AnyVersion without a header or for "*", the
// version of the one tag given, and tenants.NoVersion for a tag this
// server cannot have issued. For a list of several tags it reads the
// current version with current and passes the tag that matches it, so
// that the write still fails if the resource changes in between.
func ifMatchVersion(r *http.Request, current func() (int64, error)) (int64, error) {
	header := strings.TrimSpace(r.Header.Get("If-Match"))
	if header == "" || header == "*" {
		return tenants.AnyVersion, nil
	}
	tags := splitETags(header)
	if len(tags) == 1 {
		if v, ok := parseETag(tags[0]); ok {
			return v, nil
		}
		return tenants.NoVersion, nil
	}

	version, err := current()
	if err != nil {
		return 0, err
	}
	for _, tag := range tags {
		if v, ok := parseETag(tag); ok && v == version {
			return v, nil
		}
	}
	return tenants.NoVersion, nil
}

// notModified reports whether an If-None-Match header matches version, in
// which case a GET returns 304 (RFC 7232 §3.2, weak comparison).
func notModified(r *http.Request, version int64) bool {
	header := strings.TrimSpace(r.Header.Get("If-None-Match"))
	if header == "" {
		return false
	}
	if header == "*" {
		return true
	}
	for _, tag := range splitETags(header) {
		if v, ok := parseETag(tag); ok && v == version {
			return true
		}
	}
	return false
}

// writeNotModified writes the 304 response of a conditional GET whose tag matches.
func writeNotModified(w http.ResponseWriter, version int64) error {
	w.Header().Set("ETag", etag(version))
	w.WriteHeader(http.StatusNotModified)
	return nil
}

// preferMinimal reports whether the client asked for no response body
// with the Prefer header (RFC 7240 §4.2, return=minimal), which RFC 7644
// §3.5.2 allows a PATCH to return with 204.
func preferMinimal(r *http.Request) bool {
	return preferReturn(r, "minimal")
}

// preferReturn reports whether the Prefer header asks for return=value.
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
