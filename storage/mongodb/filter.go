package mongodb

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/scimd/scimd/schemas"
)

// matchNone is a filter that matches no document.
var matchNone = bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{}}}}}

// translator turns a schemas.Filter into a MongoDB query document on the
// users collection (groups false) or the groups collection of tenant.
//
// A user's groups and a group's members live in the memberships
// collection. `groups pr` is the user's tenant listing (see
// fieldTenants). Any other filter on them is resolved first, by queries
// on the groups or users and the memberships, into an $in list of ids.
//
// NOTE: those $in lists grow with the number of matching memberships.
// `groups.value eq` lists one group's members (100,000 for the largest
// groups scimd is sized for, about 4 MB of query) unless it is the
// whole filter of an unsorted query (see Store.groupMemberUsers);
// `members.value eq` lists one user's groups. `members pr` and filters on display names or on
// several groups are bounded only by the tenant, and MongoDB rejects
// query documents over 16 MiB (about 400,000 ids).
type translator struct {
	s      *Store
	tenant string
	groups bool
}

func (tr *translator) filter(ctx context.Context, f schemas.Filter) (bson.D, error) {
	switch f := f.(type) {
	case nil:
		return bson.D{}, nil
	case schemas.And:
		return tr.logical(ctx, "$and", f.Left, f.Right)
	case schemas.Or:
		return tr.logical(ctx, "$or", f.Left, f.Right)
	case schemas.Not:
		inner, err := tr.filter(ctx, f.Filter)
		if err != nil {
			return nil, err
		}
		// $nor also matches documents that lack the field, as NOT does.
		return bson.D{{Key: "$nor", Value: bson.A{inner}}}, nil
	case schemas.Compare:
		return tr.compare(ctx, f)
	case schemas.ValuePath:
		return tr.valuePath(ctx, f)
	default:
		return nil, fmt.Errorf("translate filter: unexpected node %T", f)
	}
}

func (tr *translator) logical(ctx context.Context, op string, left, right schemas.Filter) (bson.D, error) {
	l, err := tr.filter(ctx, left)
	if err != nil {
		return nil, err
	}
	r, err := tr.filter(ctx, right)
	if err != nil {
		return nil, err
	}
	return bson.D{{Key: op, Value: bson.A{l, r}}}, nil
}

func (tr *translator) compare(ctx context.Context, c schemas.Compare) (bson.D, error) {
	name := c.Path.Attr.Name
	switch {
	case c.Path.Extension() != "":
		return condition(searchField(c.Path.Keys(), c.Path.Leaf()), c.Path.Leaf(), c.Op, c.Value)
	case strings.EqualFold(name, "id"):
		return condition("_id", c.Path.Leaf(), c.Op, c.Value)
	case strings.EqualFold(name, "meta") && c.Path.Sub != nil:
		return tr.meta(c)
	case strings.EqualFold(name, "groups") && !tr.groups,
		strings.EqualFold(name, "members") && tr.groups:
		return tr.viaMemberships(ctx, c)
	}
	return condition(searchField(c.Path.Keys(), c.Path.Leaf()), c.Path.Leaf(), c.Op, c.Value)
}

func (tr *translator) valuePath(ctx context.Context, v schemas.ValuePath) (bson.D, error) {
	name := v.Path.Attr.Name
	if v.Path.Extension() == "" &&
		(strings.EqualFold(name, "groups") && !tr.groups || strings.EqualFold(name, "members") && tr.groups) {
		return tr.viaMemberships(ctx, v.Filter)
	}
	if !v.Path.Attr.MultiValued {
		// A singular complex attribute has one value: the inner filter
		// applies to it directly.
		return tr.filter(ctx, v.Filter)
	}
	inner, err := elementFilter(v.Filter, func(c schemas.Compare) (bson.D, error) {
		// Fields inside $elemMatch are relative to the array element.
		return condition(leafField(encodeKey(c.Path.Leaf().Name), c.Path.Leaf()), c.Path.Leaf(), c.Op, c.Value)
	})
	if err != nil {
		return nil, err
	}
	field := "s." + fieldPath(v.Path.Keys())
	return bson.D{{Key: field, Value: bson.D{{Key: "$elemMatch", Value: inner}}}}, nil
}

// elementFilter translates the filter inside a complex value filter, with
// compare translating each comparison.
func elementFilter(f schemas.Filter, compare func(schemas.Compare) (bson.D, error)) (bson.D, error) {
	switch f := f.(type) {
	case schemas.And, schemas.Or:
		op, left, right := "$and", schemas.Filter(nil), schemas.Filter(nil)
		if a, ok := f.(schemas.And); ok {
			left, right = a.Left, a.Right
		} else {
			o := f.(schemas.Or)
			op, left, right = "$or", o.Left, o.Right
		}
		l, err := elementFilter(left, compare)
		if err != nil {
			return nil, err
		}
		r, err := elementFilter(right, compare)
		if err != nil {
			return nil, err
		}
		return bson.D{{Key: op, Value: bson.A{l, r}}}, nil
	case schemas.Not:
		inner, err := elementFilter(f.Filter, compare)
		if err != nil {
			return nil, err
		}
		return bson.D{{Key: "$nor", Value: bson.A{inner}}}, nil
	case schemas.Compare:
		return compare(f)
	default:
		return nil, schemas.Errorf("invalidFilter", "unexpected expression inside a complex attribute filter")
	}
}

// searchField returns the field of the search copy that a comparison on
// the attribute at keys uses.
func searchField(keys []string, leaf *schemas.Attribute) string {
	return leafField("s."+fieldPath(keys), leaf)
}

// leafField returns the variant of field that a comparison on leaf uses:
// the date twin, the case-exact twin or the folded field itself.
func leafField(field string, leaf *schemas.Attribute) string {
	switch leaf.Type {
	case schemas.DateTime:
		return field + dateSuffix
	case schemas.String, schemas.Reference, schemas.Binary:
		if leaf.CaseExact {
			return field + caseExactSuffix
		}
	}
	return field
}

// condition returns the query document for one comparison on field.
// Values of case-insensitive string attributes are folded as the search
// copy is.
func condition(field string, leaf *schemas.Attribute, op schemas.Operator, value any) (bson.D, error) {
	if op == schemas.Pr {
		field = strings.TrimSuffix(strings.TrimSuffix(field, dateSuffix), caseExactSuffix)
		return bson.D{{Key: field, Value: bson.D{
			{Key: "$exists", Value: true},
			{Key: "$nin", Value: bson.A{nil, "", bson.A{}, bson.D{}}},
		}}}, nil
	}
	if str, ok := value.(string); ok && !leaf.CaseExact && field != "_id" {
		value = fold(str)
	}
	if t, ok := value.(time.Time); ok {
		value = t.UTC()
	}
	switch op {
	case schemas.Eq:
		return bson.D{{Key: field, Value: value}}, nil
	case schemas.Ne:
		return bson.D{{Key: field, Value: bson.D{{Key: "$ne", Value: value}}}}, nil
	case schemas.Gt, schemas.Ge, schemas.Lt, schemas.Le:
		return bson.D{{Key: field, Value: bson.D{{Key: rangeOperators[op], Value: value}}}}, nil
	case schemas.Co, schemas.Sw, schemas.Ew:
		str, ok := value.(string)
		if !ok {
			return nil, schemas.Errorf("invalidFilter", "operator %s needs a string value", op)
		}
		field = strings.TrimSuffix(field, dateSuffix)
		return bson.D{{Key: field, Value: bson.D{{Key: "$regex", Value: substringPattern(op, str)}}}}, nil
	default:
		return nil, schemas.Errorf("invalidFilter", "unknown operator %q", op)
	}
}

var rangeOperators = map[schemas.Operator]string{
	schemas.Gt: "$gt", schemas.Ge: "$gte", schemas.Lt: "$lt", schemas.Le: "$lte",
}

// substringPattern returns a regular expression that matches strings
// containing, starting with or ending with s; s is quoted, so its
// metacharacters match literally.
func substringPattern(op schemas.Operator, s string) string {
	quoted := regexp.QuoteMeta(s)
	switch op {
	case schemas.Sw:
		return `^` + quoted
	case schemas.Ew:
		return quoted + `\z`
	default:
		return quoted
	}
}

// meta translates comparisons on meta sub-attributes, which the store
// keeps outside the attributes or derives.
func (tr *translator) meta(c schemas.Compare) (bson.D, error) {
	sub := c.Path.Sub.Name
	switch {
	case strings.EqualFold(sub, "created"):
		return condition("created", c.Path.Sub, c.Op, c.Value)
	case strings.EqualFold(sub, "lastModified"):
		return condition("lastModified", c.Path.Sub, c.Op, c.Value)
	case strings.EqualFold(sub, "resourceType"):
		resourceType := "User"
		if tr.groups {
			resourceType = "Group"
		}
		return constant(resourceType, c)
	case strings.EqualFold(sub, "version"):
		return tr.version(c)
	default:
		return nil, schemas.Errorf("invalidFilter", "filtering on meta.%s is not supported", sub)
	}
}

// version translates a comparison on meta.version, an ETag such as
// W/"3", into a comparison on the stored version number.
func (tr *translator) version(c schemas.Compare) (bson.D, error) {
	if c.Op == schemas.Pr {
		return bson.D{}, nil
	}
	str, _ := c.Value.(string)
	n, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(str, "W/"), `"`), 10, 64)
	if err != nil || (c.Op != schemas.Eq && c.Op != schemas.Ne) {
		return nil, schemas.Errorf("invalidFilter", "meta.version supports eq and ne with an ETag value")
	}
	if c.Op == schemas.Eq {
		return bson.D{{Key: "version", Value: n}}, nil
	}
	return bson.D{{Key: "version", Value: bson.D{{Key: "$ne", Value: n}}}}, nil
}

// constant evaluates a comparison on a value that every resource of the
// collection shares, such as meta.resourceType.
func constant(stored string, c schemas.Compare) (bson.D, error) {
	if c.Op == schemas.Pr {
		return bson.D{}, nil
	}
	want, ok := c.Value.(string)
	if !ok {
		return matchNone, nil
	}
	a, b := fold(stored), fold(want)
	if c.Path.Leaf().CaseExact {
		a, b = stored, want
	}
	var match bool
	switch c.Op {
	case schemas.Eq:
		match = a == b
	case schemas.Ne:
		match = a != b
	case schemas.Co:
		match = strings.Contains(a, b)
	case schemas.Sw:
		match = strings.HasPrefix(a, b)
	case schemas.Ew:
		match = strings.HasSuffix(a, b)
	case schemas.Gt:
		match = a > b
	case schemas.Ge:
		match = a >= b
	case schemas.Lt:
		match = a < b
	case schemas.Le:
		match = a <= b
	}
	if match {
		return bson.D{}, nil
	}
	return matchNone, nil
}

// viaMemberships translates a filter on a user's groups or a group's
// members into an $in list of the ids of the resources that have a
// matching group or member. The filter is one comparison or the filter
// inside a complex value filter. ne on one comparison is the negation of
// eq, as for any other multi-valued attribute.
func (tr *translator) viaMemberships(ctx context.Context, f schemas.Filter) (bson.D, error) {
	if c, ok := f.(schemas.Compare); ok && c.Op == schemas.Ne {
		c.Op = schemas.Eq
		in, err := tr.viaMemberships(ctx, c)
		if err != nil {
			return nil, err
		}
		return bson.D{{Key: "$nor", Value: bson.A{in}}}, nil
	}
	if c, ok := f.(schemas.Compare); ok && c.Op == schemas.Pr && !tr.groups {
		// A user has a group in the tenant exactly when it is listed in
		// the tenant (see fieldTenants).
		return bson.D{{Key: fieldTenants, Value: tr.tenant}}, nil
	}
	var ids []string
	var err error
	if tr.groups {
		ids, err = tr.groupsWithMembers(ctx, f)
	} else {
		ids, err = tr.usersInGroups(ctx, f)
	}
	if err != nil {
		return nil, err
	}
	return bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: nonNil(ids)}}}}, nil
}

// usersInGroups returns the ids of users in a group of the tenant that
// matches f, a filter on the sub-attributes of a user's groups.
func (tr *translator) usersInGroups(ctx context.Context, f schemas.Filter) ([]string, error) {
	groupFilter, err := elementFilter(f, func(c schemas.Compare) (bson.D, error) {
		return tr.refCondition(c, "s.displayName", "Group")
	})
	if err != nil {
		return nil, err
	}
	groupIDs, err := tr.s.ids(ctx, tr.s.groups, bson.D{
		{Key: "tenant", Value: tr.tenant},
		{Key: "$and", Value: bson.A{groupFilter}},
	})
	if err != nil || len(groupIDs) == 0 {
		return nil, err
	}
	return tr.s.distinctStrings(ctx, tr.s.memberships, "userId",
		bson.D{{Key: "groupId", Value: bson.D{{Key: "$in", Value: groupIDs}}}})
}

// groupsWithMembers returns the ids of the tenant's groups with a member
// that matches f, a filter on the sub-attributes of a group's members.
func (tr *translator) groupsWithMembers(ctx context.Context, f schemas.Filter) ([]string, error) {
	if c, ok := f.(schemas.Compare); ok && c.Op == schemas.Pr {
		return tr.s.distinctStrings(ctx, tr.s.memberships, "groupId", bson.D{{Key: "tenant", Value: tr.tenant}})
	}
	userFilter, err := elementFilter(f, func(c schemas.Compare) (bson.D, error) {
		return tr.refCondition(c, "", "User")
	})
	if err != nil {
		return nil, err
	}
	userIDs, err := tr.s.ids(ctx, tr.s.users, userFilter)
	if err != nil || len(userIDs) == 0 {
		return nil, err
	}
	return tr.s.distinctStrings(ctx, tr.s.memberships, "groupId", bson.D{
		{Key: "tenant", Value: tr.tenant},
		{Key: "userId", Value: bson.D{{Key: "$in", Value: userIDs}}},
	})
}

// refCondition translates a comparison on a sub-attribute of a group or
// member reference into a condition on the referenced resource. value is
// its id and type the constant typ. display is the field displayField,
// or for users (displayField "") displayName, or userName when it has
// none.
func (tr *translator) refCondition(c schemas.Compare, displayField, typ string) (bson.D, error) {
	leaf := c.Path.Leaf()
	switch {
	case strings.EqualFold(leaf.Name, "value"):
		return condition("_id", leaf, c.Op, c.Value)
	case strings.EqualFold(leaf.Name, "type"):
		return constant(typ, c)
	case strings.EqualFold(leaf.Name, "display") && displayField != "":
		return condition(searchField([]string{"displayName"}, leaf), leaf, c.Op, c.Value)
	case strings.EqualFold(leaf.Name, "display"):
		return userDisplayCondition(c)
	default:
		return nil, schemas.Errorf("invalidFilter", "filtering on %s is not supported", c.Path)
	}
}

// userDisplayCondition compares a user's display text: displayName, or
// userName for users without one.
func userDisplayCondition(c schemas.Compare) (bson.D, error) {
	leaf := c.Path.Leaf()
	byDisplayName, err := condition(searchField([]string{"displayName"}, leaf), leaf, c.Op, c.Value)
	if err != nil {
		return nil, err
	}
	byUserName, err := condition(searchField([]string{"userName"}, leaf), leaf, c.Op, c.Value)
	if err != nil {
		return nil, err
	}
	noDisplayName := bson.D{{Key: "s.displayName", Value: bson.D{{Key: "$exists", Value: false}}}}
	return bson.D{{Key: "$or", Value: bson.A{
		byDisplayName,
		bson.D{{Key: "$and", Value: bson.A{noDisplayName, byUserName}}},
	}}}, nil
}
