package schemas

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// PatchOp is one PATCH operation as decoded from the request body. Op is
// compared case-insensitively (Entra ID sends "Replace").
type PatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

// PatchResult is the outcome of ApplyPatch.
type PatchResult struct {
	// Attributes is the new attribute document (the input is not
	// modified).
	Attributes map[string]any
	// Members is the change to a group's members, nil when the operations
	// do not touch members. Member operations never appear in Attributes.
	Members *MemberPatch
}

// MemberPatch is the net effect of a PATCH request's operations on a
// group's members. With Replace the members become exactly Set;
// otherwise Add and Remove are applied to the stored members.
type MemberPatch struct {
	Replace bool
	Set     []string
	Add     []string
	Remove  []string
}

// Empty reports whether the change does nothing.
func (c *MemberPatch) Empty() bool {
	return c == nil || (!c.Replace && len(c.Add) == 0 && len(c.Remove) == 0)
}

// ApplyPatch applies PATCH operations (RFC 7644 §3.5.2) to a copy of attrs,
// a stored attribute document as Normalize returns it. Either every
// operation applies or an error is returned and nothing changes.
//
// Paths take every form of RFC 7644: "title", "name.givenName", extension
// paths with their URN, a bare extension URN, `emails[type eq "work"]` and
// `emails[type eq "work"].value`. An operation without a path takes an
// object of attribute values. Values are converted as Normalize converts
// them, and setting primary true on one value of a multi-valued attribute
// sets it false on the others. A password set by several operations is
// hashed once, after the last one.
//
// What known clients send is accepted: op names in any case, booleans as
// strings, dotted, URN-qualified and filtered keys in path-less values
// (`emails[type eq "work"].value`), id, meta and schemas keys in path-less
// values (ignored), the enterprise manager as a bare id, and a replace or
// add on a filtered path that matches no value, which appends a value
// built from the filter's eq comparisons.
//
// Group members never go into Attributes: member operations are folded,
// in order, into Members.
//
// Errors are *Error values with scimType invalidSyntax (unknown op),
// invalidPath, invalidFilter, noTarget (remove without a path, or a filter
// that matches no value on remove), mutability (a readOnly attribute, or a
// change of an immutable one) or invalidValue. Values above the limits
// that Normalize enforces are invalidValue too, and so is a multi-valued
// attribute that the operations grow beyond MaxMultiValuedCount.
func (rt *ResourceType) ApplyPatch(attrs map[string]any, ops []PatchOp) (*PatchResult, error) {
	return rt.ApplyPatchHashed(attrs, ops, nil)
}

// ApplyPatchHashed is ApplyPatch that takes the hash of a password the
// operations set from hashes, made beforehand by HashPatchPasswords, and
// hashes only a password missing from it. Hashing costs about 0.1 s, so a
// caller that applies the patch inside a store transaction hashes first.
func (rt *ResourceType) ApplyPatchHashed(attrs map[string]any, ops []PatchOp, hashes *PasswordHashes) (*PatchResult, error) {
	p := patcher{rt: rt, doc: deepCopyMap(attrs)}
	for i, op := range ops {
		if err := p.apply(op); err != nil {
			var se *Error
			if errors.As(err, &se) {
				return nil, Errorf(se.ScimType, "operation %d: %s", i+1, se.Detail)
			}
			return nil, fmt.Errorf("apply patch operation %d: %w", i+1, err)
		}
	}

	if rt.members() != nil {
		delete(p.doc, rt.members().Name)
	}
	if err := rt.checkRequired(p.doc); err != nil {
		return nil, err
	}
	if err := rt.checkValueCounts(p.doc); err != nil {
		return nil, err
	}
	if _, err := hashPendingWith(p.doc, hashes); err != nil {
		return nil, fmt.Errorf("apply patch: %w", err)
	}
	rt.setSchemas(p.doc)
	return &PatchResult{Attributes: p.doc, Members: p.memberPatch()}, nil
}

// HashPatchPasswords applies ops to a copy of attrs as ApplyPatch does and
// hashes the passwords they set. The password a PATCH sets depends on its
// operations alone, so hashes made from one version of a resource serve
// ApplyPatchHashed on a later one. Operations that fail here yield no
// hashes and no error: ApplyPatchHashed reports the failure.
func (rt *ResourceType) HashPatchPasswords(attrs map[string]any, ops []PatchOp) (*PasswordHashes, error) {
	p := patcher{rt: rt, doc: deepCopyMap(attrs)}
	for _, op := range ops {
		if err := p.apply(op); err != nil {
			return nil, nil
		}
	}
	hashes := &PasswordHashes{byPlain: map[string]string{}}
	if err := hashes.addPending(p.doc); err != nil {
		return nil, err
	}
	return hashes, nil
}

// members returns the members attribute of a Group, or nil.
func (rt *ResourceType) members() *Attribute {
	if rt.Schema.ID != GroupURN {
		return nil
	}
	return rt.Schema.Attribute("members")
}

type patcher struct {
	rt  *ResourceType
	doc map[string]any

	// membersTouched is set once an operation changes members; the other
	// fields then hold the net effect so far.
	membersTouched bool
	replace        bool
	set            []string
	add            []string
	remove         []string
}

// patchTarget is a parsed PATCH path.
type patchTarget struct {
	path      Path
	filter    Filter  // the filter between brackets, or nil
	extension *Schema // set, with path unset, for a bare extension URN
}

func (p *patcher) apply(op PatchOp) error {
	name := strings.ToLower(strings.TrimSpace(op.Op))
	switch name {
	case "add", "replace", "remove":
	default:
		return Errorf("invalidSyntax", "unknown op %q, expected add, replace or remove", op.Op)
	}

	if strings.TrimSpace(op.Path) == "" {
		if name == "remove" {
			return Errorf("noTarget", "remove needs a path")
		}
		value, ok := op.Value.(map[string]any)
		if !ok {
			return Errorf("invalidValue", "%s without a path needs an object of attributes as its value", name)
		}
		return p.applyPathless(name, value)
	}

	t, err := p.rt.parsePatchPath(op.Path)
	if err != nil {
		return err
	}
	if t.extension != nil {
		return p.applyExtension(name, t.extension, op.Value)
	}
	if t.path.Attr == p.rt.members() {
		return p.applyMembers(name, t, op.Value)
	}
	return p.applyTarget(name, t, op.Value)
}

// parsePatchPath parses a PATCH path: an attribute path, optionally with a
// filter in brackets and a sub-attribute after them, or a bare extension
// URN.
func (rt *ResourceType) parsePatchPath(s string) (patchTarget, error) {
	s = strings.TrimSpace(s)
	if ext := rt.Extension(s); ext != nil {
		return patchTarget{extension: ext}, nil
	}
	open := strings.IndexByte(s, '[')
	if open < 0 {
		p, err := rt.Lookup(s)
		return patchTarget{path: p}, err
	}

	end := strings.LastIndexByte(s, ']')
	if end < open {
		return patchTarget{}, Errorf("invalidPath", "path %q has [ without ]", s)
	}
	p, err := rt.Lookup(s[:open])
	if err != nil {
		return patchTarget{}, err
	}
	if p.Sub != nil || p.Attr.Type != Complex || !p.Attr.MultiValued {
		return patchTarget{}, Errorf("invalidPath", "path %q has a filter, but %s is not a multi-valued complex attribute", s, p)
	}
	f, err := rt.parseValueFilter(p.Attr, s[open+1:end])
	if err != nil {
		return patchTarget{}, err
	}

	if rest := s[end+1:]; rest != "" {
		subName, ok := strings.CutPrefix(rest, ".")
		if !ok {
			return patchTarget{}, Errorf("invalidPath", "path %q has %q after ], expected .subAttribute", s, rest)
		}
		if p.Sub = p.Attr.Sub(subName); p.Sub == nil {
			return patchTarget{}, Errorf("invalidPath", "unknown sub-attribute %q of %q", subName, p.Attr.Name)
		}
	}
	return patchTarget{path: p, filter: f}, nil
}

// applyPathless applies an add or replace whose value is an object of
// attribute values. Each key is an attribute name or a path, such as
// "name.givenName" or `emails[type eq "work"].value` as Entra ID sends
// them, and is applied as the same operation with that path would be.
func (p *patcher) applyPathless(op string, value map[string]any) error {
	for _, key := range slices.Sorted(maps.Keys(value)) {
		if ext := p.rt.Extension(key); ext != nil {
			if err := p.applyExtension(op, ext, value[key]); err != nil {
				return err
			}
			continue
		}
		if strings.EqualFold(key, "schemas") {
			continue
		}
		if err := p.applyKey(op, key, value[key]); err != nil {
			return err
		}
	}
	return nil
}

// applyExtension applies an operation whose path is an extension URN:
// remove drops the whole extension, add and replace take an object of its
// attributes.
func (p *patcher) applyExtension(op string, ext *Schema, raw any) error {
	if op == "remove" {
		delete(p.doc, ext.ID)
		return nil
	}
	if raw == nil {
		return nil
	}
	value, ok := raw.(map[string]any)
	if !ok {
		return Errorf("invalidValue", "%s of %s needs an object of its attributes as its value", op, ext.ID)
	}
	for _, key := range slices.Sorted(maps.Keys(value)) {
		if err := p.applyKey(op, ext.ID+":"+key, value[key]); err != nil {
			return err
		}
	}
	return nil
}

// applyKey applies one key of a path-less value as a path. A key that names
// no attribute is ignored, as Normalize ignores it, and so are id and meta,
// which Okta sends back unchanged. A key with a value filter whose
// attribute exists must be a valid path, or an invalidPath error is
// returned.
func (p *patcher) applyKey(op, key string, raw any) error {
	var t patchTarget
	if open := strings.IndexByte(key, '['); open >= 0 {
		if _, err := p.rt.resolvePath(key[:open]); err != nil {
			return nil
		}
		var err error
		if t, err = p.rt.parsePatchPath(key); err != nil {
			var se *Error
			if errors.As(err, &se) {
				return Errorf("invalidPath", "value key %q: %s", truncate(key), se.Detail)
			}
			return fmt.Errorf("value key %q: %w", truncate(key), err)
		}
	} else {
		path, err := p.rt.resolvePath(key)
		if err != nil {
			return nil
		}
		t.path = path
	}

	if isServerKey(t.path.Attr.Name) && t.path.Extension() == "" {
		return nil
	}
	if t.path.Attr == p.rt.members() {
		return p.applyMembers(op, t, raw)
	}
	return p.applyTarget(op, t, raw)
}

// applyTarget applies one operation to an attribute other than members.
func (p *patcher) applyTarget(op string, t patchTarget, raw any) error {
	path := t.path
	if path.readOnly() {
		return Errorf("mutability", "attribute %s is readOnly", path)
	}
	if op == "add" && raw == nil {
		return Errorf("invalidValue", "%s of %s needs a value", op, path)
	}

	immutable := !path.Attr.MultiValued && path.Leaf().Mutability == "immutable"
	before := valueAt(p.doc, path)

	var err error
	switch {
	case t.filter != nil:
		err = p.applyFiltered(op, t, raw)
	case path.Sub != nil:
		err = p.applySub(op, path, raw)
	default:
		err = p.applyWhole(op, path, raw)
	}
	if err != nil {
		return err
	}

	if immutable && before != nil && !equalJSON(before, valueAt(p.doc, path)) {
		return Errorf("mutability", "attribute %s is immutable and cannot be changed", path)
	}
	return nil
}

// applyWhole applies an operation whose path names a whole attribute.
func (p *patcher) applyWhole(op string, path Path, raw any) error {
	a := path.Attr
	container := containerFor(p.doc, path, true)
	defer p.dropEmptyExtension(path)

	if op == "remove" {
		if a.MultiValued && a.Type == Complex && raw != nil {
			return p.removeValues(container, a, raw)
		}
		delete(container, a.Name)
		return nil
	}

	v, err := normalizeValue(a, raw)
	if err != nil {
		return err
	}
	switch {
	case v == nil && op == "replace":
		delete(container, a.Name)
	case v == nil:
	case a.MultiValued && op == "add":
		list, _ := container[a.Name].([]any)
		var touched []int
		for _, e := range v.([]any) {
			if i := slices.IndexFunc(list, func(x any) bool { return equalJSON(x, e) }); i >= 0 {
				touched = append(touched, i)
				continue
			}
			list = append(list, e)
			touched = append(touched, len(list)-1)
		}
		container[a.Name] = list
		return enforcePrimary(a, list, touched)
	case a.MultiValued:
		list := v.([]any)
		container[a.Name] = list
		return enforcePrimary(a, list, allIndexes(list))
	case a.Type == Complex:
		// RFC 7644 §3.5.2.1 and §3.5.2.3: sub-attributes not in the value
		// stay as they are.
		existing, ok := container[a.Name].(map[string]any)
		if !ok {
			existing = map[string]any{}
		}
		for k, sv := range v.(map[string]any) {
			existing[k] = sv
		}
		container[a.Name] = existing
	default:
		container[a.Name] = v
	}
	return nil
}

// removeValues removes the values of a multi-valued complex attribute that
// equal, in every sub-attribute given, one of the values in raw.
func (p *patcher) removeValues(container map[string]any, a *Attribute, raw any) error {
	v, err := normalizeValue(a, raw)
	if err != nil || v == nil {
		return err
	}
	list, _ := container[a.Name].([]any)
	list = slices.DeleteFunc(list, func(e any) bool {
		m, _ := e.(map[string]any)
		for _, r := range v.([]any) {
			if containsSubset(m, r.(map[string]any)) {
				return true
			}
		}
		return false
	})
	setList(container, a.Name, list)
	return nil
}

func containsSubset(m, subset map[string]any) bool {
	for k, v := range subset {
		if !equalJSON(m[k], v) {
			return false
		}
	}
	return true
}

// applySub applies an operation whose path names a sub-attribute without a
// filter: of a singular complex attribute, or of every value of a
// multi-valued one.
func (p *patcher) applySub(op string, path Path, raw any) error {
	container := containerFor(p.doc, path, true)
	defer p.dropEmptyExtension(path)

	var v any
	if op != "remove" {
		var err error
		if v, err = normalizeValue(path.Sub, raw); err != nil {
			return err
		}
		if v == nil && op == "add" {
			return nil
		}
	}

	if !path.Attr.MultiValued {
		parent, _ := container[path.Attr.Name].(map[string]any)
		if parent == nil {
			parent = map[string]any{}
		}
		setOrDelete(parent, path.Sub.Name, v)
		setMap(container, path.Attr.Name, parent)
		return nil
	}

	list, _ := container[path.Attr.Name].([]any)
	if len(list) == 0 && v != nil {
		list = []any{map[string]any{}}
	}
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			setOrDelete(m, path.Sub.Name, v)
		}
	}
	setList(container, path.Attr.Name, dropEmptyMaps(list))
	return checkPrimaryCount(path.Attr, list)
}

// applyFiltered applies an operation whose path has a filter in brackets.
func (p *patcher) applyFiltered(op string, t patchTarget, raw any) error {
	a, sub := t.path.Attr, t.path.Sub
	container := containerFor(p.doc, t.path, true)
	defer p.dropEmptyExtension(t.path)

	list, _ := container[a.Name].([]any)
	var matched []int
	for i, e := range list {
		if m, ok := e.(map[string]any); ok && matchElement(t.filter, m) {
			matched = append(matched, i)
		}
	}

	if op == "remove" {
		if len(matched) == 0 {
			return Errorf("noTarget", "no value of %s matches the filter", a.Name)
		}
		for _, i := range matched {
			if sub == nil {
				list[i] = nil
			} else {
				delete(list[i].(map[string]any), sub.Name)
			}
		}
		setList(container, a.Name, dropEmptyMaps(list))
		return nil
	}

	var v any
	var err error
	if sub != nil {
		v, err = normalizeValue(sub, raw)
	} else {
		v, err = normalizeSingle(a, raw)
	}
	if err != nil {
		return err
	}

	if len(matched) == 0 {
		// NOTE: RFC 7644 §3.5.2.3 requires noTarget here, but Entra ID
		// sends replace of emails[type eq "work"].value for a user without
		// a work email and expects it to be added.
		elem, ok := equalityValues(t.filter)
		if !ok {
			return Errorf("noTarget", "no value of %s matches the filter, and the filter does not describe a new value", a.Name)
		}
		if v == nil {
			return nil
		}
		mergeInto(elem, sub, v)
		list = append(list, elem)
		container[a.Name] = list
		return enforcePrimary(a, list, []int{len(list) - 1})
	}

	for _, i := range matched {
		m := list[i].(map[string]any)
		switch {
		case sub != nil:
			setOrDelete(m, sub.Name, v)
		case v == nil:
			list[i] = nil
		case op == "replace":
			list[i] = deepCopy(v)
		default:
			mergeInto(m, nil, deepCopy(v))
		}
	}
	if err := enforcePrimary(a, list, matched); err != nil {
		return err
	}
	setList(container, a.Name, dropEmptyMaps(list))
	return nil
}

// mergeInto sets sub to v in elem, or merges the object v into elem when
// sub is nil.
func mergeInto(elem map[string]any, sub *Attribute, v any) {
	if sub != nil {
		elem[sub.Name] = v
		return
	}
	for k, sv := range v.(map[string]any) {
		elem[k] = sv
	}
}

// equalityValues returns the sub-attribute values that a filter made of eq
// comparisons joined by "and" requires, such as {"type": "work"} for
// type eq "work".
func equalityValues(f Filter) (map[string]any, bool) {
	switch f := f.(type) {
	case Compare:
		if f.Op != Eq || f.Path.Sub == nil {
			return nil, false
		}
		return map[string]any{f.Path.Sub.Name: f.Value}, true
	case And:
		left, ok1 := equalityValues(f.Left)
		right, ok2 := equalityValues(f.Right)
		if !ok1 || !ok2 {
			return nil, false
		}
		for k, v := range right {
			left[k] = v
		}
		return left, true
	}
	return nil, false
}

// enforcePrimary makes the value of a multi-valued attribute that an
// operation set primary on the only primary one (RFC 7643 §2.4).
func enforcePrimary(a *Attribute, list []any, touched []int) error {
	if a.Sub("primary") == nil {
		return nil
	}
	chosen := -1
	for _, i := range touched {
		if m, ok := list[i].(map[string]any); ok && m["primary"] == true {
			if chosen >= 0 && chosen != i {
				return Errorf("invalidValue", "attribute %s has more than one value with primary true", a.Name)
			}
			chosen = i
		}
	}
	if chosen >= 0 {
		for i, e := range list {
			if m, ok := e.(map[string]any); ok && i != chosen && m["primary"] == true {
				m["primary"] = false
			}
		}
	}
	return checkPrimaryCount(a, list)
}

func checkPrimaryCount(a *Attribute, list []any) error {
	if countPrimary(list) > 1 {
		return Errorf("invalidValue", "attribute %s has more than one value with primary true", a.Name)
	}
	return nil
}

// applyMembers folds an operation on a Group's members into the net
// member change.
func (p *patcher) applyMembers(op string, t patchTarget, raw any) error {
	if t.path.Sub != nil {
		return Errorf("invalidPath", "members can only be changed as a whole or by value, not through %s", t.path)
	}
	p.membersTouched = true

	if t.filter != nil {
		if op != "remove" {
			return Errorf("invalidPath", "%s of members takes the path members without a filter", op)
		}
		ids, ok := memberFilterIDs(t.filter)
		if !ok {
			return Errorf("invalidFilter", `a members filter can only compare value with eq, such as members[value eq "id"]`)
		}
		p.removeMembers(ids)
		return nil
	}

	ids, err := memberIDs(raw)
	if err != nil {
		return err
	}
	switch {
	case op == "add":
		p.addMembers(ids)
	case op == "replace":
		p.replace, p.set, p.add, p.remove = true, ids, nil, nil
	case len(ids) == 0:
		// remove of "members" without a value removes every member.
		p.replace, p.set, p.add, p.remove = true, nil, nil, nil
	default:
		// Entra ID removes members with path "members" and a value that
		// lists only the members to remove.
		p.removeMembers(ids)
	}
	return nil
}

func (p *patcher) addMembers(ids []string) {
	if p.replace {
		p.set = union(p.set, ids)
		return
	}
	p.remove = without(p.remove, ids)
	p.add = union(p.add, ids)
}

func (p *patcher) removeMembers(ids []string) {
	if p.replace {
		p.set = without(p.set, ids)
		return
	}
	p.add = without(p.add, ids)
	p.remove = union(p.remove, ids)
}

func (p *patcher) memberPatch() *MemberPatch {
	if !p.membersTouched {
		return nil
	}
	mp := &MemberPatch{Replace: p.replace, Set: p.set}
	if mp.Replace && mp.Set == nil {
		mp.Set = []string{}
	}
	if len(p.add) > 0 {
		mp.Add = p.add
	}
	if len(p.remove) > 0 {
		mp.Remove = p.remove
	}
	return mp
}

// memberFilterIDs returns the ids of a filter such as value eq "a" or
// value eq "b".
func memberFilterIDs(f Filter) ([]string, bool) {
	switch f := f.(type) {
	case Compare:
		id, ok := f.Value.(string)
		if f.Op != Eq || f.Path.Sub == nil || f.Path.Sub.Name != "value" || !ok {
			return nil, false
		}
		return []string{id}, true
	case Or:
		left, ok1 := memberFilterIDs(f.Left)
		right, ok2 := memberFilterIDs(f.Right)
		return append(left, right...), ok1 && ok2
	}
	return nil, false
}

// union appends to list the ids it does not contain yet.
func union(list, ids []string) []string {
	seen := make(map[string]bool, len(list)+len(ids))
	for _, s := range list {
		seen[s] = true
	}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			list = append(list, id)
		}
	}
	return list
}

// without removes ids from list.
func without(list, ids []string) []string {
	drop := make(map[string]bool, len(ids))
	for _, id := range ids {
		drop[id] = true
	}
	return slices.DeleteFunc(list, func(s string) bool { return drop[s] })
}

func (p *patcher) dropEmptyExtension(path Path) {
	if ext := path.Extension(); ext != "" {
		if m, ok := p.doc[ext].(map[string]any); ok && len(m) == 0 {
			delete(p.doc, ext)
		}
	}
}

func setOrDelete(m map[string]any, key string, v any) {
	if v == nil {
		delete(m, key)
		return
	}
	m[key] = v
}

func setMap(container map[string]any, key string, m map[string]any) {
	if len(m) == 0 {
		delete(container, key)
		return
	}
	container[key] = m
}

func setList(container map[string]any, key string, list []any) {
	if len(list) == 0 {
		delete(container, key)
		return
	}
	container[key] = list
}

// dropEmptyMaps removes nil and empty values from a list.
func dropEmptyMaps(list []any) []any {
	return slices.DeleteFunc(list, func(e any) bool {
		m, isMap := e.(map[string]any)
		return e == nil || (isMap && len(m) == 0)
	})
}

func allIndexes(list []any) []int {
	out := make([]int, len(list))
	for i := range list {
		out[i] = i
	}
	return out
}

func deepCopyMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return deepCopy(m).(map[string]any)
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}
