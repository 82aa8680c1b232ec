package schemas

import (
	"strings"
	"time"
)

// Match reports whether a rendered resource document matches f. The
// document has canonical attribute names, extension attributes under their
// schema URN and dateTime values as RFC 3339 strings, as the HTTP layer
// renders it. Keys are nevertheless compared case-insensitively.
//
// Strings compare case-insensitively unless the attribute is caseExact. A
// comparison on a multi-valued attribute matches if any value matches,
// except ne, which matches when no value is equal, and so also matches an
// absent attribute. Every other operator fails on an absent attribute.
func Match(f Filter, doc map[string]any) bool {
	return evaluate(f, func(c Compare) []any { return valuesAt(doc, c.Path) }, doc)
}

// evaluate evaluates f with values taken from get. doc is the whole
// document for complex attribute filters, nil inside one.
func evaluate(f Filter, get func(Compare) []any, doc map[string]any) bool {
	switch f := f.(type) {
	case And:
		return evaluate(f.Left, get, doc) && evaluate(f.Right, get, doc)
	case Or:
		return evaluate(f.Left, get, doc) || evaluate(f.Right, get, doc)
	case Not:
		return !evaluate(f.Filter, get, doc)
	case Compare:
		return compareValues(f, get(f))
	case ValuePath:
		for _, elem := range elementsAt(doc, f.Path.Attr) {
			if matchElement(f.Filter, elem) {
				return true
			}
		}
	}
	return false
}

// matchElement evaluates the filter of a complex attribute filter against
// one value of the attribute.
func matchElement(f Filter, elem map[string]any) bool {
	return evaluate(f, func(c Compare) []any {
		v, ok := lookupKey(elem, c.Path.Sub.Name)
		if !ok {
			return nil
		}
		return flatten(v)
	}, nil)
}

func compareValues(c Compare, values []any) bool {
	leaf := c.Path.Leaf()
	switch c.Op {
	case Pr:
		for _, v := range values {
			if present(v) {
				return true
			}
		}
		return false
	case Ne:
		for _, v := range values {
			if compareOne(leaf, Eq, v, c.Value) {
				return false
			}
		}
		return true
	}
	for _, v := range values {
		if compareOne(leaf, c.Op, v, c.Value) {
			return true
		}
	}
	return false
}

// compareOne compares one stored value with the filter value want, which
// has the Go type filterValue gives it.
func compareOne(a *Attribute, op Operator, got, want any) bool {
	switch a.Type {
	case String, Reference, Binary:
		g, ok1 := got.(string)
		w, ok2 := want.(string)
		return ok1 && ok2 && compareStrings(op, g, w, a.CaseExact)
	case Boolean:
		g, ok1 := parseBool(got)
		w, ok2 := want.(bool)
		return ok1 && ok2 && op == Eq && g == w
	case Integer:
		g, ok1 := parseInteger(got)
		w, ok2 := want.(int64)
		return ok1 && ok2 && ordered(op, compareInts(g, w))
	case Decimal:
		g, ok1 := parseDecimal(got)
		w, ok2 := want.(float64)
		return ok1 && ok2 && ordered(op, compareFloats(g, w))
	case DateTime:
		g, ok1 := parseTime(got)
		w, ok2 := want.(time.Time)
		return ok1 && ok2 && ordered(op, g.Compare(w))
	}
	return false
}

func compareStrings(op Operator, got, want string, caseExact bool) bool {
	if !caseExact {
		got, want = strings.ToLower(got), strings.ToLower(want)
	}
	switch op {
	case Co:
		return strings.Contains(got, want)
	case Sw:
		return strings.HasPrefix(got, want)
	case Ew:
		return strings.HasSuffix(got, want)
	}
	return ordered(op, strings.Compare(got, want))
}

// ordered reports whether the result cmp of comparing a stored value with
// the filter value satisfies op.
func ordered(op Operator, cmp int) bool {
	switch op {
	case Eq:
		return cmp == 0
	case Gt:
		return cmp > 0
	case Ge:
		return cmp >= 0
	case Lt:
		return cmp < 0
	case Le:
		return cmp <= 0
	}
	return false
}

func compareInts(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compareFloats(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func parseTime(v any) (time.Time, bool) {
	switch v := v.(type) {
	case time.Time:
		return v, true
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		return t, err == nil
	}
	return time.Time{}, false
}

// present reports whether v is a value in the sense of the pr operator: not
// null, not an empty string and not an empty array or object.
func present(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case []any:
		for _, e := range v {
			if present(e) {
				return true
			}
		}
		return false
	case map[string]any:
		for _, e := range v {
			if present(e) {
				return true
			}
		}
		return false
	}
	return true
}

// valuesAt returns the values p leads to in doc: one per value of a
// multi-valued attribute.
func valuesAt(doc map[string]any, p Path) []any {
	container := doc
	if ext := p.Extension(); ext != "" {
		m, ok := lookupKey(doc, ext)
		if !ok {
			return nil
		}
		if container, ok = m.(map[string]any); !ok {
			return nil
		}
	}
	v, ok := lookupKey(container, p.Attr.Name)
	if !ok {
		return nil
	}
	if p.Sub == nil {
		return flatten(v)
	}
	var out []any
	for _, e := range flatten(v) {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		if sv, ok := lookupKey(m, p.Sub.Name); ok {
			out = append(out, flatten(sv)...)
		}
	}
	return out
}

// elementsAt returns the values of the complex attribute a in doc.
func elementsAt(doc map[string]any, a *Attribute) []map[string]any {
	var out []map[string]any
	for _, v := range valuesAt(doc, Path{Attr: a}) {
		if m, ok := v.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func flatten(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	case []map[string]any:
		out := make([]any, len(v))
		for i, m := range v {
			out[i] = m
		}
		return out
	case []string:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out
	}
	return []any{v}
}

// lookupKey returns m[key], falling back to a case-insensitive match.
func lookupKey(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}
