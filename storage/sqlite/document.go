package sqlite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// encodeDoc encodes an attribute document as JSON. Integers and decimals
// stay distinguishable: a float64 is always written with a decimal point
// or an exponent, so that decodeDoc returns float64 for it and int64 for
// integers.
func encodeDoc(attrs map[string]any) (string, error) {
	v, err := markFloats(attrs)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode attributes: %w", err)
	}
	return string(b), nil
}

func markFloats(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			m, err := markFloats(e)
			if err != nil {
				return nil, err
			}
			out[k] = m
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			m, err := markFloats(e)
			if err != nil {
				return nil, err
			}
			out[i] = m
		}
		return out, nil
	case []map[string]any:
		out := make([]any, len(v))
		for i, e := range v {
			m, err := markFloats(e)
			if err != nil {
				return nil, err
			}
			out[i] = m
		}
		return out, nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("encode attributes: number %v is not valid JSON", v)
		}
		s := strconv.FormatFloat(v, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0"
		}
		return json.Number(s), nil
	case float32:
		return markFloats(float64(v))
	default:
		return v, nil
	}
}

// decodeDoc is the inverse of encodeDoc.
func decodeDoc(s string) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode attributes: %w", err)
	}
	return unmarkNumbers(m).(map[string]any), nil
}

func unmarkNumbers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = unmarkNumbers(e)
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = unmarkNumbers(e)
		}
		return v
	case json.Number:
		s := string(v)
		if !strings.ContainsAny(s, ".eE") {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n
			}
		}
		f, _ := strconv.ParseFloat(s, 64)
		return f
	default:
		return v
	}
}

// indexRow is one row of attr_values for a resource.
type indexRow struct {
	path string
	pos  int
	v    any // string, int64, float64 or int64 0/1 for booleans
	lv   any
	t    any // int64 Unix nanoseconds or nil
}

// indexRows lists the attr_values rows of a resource: every scalar value
// of attrs, plus id and the meta attributes that the store owns.
func indexRows(resourceType, id string, created, modified time.Time, attrs map[string]any) []indexRow {
	rows := []indexRow{
		{path: "id", v: id, lv: strings.ToLower(id)},
		{path: "meta.resourcetype", v: resourceType, lv: strings.ToLower(resourceType)},
		timeRow("meta.created", created),
		timeRow("meta.lastmodified", modified),
	}
	for k, v := range attrs {
		key := strings.ToLower(k)
		if ext, ok := v.(map[string]any); ok && strings.HasPrefix(key, "urn:") {
			// An extension schema: its attributes behave as top-level
			// ones, with the URN as the path prefix.
			for ek, ev := range ext {
				rows = appendValues(rows, key+"."+strings.ToLower(ek), -1, ev)
			}
			continue
		}
		rows = appendValues(rows, key, -1, v)
	}
	return rows
}

func timeRow(path string, t time.Time) indexRow {
	s := t.UTC().Format(time.RFC3339Nano)
	return indexRow{path: path, v: s, lv: strings.ToLower(s), t: t.UnixNano()}
}

// appendValues adds the rows of value v at path. pos is the position in
// the enclosing multi-valued attribute, or -1 outside of one. Arrays
// nested inside a value keep the position of the outer value.
func appendValues(rows []indexRow, path string, pos int, v any) []indexRow {
	switch v := v.(type) {
	case nil:
		return rows
	case map[string]any:
		for k, e := range v {
			rows = appendValues(rows, path+"."+strings.ToLower(k), pos, e)
		}
		return rows
	case []any:
		for i, e := range v {
			p := pos
			if p < 0 {
				p = i
			}
			rows = appendValues(rows, path, p, e)
		}
		return rows
	case []map[string]any:
		for i, e := range v {
			p := pos
			if p < 0 {
				p = i
			}
			rows = appendValues(rows, path, p, e)
		}
		return rows
	case []string:
		for i, e := range v {
			p := pos
			if p < 0 {
				p = i
			}
			rows = appendValues(rows, path, p, e)
		}
		return rows
	}

	r := indexRow{path: path, pos: max(pos, 0)}
	switch v := v.(type) {
	case string:
		r.v, r.lv = v, strings.ToLower(v)
		if t, ok := parseDateTime(v); ok {
			r.t = t.UnixNano()
		}
	case bool:
		b := int64(0)
		if v {
			b = 1
		}
		r.v, r.lv = b, b
	case int64, float64:
		r.v, r.lv = v, v
	case int:
		r.v, r.lv = int64(v), int64(v)
	case int32:
		r.v, r.lv = int64(v), int64(v)
	case float32:
		r.v, r.lv = float64(v), float64(v)
	case time.Time:
		s := v.UTC().Format(time.RFC3339Nano)
		r.v, r.lv, r.t = s, strings.ToLower(s), v.UnixNano()
	case json.Number:
		n := unmarkNumbers(v)
		r.v, r.lv = n, n
	default:
		s := fmt.Sprint(v)
		r.v, r.lv = s, strings.ToLower(s)
	}
	return append(rows, r)
}

// parseDateTime parses an xsd:dateTime value as RFC 7643 §2.3.5 defines
// it, which in practice is RFC 3339 with an optional fraction.
func parseDateTime(s string) (time.Time, bool) {
	if len(s) < 19 || s[4] != '-' || s[10] != 'T' {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}
