package mongodb

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/scimd/scimd/schemas"
)

// TestTranslateFilter pins the query documents of filters that need no
// membership lookup, including the $elemMatch forms that FerretDB cannot
// run.
func TestTranslateFilter(t *testing.T) {
	pr := bson.D{{Key: "$exists", Value: true}, {Key: "$nin", Value: bson.A{nil, "", bson.A{}, bson.D{}}}}
	tests := []struct {
		filter string
		want   bson.D
	}{
		{`userName eq "BJensen"`, bson.D{{Key: "s.userName", Value: "bjensen"}}},
		{`userName sw "A+b"`, bson.D{{Key: "s.userName", Value: bson.D{{Key: "$regex", Value: `^a\+b`}}}}},
		{`userName ew "x.y"`, bson.D{{Key: "s.userName", Value: bson.D{{Key: "$regex", Value: `x\.y\z`}}}}},
		{`externalId co "A(1)"`, bson.D{{Key: "s.externalId~cs", Value: bson.D{{Key: "$regex", Value: `A\(1\)`}}}}},
		{`title ge "M"`, bson.D{{Key: "s.title", Value: bson.D{{Key: "$gte", Value: "m"}}}}},
		{`not (title pr)`, bson.D{{Key: "$nor", Value: bson.A{bson.D{{Key: "s.title", Value: pr}}}}}},
		{`meta.lastModified gt "2024-01-01T00:00:00+01:00"`, bson.D{{Key: "lastModified", Value: bson.D{
			{Key: "$gt", Value: time.Date(2023, 12, 31, 23, 0, 0, 0, time.UTC)},
		}}}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "7"`, bson.D{
			{Key: "s.urn:ietf:params:scim:schemas:extension:enterprise:2\uff0e0:User.employeeNumber", Value: "7"},
		}},
		{`emails[type eq "Work" and value co "@x.org"]`, bson.D{{Key: "s.emails", Value: bson.D{{Key: "$elemMatch", Value: bson.D{
			{Key: "$and", Value: bson.A{
				bson.D{{Key: "type", Value: "work"}},
				bson.D{{Key: "value", Value: bson.D{{Key: "$regex", Value: `@x\.org`}}}},
			}},
		}}}}}},
		{`emails[not (primary eq true)]`, bson.D{{Key: "s.emails", Value: bson.D{{Key: "$elemMatch", Value: bson.D{
			{Key: "$nor", Value: bson.A{bson.D{{Key: "primary", Value: true}}}},
		}}}}}},
		{`meta.resourceType eq "User"`, bson.D{}},
		{`meta.resourceType eq "Group"`, matchNone},
	}
	tr := &translator{tenant: "main"}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			f, err := schemas.User.ParseFilter(tc.filter)
			if err != nil {
				t.Fatalf("parse filter: %v", err)
			}
			got, err := tr.filter(context.Background(), f)
			if err != nil {
				t.Fatalf("translate: %v", err)
			}
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("query (-got +want):\n%s", diff)
			}
		})
	}
}

// TestSearchCopy checks the search copy of a user: folded strings,
// case-exact and date twins, encoded extension keys and arrays of
// documents mirrored element by element.
func TestSearchCopy(t *testing.T) {
	got := searchCopy(map[string]any{
		"userName":                "BJensen",
		"active":                  true,
		"emails":                  []any{map[string]any{"value": "A@X.org", "primary": true}},
		"roles":                   []any{"Admin"},
		"nickName":                "2024-01-01T01:00:00+01:00",
		schemas.EnterpriseUserURN: map[string]any{"employeeNumber": "7"},
	})
	want := bson.M{
		"userName": "bjensen", "userName~cs": "BJensen",
		"active": true,
		"emails": bson.A{bson.M{"value": "a@x.org", "value~cs": "A@X.org", "primary": true}},
		"roles":  bson.A{"admin"}, "roles~cs": bson.A{"Admin"},
		"nickName": "2024-01-01t01:00:00+01:00", "nickName~cs": "2024-01-01T01:00:00+01:00",
		"nickName~dt": time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		"urn:ietf:params:scim:schemas:extension:enterprise:2\uff0e0:User": bson.M{
			"employeeNumber": "7", "employeeNumber~cs": "7",
		},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("search copy (-got +want):\n%s", diff)
	}
}
