package mongodb

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// index is one index the backend declares. Every filter and sort the
// backend sends must be served by a prefix of one of them. The tests
// check that against the commands sent during the conformance run.
type index struct {
	collection string
	keys       bson.D
	unique     bool
}

// wildcardSearch is the key of the wildcard index over the search copy.
const wildcardSearch = "s.$**"

// indexes lists every index except the implicit one on _id. A sort by
// one of the listed fields followed by _id (the tie-breaker) is served by
// that index, and so is a sort by the unique userName or displayName. A
// sort by any other attribute is served by the wildcard index, without
// the tie-breaker.
//
// The groups collection has a compound wildcard index, which needs
// MongoDB 7.0 or later.
var indexes = []index{
	{colUsers, bson.D{{Key: "s.userName", Value: 1}}, true},
	{colUsers, bson.D{{Key: "s.externalId~cs", Value: 1}}, false},
	{colUsers, bson.D{{Key: "created", Value: 1}, {Key: "_id", Value: 1}}, false},
	{colUsers, bson.D{{Key: "lastModified", Value: 1}, {Key: "_id", Value: 1}}, false},
	{colUsers, bson.D{{Key: "s.displayName", Value: 1}, {Key: "_id", Value: 1}}, false},
	{colUsers, bson.D{{Key: "s.name.familyName", Value: 1}, {Key: "_id", Value: 1}}, false},
	{colUsers, bson.D{{Key: "s.name.givenName", Value: 1}, {Key: "_id", Value: 1}}, false},
	{colUsers, bson.D{{Key: wildcardSearch, Value: 1}}, false},
	// A tenant's users (see fieldTenants) in the same orders. The
	// tenants key is multikey, so it cannot lead a compound wildcard
	// index: within a sandbox other attributes sort through the
	// wildcard index above.
	{colUsers, bson.D{{Key: fieldTenants, Value: 1}, {Key: "_id", Value: 1}}, false},
	{colUsers, bson.D{{Key: fieldTenants, Value: 1}, {Key: "s.userName", Value: 1}}, false},
	{colUsers, bson.D{{Key: fieldTenants, Value: 1}, {Key: "created", Value: 1}, {Key: "_id", Value: 1}}, false},
	{colUsers, bson.D{{Key: fieldTenants, Value: 1}, {Key: "lastModified", Value: 1}, {Key: "_id", Value: 1}}, false},
	{colUsers, bson.D{{Key: fieldTenants, Value: 1}, {Key: "s.displayName", Value: 1}, {Key: "_id", Value: 1}}, false},
	{colUsers, bson.D{{Key: fieldTenants, Value: 1}, {Key: "s.name.familyName", Value: 1}, {Key: "_id", Value: 1}}, false},
	{colUsers, bson.D{{Key: fieldTenants, Value: 1}, {Key: "s.name.givenName", Value: 1}, {Key: "_id", Value: 1}}, false},

	{colGroups, bson.D{{Key: "tenant", Value: 1}, {Key: "_id", Value: 1}}, false},
	{colGroups, bson.D{{Key: "tenant", Value: 1}, {Key: "s.displayName", Value: 1}}, true},
	{colGroups, bson.D{{Key: "tenant", Value: 1}, {Key: "s.externalId~cs", Value: 1}}, false},
	{colGroups, bson.D{{Key: "tenant", Value: 1}, {Key: "created", Value: 1}, {Key: "_id", Value: 1}}, false},
	{colGroups, bson.D{{Key: "tenant", Value: 1}, {Key: "lastModified", Value: 1}, {Key: "_id", Value: 1}}, false},
	{colGroups, bson.D{{Key: "tenant", Value: 1}, {Key: wildcardSearch, Value: 1}}, false},

	{colMemberships, bson.D{{Key: "groupId", Value: 1}, {Key: "userId", Value: 1}}, true},
	{colMemberships, bson.D{{Key: "tenant", Value: 1}, {Key: "userId", Value: 1}}, false},
	{colMemberships, bson.D{{Key: "userId", Value: 1}}, false},

	{colTenantUsers, bson.D{{Key: "tenant", Value: 1}, {Key: "userId", Value: 1}}, true},
	{colTenantUsers, bson.D{{Key: "userId", Value: 1}}, false},

	{colSandboxes, bson.D{{Key: "key", Value: 1}}, true},

	{colCredentials, bson.D{{Key: "hash", Value: 1}}, true},
	{colCredentials, bson.D{{Key: "tenant", Value: 1}}, false},
}

// createIndexes creates the declared indexes; creating an index that
// exists with the same options is a no-op.
func (s *Store) createIndexes(ctx context.Context, withoutWildcard bool) error {
	byCollection := map[string][]mongo.IndexModel{}
	var order []string
	for _, ix := range indexes {
		if withoutWildcard && ix.keys[len(ix.keys)-1].Key == wildcardSearch {
			continue
		}
		model := mongo.IndexModel{Keys: ix.keys}
		if ix.unique {
			model.Options = options.Index().SetUnique(true)
		}
		if _, ok := byCollection[ix.collection]; !ok {
			order = append(order, ix.collection)
		}
		byCollection[ix.collection] = append(byCollection[ix.collection], model)
	}
	for _, name := range order {
		if _, err := s.db.Collection(name).Indexes().CreateMany(ctx, byCollection[name]); err != nil {
			return fmt.Errorf("create indexes on %s: %w", name, err)
		}
	}
	return nil
}
