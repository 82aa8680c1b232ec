package schemas

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Normalize validates the body of a POST or PUT request and returns the
// attributes to store:
//
//   - attribute names are canonical and extension attributes sit in an
//     object under their canonical schema URN; dotted ("name.givenName")
//     and URN-qualified keys are accepted;
//   - id, meta, readOnly attributes and unknown attributes are dropped,
//     as are null values and empty strings, arrays and objects;
//   - values are converted to their SCIM type. Booleans may be the strings
//     "True" and "False" in any case and numbers may be strings, because
//     Microsoft Entra ID sends them so. dateTime values become RFC 3339 in
//     UTC;
//   - a complex attribute given as a bare string, such as an enterprise
//     manager given as an id, becomes {"value": string};
//   - a writeOnly string (password) is replaced by a PBKDF2 hash. At most
//     one hash is computed per call, for the value that is kept;
//   - "schemas" lists the core schema and the extensions present.
//
// It returns an *Error with scimType invalidValue for a value of the wrong
// type, a missing required attribute, more than one primary value of a
// multi-valued attribute (RFC 7643 §2.4), or a value above
// MaxStringValueBytes, MaxNameValueBytes or MaxMultiValuedCount.
func (rt *ResourceType) Normalize(body map[string]any) (map[string]any, error) {
	out := map[string]any{}
	for _, as := range rt.bodyAssignments(body) {
		if as.path.readOnly() {
			continue
		}
		v, err := normalizeValue(as.path.Leaf(), as.value)
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		if err := setPath(out, as.path, v); err != nil {
			return nil, err
		}
	}
	if err := rt.checkRequired(out); err != nil {
		return nil, err
	}
	if _, err := hashPending(out); err != nil {
		return nil, fmt.Errorf("normalize: %w", err)
	}
	rt.setSchemas(out)
	return out, nil
}

// assignment is a value for one attribute path taken from a request body.
type assignment struct {
	path  Path
	value any
}

// bodyAssignments resolves the keys of a request body to paths, in sorted
// key order so that errors do not depend on map order. Keys that name no
// attribute are skipped, and so are "schemas", id and meta.
func (rt *ResourceType) bodyAssignments(body map[string]any) []assignment {
	var out []assignment
	for _, key := range slices.Sorted(maps.Keys(body)) {
		v := body[key]
		if strings.EqualFold(key, "schemas") || isServerKey(key) {
			continue
		}
		if ext := rt.Extension(key); ext != nil {
			m, ok := v.(map[string]any)
			if !ok {
				continue
			}
			for _, sub := range slices.Sorted(maps.Keys(m)) {
				name, subName, _ := strings.Cut(sub, ".")
				if p, err := rt.resolve(ext.ID, name, subName); err == nil {
					out = append(out, assignment{p, m[sub]})
				}
			}
			continue
		}
		if p, err := rt.resolvePath(key); err == nil && !isServerKey(p.Attr.Name) {
			out = append(out, assignment{p, v})
		}
	}
	return out
}

// isServerKey reports whether key is one of the common attributes id and
// meta that only the server sets. Clients such as Okta echo them back in
// PUT and PATCH bodies.
func isServerKey(key string) bool {
	return strings.EqualFold(key, "id") || strings.EqualFold(key, "meta")
}

func (p Path) readOnly() bool {
	return p.Attr.Mutability == "readOnly" || (p.Sub != nil && p.Sub.Mutability == "readOnly")
}

// normalizeValue converts a JSON value for attribute a. It returns nil for
// a value that is absent: null, an empty string, array or object.
func normalizeValue(a *Attribute, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if !a.MultiValued {
		return normalizeSingle(a, v)
	}
	list, ok := v.([]any)
	if !ok {
		// A single value for a multi-valued attribute is taken as a list
		// of one.
		list = []any{v}
	}
	// The count is checked before the values are converted, so that a
	// huge list costs no work. Duplicates count too.
	if err := checkValueCount(a, len(list)); err != nil {
		return nil, err
	}
	out := make([]any, 0, len(list))
	seen := make(map[string]bool, len(list))
	for _, e := range list {
		n, err := normalizeSingle(a, e)
		if err != nil {
			return nil, err
		}
		if n == nil {
			continue
		}
		// Equal values are kept once. Their JSON encoding is the key,
		// because encoding/json writes object keys in sorted order.
		key, err := json.Marshal(n)
		if err != nil {
			return nil, Errorf("invalidValue", "attribute %s has a value that cannot be encoded", attrName(a))
		}
		if !seen[string(key)] {
			seen[string(key)] = true
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	if countPrimary(out) > 1 {
		return nil, Errorf("invalidValue", "attribute %s has more than one value with primary true", attrName(a))
	}
	return out, nil
}

func normalizeSingle(a *Attribute, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch a.Type {
	case Complex:
		return normalizeComplex(a, v)
	case String, Reference:
		s, ok := v.(string)
		if !ok {
			return nil, Errorf("invalidValue", "attribute %s must be a string, got %s", attrName(a), jsonType(v))
		}
		if s == "" {
			return nil, nil
		}
		if err := checkStringLength(a, s); err != nil {
			return nil, err
		}
		if a.Mutability == "writeOnly" {
			return pendingPassword(s), nil
		}
		return s, nil
	case Boolean:
		if b, ok := parseBool(v); ok {
			return b, nil
		}
		return nil, Errorf("invalidValue", "attribute %s must be true or false, got %s", attrName(a), jsonValue(v))
	case Integer:
		if n, ok := parseInteger(v); ok {
			return n, nil
		}
		return nil, Errorf("invalidValue", "attribute %s must be an integer, got %s", attrName(a), jsonValue(v))
	case Decimal:
		if f, ok := parseDecimal(v); ok {
			return f, nil
		}
		return nil, Errorf("invalidValue", "attribute %s must be a number, got %s", attrName(a), jsonValue(v))
	case DateTime:
		s, ok := v.(string)
		if !ok {
			return nil, Errorf("invalidValue", "attribute %s must be a dateTime string, got %s", attrName(a), jsonType(v))
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, Errorf("invalidValue", "attribute %s must be an RFC 3339 dateTime such as 2026-01-02T15:04:05Z, got %q", attrName(a), s)
		}
		return t.UTC().Format(time.RFC3339Nano), nil
	case Binary:
		s, ok := v.(string)
		if !ok {
			return nil, Errorf("invalidValue", "attribute %s must be a base64 string, got %s", attrName(a), jsonType(v))
		}
		if err := checkStringLength(a, s); err != nil {
			return nil, err
		}
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			return nil, Errorf("invalidValue", "attribute %s must be base64 encoded", attrName(a))
		}
		return s, nil
	}
	return nil, Errorf("invalidValue", "attribute %s has unsupported type %s", attrName(a), a.Type)
}

func normalizeComplex(a *Attribute, v any) (any, error) {
	if s, ok := v.(string); ok && a.Sub("value") != nil {
		// Entra ID sends the enterprise manager as the manager's id.
		if s == "" {
			return nil, nil
		}
		return map[string]any{"value": s}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, Errorf("invalidValue", "attribute %s must be an object, got %s", attrName(a), jsonType(v))
	}
	out := map[string]any{}
	for _, key := range slices.Sorted(maps.Keys(m)) {
		sub := a.Sub(key)
		if sub == nil || sub.Mutability == "readOnly" {
			continue
		}
		n, err := normalizeValue(sub, m[key])
		if err != nil {
			return nil, err
		}
		if n != nil {
			out[sub.Name] = n
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// checkRequired returns an invalidValue error when a required attribute
// that the client sets (not a readOnly one such as id) is missing.
func (rt *ResourceType) checkRequired(attrs map[string]any) error {
	for _, a := range rt.Schema.Attributes {
		if !a.Required || a.Mutability == "readOnly" {
			continue
		}
		v, ok := attrs[a.Name]
		if s, isString := v.(string); !ok || v == nil || (isString && strings.TrimSpace(s) == "") {
			return Errorf("invalidValue", "attribute %s is required", a.Name)
		}
	}
	return nil
}

// setSchemas sets "schemas" to the core schema URN followed by the URNs of
// the extensions that have attributes in attrs, and drops empty
// extension objects.
func (rt *ResourceType) setSchemas(attrs map[string]any) {
	urns := []any{rt.Schema.ID}
	for _, ext := range rt.Extensions {
		m, ok := attrs[ext.ID].(map[string]any)
		if !ok || len(m) == 0 {
			delete(attrs, ext.ID)
			continue
		}
		urns = append(urns, ext.ID)
	}
	attrs["schemas"] = urns
}

// setPath stores v at p in doc, creating the extension object and the
// parent of a sub-attribute as needed. A sub-attribute of a multi-valued
// attribute, such as "emails.type", is set in every value, as a PATCH with
// that path sets it.
func setPath(doc map[string]any, p Path, v any) error {
	container := containerFor(doc, p, true)
	switch {
	case p.Sub == nil:
		container[p.Attr.Name] = v
	case p.Attr.MultiValued:
		list, _ := container[p.Attr.Name].([]any)
		if len(list) == 0 {
			list = []any{map[string]any{}}
		}
		for _, e := range list {
			if m, ok := e.(map[string]any); ok {
				m[p.Sub.Name] = v
			}
		}
		container[p.Attr.Name] = list
		return checkPrimaryCount(p.Attr, list)
	default:
		parent, ok := container[p.Attr.Name].(map[string]any)
		if !ok {
			parent = map[string]any{}
			container[p.Attr.Name] = parent
		}
		parent[p.Sub.Name] = v
	}
	return nil
}

// containerFor returns the object that holds p.Attr: doc itself or the
// extension object, which is created when create is set and returned as nil
// otherwise.
func containerFor(doc map[string]any, p Path, create bool) map[string]any {
	ext := p.Extension()
	if ext == "" {
		return doc
	}
	m, ok := doc[ext].(map[string]any)
	if !ok {
		if !create {
			return nil
		}
		m = map[string]any{}
		doc[ext] = m
	}
	return m
}

// TakeMembers removes the "members" attribute from the attributes of a
// Group and returns the ids of its members, without duplicates, in the
// order given. A member without a value returns an *Error with scimType
// invalidValue.
func TakeMembers(attrs map[string]any) ([]string, error) {
	var raw any
	for k, v := range attrs {
		if strings.EqualFold(k, "members") {
			raw = v
			delete(attrs, k)
		}
	}
	return memberIDs(raw)
}

// memberIDs returns the ids in a members value: a list of objects with a
// "value", or bare ids.
func memberIDs(raw any) ([]string, error) {
	if raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		list = []any{raw}
	}
	ids := make([]string, 0, len(list))
	seen := make(map[string]bool, len(list))
	for _, e := range list {
		id := ""
		switch e := e.(type) {
		case string:
			id = e
		case map[string]any:
			id, _ = lookupString(e, "value")
		}
		if id == "" {
			return nil, Errorf("invalidValue", "every member needs a non-empty value with the id of a user")
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// CheckImmutable returns an *Error with scimType mutability when new
// changes a value of an immutable attribute that old has set (RFC 7644
// §3.5.1). An immutable attribute absent from new is not a change. Values of
// multi-valued attributes are not compared one by one, because a new value
// is an addition, not a change.
func (rt *ResourceType) CheckImmutable(old, new map[string]any) error {
	for _, p := range rt.immutablePaths() {
		before := valueAt(old, p)
		after := valueAt(new, p)
		if before == nil || after == nil || equalJSON(before, after) {
			continue
		}
		return Errorf("mutability", "attribute %s is immutable and cannot be changed", p)
	}
	return nil
}

// immutablePaths lists the immutable attributes and the immutable
// sub-attributes of singular complex attributes.
func (rt *ResourceType) immutablePaths() []Path {
	var out []Path
	attrs := rt.attributes()
	for _, ext := range rt.Extensions {
		attrs = append(attrs, ext.Attributes...)
	}
	for _, a := range attrs {
		if a.Mutability == "immutable" {
			out = append(out, Path{Attr: a})
			continue
		}
		if a.Type != Complex || a.MultiValued {
			continue
		}
		for _, s := range a.SubAttributes {
			if s.Mutability == "immutable" {
				out = append(out, Path{Attr: a, Sub: s})
			}
		}
	}
	return out
}

// valueAt returns the value at a path of a singular attribute, or nil.
func valueAt(doc map[string]any, p Path) any {
	container := containerFor(doc, p, false)
	if container == nil {
		return nil
	}
	v, ok := lookupKey(container, p.Attr.Name)
	if !ok || p.Sub == nil {
		return v
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	sv, _ := lookupKey(m, p.Sub.Name)
	return sv
}

func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

func countPrimary(list []any) int {
	n := 0
	for _, e := range list {
		if m, ok := e.(map[string]any); ok && m["primary"] == true {
			n++
		}
	}
	return n
}

func lookupString(m map[string]any, key string) (string, bool) {
	v, ok := lookupKey(m, key)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

// attrName returns the dotted name of an attribute for error details.
func attrName(a *Attribute) string {
	if a.Parent != nil {
		return a.Parent.Name + "." + a.Name
	}
	return a.Name
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, json.Number, int, int64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "null"
}

// jsonValue formats a short value for an error detail.
func jsonValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return jsonType(v)
	}
	return truncate(string(b))
}
