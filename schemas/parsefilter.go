package schemas

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	filter "github.com/scim2/filter-parser/v2"
)

// Limits on the filters ParseFilter accepts, which bound the work one
// request can cause. github.com/scim2/filter-parser/v2 v2.3.1 recurses once
// per nesting level: 4,000 nested parentheses took 0.3 s to parse, so
// checkFilterShape rejects deep nesting before the parser runs. Filters of
// MaxFilterLength bytes (long strings, long "or" chains, invalid text)
// took 20 to 230 ms in ParseFilter. Both measured on a shared 2-core AMD
// EPYC virtual machine.
const (
	// MaxFilterLength is the maximum length of a filter in bytes.
	MaxFilterLength = 8 << 10
	// MaxFilterDepth is the maximum nesting of parentheses and brackets.
	MaxFilterDepth = 16
	// MaxFilterNodes is the maximum number of comparisons, logical
	// operators and complex attribute filters in one filter.
	MaxFilterNodes = 256
	// MaxFilterStringBytes is the maximum length in bytes of one string
	// comparison value after its escapes are decoded. It equals
	// MaxNameValueBytes, so that every userName and displayName can be
	// looked up with eq, and is far above what clients compare in
	// practice: ids, email addresses (at most 254 bytes, RFC 5321) and
	// URLs. Longer values only make co, sw and ew scans in the store
	// costlier.
	MaxFilterStringBytes = MaxNameValueBytes
)

// ParseFilter parses a SCIM filter (RFC 7644 §3.4.2.2) and resolves its
// attribute paths and values against the resource type. Every error is an
// *Error with scimType invalidFilter whose detail names the problem.
func (rt *ResourceType) ParseFilter(s string) (Filter, error) {
	if err := checkFilterShape(s); err != nil {
		return nil, err
	}
	r := filterResolver{rt: rt}
	f, err := r.parse(s, nil)
	if err != nil {
		return nil, Errorf("invalidFilter", "%s", err)
	}
	return f, nil
}

// parseValueFilter parses the filter between the brackets of a PATCH path
// such as emails[type eq "work"], with names resolved as sub-attributes of
// attr.
func (rt *ResourceType) parseValueFilter(attr *Attribute, s string) (Filter, error) {
	if err := checkFilterShape(s); err != nil {
		return nil, err
	}
	r := filterResolver{rt: rt}
	f, err := r.parse(s, attr)
	if err != nil {
		return nil, Errorf("invalidFilter", "%s", err)
	}
	return f, nil
}

// checkFilterShape enforces MaxFilterLength and MaxFilterDepth before the
// parser runs. Brackets inside quoted strings do not count.
func checkFilterShape(s string) error {
	if strings.TrimSpace(s) == "" {
		return Errorf("invalidFilter", "filter is empty")
	}
	if len(s) > MaxFilterLength {
		return Errorf("invalidFilter", "filter is %d bytes long, more than the maximum of %d", len(s), MaxFilterLength)
	}
	depth, inString := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '(' || c == '[':
			depth++
			if depth > MaxFilterDepth {
				return Errorf("invalidFilter", "filter nests parentheses and brackets more than %d levels deep", MaxFilterDepth)
			}
		case c == ')' || c == ']':
			depth--
		}
	}
	return nil
}

func truncate(s string) string {
	const max = 100
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

type filterResolver struct {
	rt    *ResourceType
	nodes int

	// valueFilters holds the text between the brackets of each complex
	// attribute filter, which parse replaces by a placeholder.
	valueFilters []string
}

// valueFilterPlaceholder is the attribute name of the comparison that
// replaces the text between brackets while the parser runs.
const valueFilterPlaceholder = "scimdValueFilter"

// parse parses s and resolves it; within is as for resolve.
//
// NOTE: github.com/scim2/filter-parser/v2 v2.3.1 accepts only one "and",
// one "or" or one "not" between brackets, so emails[type eq "work" and
// value co "@example.com" and primary eq true] fails there. parse
// therefore replaces the text between brackets by `scimdValueFilter eq N`
// and parses that text on its own with the full filter grammar.
func (r *filterResolver) parse(s string, within *Attribute) (Filter, error) {
	rewritten, err := r.extractValueFilters(s)
	if err != nil {
		return nil, err
	}
	expr, err := filter.ParseFilterNumber([]byte(rewritten))
	if err != nil {
		return nil, fmt.Errorf("invalid filter syntax in %q", truncate(s))
	}
	return r.resolve(expr, within)
}

// extractValueFilters moves the text between each outermost pair of
// brackets of s into r.valueFilters and returns s with placeholders.
func (r *filterResolver) extractValueFilters(s string) (string, error) {
	var b strings.Builder
	depth, start, inString := 0, 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '[':
			depth++
			if depth == 1 {
				b.WriteString(s[start : i+1])
				start = i + 1
			}
		case c == ']':
			depth--
			if depth < 0 {
				return "", fmt.Errorf("unbalanced ] in filter %q", truncate(s))
			}
			if depth == 0 {
				fmt.Fprintf(&b, "%s eq %d", valueFilterPlaceholder, len(r.valueFilters))
				r.valueFilters = append(r.valueFilters, s[start:i])
				start = i
			}
		}
	}
	if depth != 0 {
		return "", fmt.Errorf("unbalanced [ in filter %q", truncate(s))
	}
	b.WriteString(s[start:])
	return b.String(), nil
}

// resolve converts a parsed expression. Within a complex attribute filter,
// within is that attribute and names resolve as its sub-attributes.
func (r *filterResolver) resolve(e filter.Expression, within *Attribute) (Filter, error) {
	r.nodes++
	if r.nodes > MaxFilterNodes {
		return nil, fmt.Errorf("filter has more than %d expressions", MaxFilterNodes)
	}
	switch e := e.(type) {
	case *filter.LogicalExpression:
		left, err := r.resolve(e.Left, within)
		if err != nil {
			return nil, err
		}
		right, err := r.resolve(e.Right, within)
		if err != nil {
			return nil, err
		}
		if e.Operator == filter.AND {
			return And{Left: left, Right: right}, nil
		}
		return Or{Left: left, Right: right}, nil
	case *filter.NotExpression:
		inner, err := r.resolve(e.Expression, within)
		if err != nil {
			return nil, err
		}
		return Not{Filter: inner}, nil
	case *filter.ValuePath:
		return r.resolveValuePath(e, within)
	case *filter.AttributeExpression:
		p, err := r.resolveAttrPath(e.AttributePath, within)
		if err != nil {
			return nil, err
		}
		return compareFilter(p, string(e.Operator), e.CompareValue)
	}
	return nil, fmt.Errorf("unsupported filter expression %T", e)
}

func (r *filterResolver) resolveValuePath(e *filter.ValuePath, within *Attribute) (Filter, error) {
	if within != nil {
		return nil, fmt.Errorf("complex attribute filter %s is nested in another one", e.AttributePath)
	}
	if e.AttributePath.SubAttribute != nil {
		return nil, fmt.Errorf("complex attribute filter %s names a sub-attribute before the brackets", e.AttributePath)
	}
	p, err := r.rt.resolve(e.AttributePath.URI(), e.AttributePath.AttributeName, "")
	if err != nil {
		return nil, err
	}
	if p.Attr.Type != Complex {
		return nil, fmt.Errorf("attribute %q is not complex, so it cannot have a filter in brackets", p.Attr.Name)
	}
	inner, err := r.parse(r.valueFilterText(e.ValueFilter), p.Attr)
	if err != nil {
		return nil, err
	}
	return ValuePath{Path: p, Filter: inner}, nil
}

// valueFilterText returns the text that the placeholder e stands for.
func (r *filterResolver) valueFilterText(e filter.Expression) string {
	ae, ok := e.(*filter.AttributeExpression)
	if !ok || ae.AttributePath.AttributeName != valueFilterPlaceholder {
		return ""
	}
	n, ok := ae.CompareValue.(json.Number)
	if !ok {
		return ""
	}
	i, err := strconv.Atoi(string(n))
	if err != nil || i < 0 || i >= len(r.valueFilters) {
		return ""
	}
	return r.valueFilters[i]
}

func (r *filterResolver) resolveAttrPath(ap filter.AttributePath, within *Attribute) (Path, error) {
	if within == nil {
		return r.rt.resolve(ap.URI(), ap.AttributeName, ap.SubAttributeName())
	}
	if ap.URIPrefix != nil || ap.SubAttribute != nil {
		return Path{}, fmt.Errorf("%s inside the brackets of %q must be a sub-attribute name", ap, within.Name)
	}
	sub := within.Sub(ap.AttributeName)
	if sub == nil {
		return Path{}, fmt.Errorf("unknown sub-attribute %q of %q", ap.AttributeName, within.Name)
	}
	return Path{Attr: within, Sub: sub}, nil
}

// compareFilter builds the comparison of p with a value from the parser:
// string, bool, json.Number or nil.
func compareFilter(p Path, op string, raw any) (Filter, error) {
	o := Operator(strings.ToLower(op))
	if p.Leaf().Returned == "never" {
		return nil, fmt.Errorf("attribute %q is never returned, so it cannot be used in a filter", p.String())
	}
	if p.unstoredMeta() {
		return nil, fmt.Errorf("attribute %s is not filterable, because scimd computes it for each response instead of storing it", p)
	}
	switch o {
	case Pr:
		return Compare{Path: p, Op: Pr}, nil
	case Eq, Ne, Co, Sw, Ew, Gt, Ge, Lt, Le:
	default:
		return nil, fmt.Errorf("unknown operator %q", op)
	}

	if p.Leaf().Type == Complex {
		value := p.Attr.Sub("value")
		if p.Sub != nil || !p.Attr.MultiValued || value == nil {
			return nil, fmt.Errorf("attribute %q is complex, so compare one of its sub-attributes", p.String())
		}
		p.Sub = value
	}
	leaf := p.Leaf()

	// RFC 7644 §3.4.2.2 leaves "eq null" undefined; it is read as "not
	// present" and "ne null" as "present".
	if raw == nil {
		switch o {
		case Eq:
			return Not{Filter: Compare{Path: p, Op: Pr}}, nil
		case Ne:
			return Compare{Path: p, Op: Pr}, nil
		}
		return nil, fmt.Errorf("operator %s cannot compare %q with null", o, p.String())
	}

	if err := checkOperator(leaf, o); err != nil {
		return nil, fmt.Errorf("attribute %q: %w", p.String(), err)
	}
	v, err := filterValue(leaf, raw)
	if err != nil {
		return nil, fmt.Errorf("attribute %q: %w", p.String(), err)
	}
	return Compare{Path: p, Op: o, Value: v}, nil
}

// checkOperator rejects operators that RFC 7644 §3.4.2.2 does not define
// for the attribute's type: ordering of booleans and binary values, and
// substring matching of anything but strings and references.
func checkOperator(a *Attribute, o Operator) error {
	switch o {
	case Co, Sw, Ew:
		if a.Type != String && a.Type != Reference {
			return fmt.Errorf("operator %s needs a string attribute, not %s", o, a.Type)
		}
	case Gt, Ge, Lt, Le:
		if a.Type == Boolean || a.Type == Binary {
			return fmt.Errorf("operator %s cannot order %s values", o, a.Type)
		}
	}
	return nil
}

// filterValue converts a comparison value to the Go type of a's SCIM type.
// Quoted booleans and numbers are accepted because some clients quote
// every value.
func filterValue(a *Attribute, raw any) (any, error) {
	if s, ok := raw.(string); ok {
		unquoted, err := unescape(s)
		if err != nil {
			return nil, err
		}
		if len(unquoted) > MaxFilterStringBytes {
			return nil, fmt.Errorf("string value is %d bytes long, more than the maximum of %d", len(unquoted), MaxFilterStringBytes)
		}
		raw = unquoted
	}
	switch a.Type {
	case String, Reference, Binary:
		s, ok := raw.(string)
		if !ok {
			return nil, fmt.Errorf("expected a quoted string, got %v", raw)
		}
		return s, nil
	case Boolean:
		if b, ok := parseBool(raw); ok {
			return b, nil
		}
		return nil, fmt.Errorf("expected true or false, got %v", raw)
	case Integer:
		if n, ok := parseInteger(raw); ok {
			return n, nil
		}
		return nil, fmt.Errorf("expected an integer, got %v", raw)
	case Decimal:
		if f, ok := parseDecimal(raw); ok {
			return f, nil
		}
		return nil, fmt.Errorf("expected a number, got %v", raw)
	case DateTime:
		s, ok := raw.(string)
		if !ok {
			return nil, fmt.Errorf("expected a quoted dateTime, got %v", raw)
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("invalid dateTime %q, expected RFC 3339 such as 2026-01-02T15:04:05Z", s)
		}
		return t, nil
	}
	return nil, fmt.Errorf("cannot compare a %s attribute", a.Type)
}

// unescape decodes the JSON escapes of a string from the filter parser,
// which returns the text between the quotes as written.
func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var out string
	if err := json.Unmarshal([]byte(`"`+s+`"`), &out); err != nil {
		return "", fmt.Errorf("invalid escape sequence in %q", truncate(s))
	}
	return out, nil
}

// parseBool accepts a bool or the strings "true" and "false" in any case.
func parseBool(v any) (bool, bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case string:
		switch {
		case strings.EqualFold(v, "true"):
			return true, true
		case strings.EqualFold(v, "false"):
			return false, true
		}
	}
	return false, false
}

// parseInteger accepts whole numbers as JSON numbers, Go numbers or strings.
func parseInteger(v any) (int64, bool) {
	switch v := v.(type) {
	case json.Number:
		n, err := strconv.ParseInt(string(v), 10, 64)
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		return n, err == nil
	case int64:
		return v, true
	case int:
		return int64(v), true
	case float64:
		if v != float64(int64(v)) {
			return 0, false
		}
		return int64(v), true
	}
	return 0, false
}

// parseDecimal accepts numbers as JSON numbers, Go numbers or strings.
func parseDecimal(v any) (float64, bool) {
	switch v := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil
	case float64:
		return v, true
	case int64:
		return float64(v), true
	case int:
		return float64(v), true
	}
	return 0, false
}
