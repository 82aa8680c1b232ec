package schemas

import "strings"

// ParseSortBy resolves the sortBy parameter of a list or search request
// (RFC 7644 §3.4.2.3) to the path for storage.Query.SortBy. It returns an
// *Error with scimType invalidValue when the path names no attribute, an
// attribute that is never returned (password, which filters reject for
// the same reason), a complex attribute without a sub-attribute,
// meta.version or meta.location (computed for each response, never
// stored), meta.resourceType (the same for every resource of a type), or
// any part of a multi-valued attribute.
//
// RFC 7644 §3.4.2.3 orders a multi-valued attribute by its primary value,
// or else its first one. The stores cannot: the SQLite store orders by the
// first stored value and MongoDB by the smallest or largest value of the
// array, so the same request would order differently per store. sortBy
// therefore takes singular attributes only, such as userName or
// name.familyName, as storage.Query.SortBy documents.
func (rt *ResourceType) ParseSortBy(path string) (Path, error) {
	path = strings.TrimSpace(path)
	p, err := rt.resolvePath(path)
	if err != nil {
		return Path{}, Errorf("invalidValue", "sortBy: %s", err)
	}

	switch {
	case p.Leaf().Returned == "never":
		return Path{}, Errorf("invalidValue", "sortBy %q names an attribute that is never returned, so resources cannot be sorted by it", path)
	case p.unstoredMeta():
		return Path{}, Errorf("invalidValue", "sortBy %q names %s, which scimd computes for each response instead of storing, so resources cannot be sorted by it", path, p)
	case p.Attr.Name == "meta" && p.Extension() == "" && p.Sub != nil && p.Sub.Name == "resourceType":
		return Path{}, Errorf("invalidValue", "sortBy %q names meta.resourceType, which is the same for every %s", path, rt.Name)
	case p.Attr.MultiValued:
		return Path{}, Errorf("invalidValue", "sortBy %q names part of the multi-valued attribute %s; name a singular attribute such as userName", path, p.Attr.Name)
	case p.Leaf().Type == Complex:
		return Path{}, Errorf("invalidValue", "sortBy %q names the complex attribute %s; name one of its sub-attributes, such as %s.%s", path, p, p.Attr.Name, p.Attr.SubAttributes[0].Name)
	}
	return p, nil
}
