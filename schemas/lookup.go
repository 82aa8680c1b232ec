package schemas

import (
	"fmt"
	"strings"
)

// Lookup resolves an attribute path such as "userName", "name.givenName",
// "urn:ietf:params:scim:schemas:core:2.0:User:emails.value" or
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value".
// Attribute names and schema URNs are compared case-insensitively
// (RFC 7643 §2.1). The common attributes id, externalId and meta resolve
// with or without the core schema URN. An unknown attribute returns an
// *Error with scimType invalidPath.
func (rt *ResourceType) Lookup(path string) (Path, error) {
	p, err := rt.resolvePath(path)
	if err != nil {
		return Path{}, Errorf("invalidPath", "%s", err)
	}
	return p, nil
}

// resolvePath is Lookup with a plain error, so that filter parsing can
// report the same problem as invalidFilter.
func (rt *ResourceType) resolvePath(path string) (Path, error) {
	urn, rest, err := rt.splitURN(path)
	if err != nil {
		return Path{}, err
	}
	if rest == "" {
		return Path{}, fmt.Errorf("path %q names a schema, not an attribute", path)
	}
	name, sub, hasSub := strings.Cut(rest, ".")
	if hasSub && sub == "" {
		return Path{}, fmt.Errorf("path %q ends with a dot", path)
	}
	return rt.resolve(urn, name, sub)
}

// splitURN splits a path into the URN of one of the resource type's schemas
// and the rest after the colon. A path without a URN returns urn "". An
// exact schema URN returns rest "".
func (rt *ResourceType) splitURN(path string) (urn, rest string, err error) {
	if len(path) < 4 || !strings.EqualFold(path[:4], "urn:") {
		return "", path, nil
	}
	schemas := append([]*Schema{rt.Schema}, rt.Extensions...)
	for _, s := range schemas {
		if len(path) < len(s.ID) || !strings.EqualFold(path[:len(s.ID)], s.ID) {
			continue
		}
		switch {
		case len(path) == len(s.ID):
			return s.ID, "", nil
		case path[len(s.ID)] == ':':
			return s.ID, path[len(s.ID)+1:], nil
		}
	}
	return "", "", fmt.Errorf("path %q does not start with the URN of a %s schema", path, rt.Name)
}

// resolve finds the attribute name, and the sub-attribute sub unless it is
// empty, in the schema urn ("" or the core schema URN: core and common
// attributes).
func (rt *ResourceType) resolve(urn, name, sub string) (Path, error) {
	var attr *Attribute
	if urn == "" || strings.EqualFold(urn, rt.Schema.ID) {
		attr = rt.topLevel(name)
	} else if ext := rt.Extension(urn); ext != nil {
		attr = ext.Attribute(name)
	} else {
		return Path{}, fmt.Errorf("unknown schema %q", urn)
	}
	if attr == nil {
		if urn != "" && !strings.EqualFold(urn, rt.Schema.ID) {
			return Path{}, fmt.Errorf("unknown attribute %q in schema %s", name, urn)
		}
		return Path{}, fmt.Errorf("unknown attribute %q", name)
	}

	p := Path{Attr: attr}
	if sub == "" {
		return p, nil
	}
	if attr.Type != Complex {
		return Path{}, fmt.Errorf("attribute %q has no sub-attributes, so %q is invalid", attr.Name, name+"."+sub)
	}
	p.Sub = attr.Sub(sub)
	if p.Sub == nil {
		return Path{}, fmt.Errorf("unknown sub-attribute %q of %q", sub, attr.Name)
	}
	return p, nil
}

// unstoredMeta reports whether p is meta.version or meta.location. The
// HTTP layer computes both when it renders a resource (the version from the
// stored revision, the location from the request's base URL), so no store
// can filter or sort by them.
func (p Path) unstoredMeta() bool {
	if p.Sub == nil || p.Attr.Parent != nil || p.Extension() != "" || p.Attr.Name != "meta" {
		return false
	}
	return p.Sub.Name == "version" || p.Sub.Name == "location"
}
