package mongodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Tenant listings. Each user document keeps under fieldTenants the keys
// of the tenants (main account or sandbox) in whose groups it is a
// member, and the colTenantUsers collection keeps one counter document
// {tenant, userId, n} per such pair with the number of its memberships
// there. A sandbox's user list is then the query {tenants: key}, served
// by the (tenants, ...) indexes, whatever the sandbox's size. The array
// is bounded by the number of tenants the user belongs to.
//
// A tenant key is added to a user before its first membership there is
// written, and removed only after a recount of the memberships finds
// none or when its sandbox is deleted. In a transaction (replica set,
// sharded cluster) the membership, its counter, the user's array and
// the user's version change together. Without one the writes are
// ordered so that a crash leaves a counter too low, never too high, and
// a user listed in a tenant where it has no group, never hidden from one
// where it has:
//
//   - adding: the key goes onto the users, then the memberships are
//     inserted, then the versions of the users with a new membership go
//     up, then the counters of the new memberships go up;
//   - removing: the counters go down, then the memberships are deleted,
//     then the versions of their users go up. Last, every counter at or
//     below zero is recounted from the memberships, and the key is
//     pulled when the recount is zero.
//
// A user's version follows its memberships because each tenant's view
// of the user lists its groups (see storage.User.Version). It goes up
// right after the memberships are written, so that a retry, which finds
// nothing left to change, is not needed to bump it; only a failure of
// that one write leaves a version unchanged.
//
// A counter left too low is repaired by the recount when it next drops
// to zero. NOTE: without transactions the same guarantee does not hold
// for two processes changing one user's memberships in one tenant at
// the same moment: a recount racing with an insert can unlist a member
// until its next membership change there.
const fieldTenants = "tenants"

// removalBatch is the maximum number of memberships read and removed in
// one batch, and of users whose versions one command bumps, which bounds
// every query document that a membership change sends.
const removalBatch = 1000

type tenantUser struct {
	Tenant string `bson:"tenant"`
	UserID string `bson:"userId"`
}

func (k tenantUser) filter() bson.D {
	return bson.D{{Key: "tenant", Value: k.Tenant}, {Key: "userId", Value: k.UserID}}
}

// addMemberships adds the users to the group, leaving existing
// memberships as they are, and keeps the tenant listings correct (see
// fieldTenants). No other member is read or rewritten.
func (s *Store) addMemberships(ctx context.Context, tenant, groupID string, userIDs []string) error {
	if len(userIDs) == 0 {
		return nil
	}
	_, err := s.users.UpdateMany(ctx,
		bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: userIDs}}}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: fieldTenants, Value: tenant}}}})
	if err != nil {
		return fmt.Errorf("list users in tenant: %w", err)
	}
	added, err := s.insertMemberships(ctx, tenant, groupID, userIDs)
	if err != nil {
		return err
	}
	if len(added) == 0 {
		return nil
	}
	if err := s.bumpUsers(ctx, added); err != nil {
		return err
	}
	models := make([]mongo.WriteModel, 0, len(added))
	for _, u := range added {
		models = append(models, mongo.NewUpdateOneModel().
			SetFilter(tenantUser{tenant, u}.filter()).
			SetUpdate(bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}).
			SetUpsert(true))
	}
	if _, err := s.tenantUsers.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
		return fmt.Errorf("count memberships: %w", err)
	}
	return nil
}

// insertMemberships writes one membership document per user and returns
// the users whose membership is new.
//
// Inside a transaction each membership is an upsert, because any write
// error, a duplicate key included, aborts a MongoDB transaction. Without
// one, plain inserts whose duplicates fail on the unique (groupId,
// userId) index do the same with no lookup.
func (s *Store) insertMemberships(ctx context.Context, tenant, groupID string, userIDs []string) ([]string, error) {
	models := make([]mongo.WriteModel, 0, len(userIDs))
	upsert := s.transactions || s.upsertMemberships
	for _, u := range userIDs {
		key := bson.D{{Key: "groupId", Value: groupID}, {Key: "userId", Value: u}}
		if upsert {
			models = append(models, mongo.NewUpdateOneModel().SetFilter(key).
				SetUpdate(bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "tenant", Value: tenant}}}}).
				SetUpsert(true))
		} else {
			models = append(models, mongo.NewInsertOneModel().
				SetDocument(append(key, bson.E{Key: "tenant", Value: tenant})))
		}
	}
	res, err := s.memberships.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	if upsert {
		if err != nil {
			return nil, fmt.Errorf("insert memberships: %w", err)
		}
		added := make([]string, 0, len(res.UpsertedIDs))
		for i := range res.UpsertedIDs {
			added = append(added, userIDs[i])
		}
		return added, nil
	}

	failed := map[int]bool{}
	if err != nil {
		if !onlyDuplicates(err) {
			return nil, fmt.Errorf("insert memberships: %w", err)
		}
		var bwe mongo.BulkWriteException
		errors.As(err, &bwe)
		for _, we := range bwe.WriteErrors {
			failed[we.Index] = true
		}
	}
	added := make([]string, 0, len(userIDs)-len(failed))
	for i, u := range userIDs {
		if !failed[i] {
			added = append(added, u)
		}
	}
	return added, nil
}

// onlyDuplicates reports whether err is a bulk write error whose every
// write error is a duplicate key and which has no write concern error.
func onlyDuplicates(err error) bool {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return false
	}
	for _, we := range bwe.WriteErrors {
		if !mongo.IsDuplicateKeyError(we) {
			return false
		}
	}
	return true
}

// removeMemberships deletes the memberships matching filter in batches
// of removalBatch and keeps the tenant listings correct (see
// fieldTenants). With touch it also increments the version of every
// group that lost a member. It returns the number of memberships
// deleted.
func (s *Store) removeMemberships(ctx context.Context, filter bson.D, touch bool) (int, error) {
	var total int
	var touched []string
	for {
		page, err := s.findMemberships(ctx, filter)
		if err != nil {
			return 0, err
		}
		if len(page) == 0 {
			break
		}
		n, err := s.removeBatch(ctx, page)
		if err != nil {
			return 0, err
		}
		if n == 0 {
			// The batch was found but nothing was deleted: stop rather
			// than find it again forever.
			return 0, fmt.Errorf("remove memberships: %d found, none deleted", len(page))
		}
		total += n
		for _, m := range page {
			touched = append(touched, m.GroupID)
		}
	}
	if !touch || len(touched) == 0 {
		return total, nil
	}
	slices.Sort(touched)
	return total, s.touchGroups(ctx, slices.Compact(touched))
}

type membership struct {
	GroupID string `bson:"groupId"`
	UserID  string `bson:"userId"`
	Tenant  string `bson:"tenant"`
}

func (s *Store) findMemberships(ctx context.Context, filter bson.D) ([]membership, error) {
	cur, err := s.memberships.Find(ctx, filter, options.Find().
		SetLimit(int64(s.batch)).
		SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "groupId", Value: 1}, {Key: "userId", Value: 1}, {Key: "tenant", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("find memberships: %w", err)
	}
	var page []membership
	if err := cur.All(ctx, &page); err != nil {
		return nil, fmt.Errorf("find memberships: %w", err)
	}
	return page, nil
}

// removeBatch lowers the counters, deletes the memberships, bumps the
// versions of their users and recounts the counters that reached zero,
// in that order (see fieldTenants).
//
// Every user of page gets a new version. Without a transaction a
// concurrent removal may have deleted some of these memberships first,
// so their users get one version more than needed, which is harmless.
func (s *Store) removeBatch(ctx context.Context, page []membership) (int, error) {
	counts := map[tenantUser]int{}
	var keys []tenantUser
	var users []string
	for _, m := range page {
		k := tenantUser{m.Tenant, m.UserID}
		if counts[k] == 0 {
			keys = append(keys, k)
			users = append(users, m.UserID)
		}
		counts[k]++
	}
	slices.Sort(users)
	users = slices.Compact(users)

	decrements := make([]mongo.WriteModel, 0, len(keys))
	for _, k := range keys {
		decrements = append(decrements, mongo.NewUpdateOneModel().SetFilter(k.filter()).
			SetUpdate(bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: -counts[k]}}}}))
	}
	if _, err := s.tenantUsers.BulkWrite(ctx, decrements, options.BulkWrite().SetOrdered(false)); err != nil {
		return 0, fmt.Errorf("count memberships: %w", err)
	}

	deletes := make([]mongo.WriteModel, 0, len(page))
	for _, m := range page {
		deletes = append(deletes, mongo.NewDeleteOneModel().
			SetFilter(bson.D{{Key: "groupId", Value: m.GroupID}, {Key: "userId", Value: m.UserID}}))
	}
	res, err := s.memberships.BulkWrite(ctx, deletes, options.BulkWrite().SetOrdered(false))
	if err != nil {
		return 0, fmt.Errorf("delete memberships: %w", err)
	}
	if err := s.bumpUsers(ctx, users); err != nil {
		return 0, err
	}

	if err := s.recountDrained(ctx, keys); err != nil {
		return 0, err
	}
	return int(res.DeletedCount), nil
}

// recountDrained recounts, from the memberships, every counter of keys
// that is at or below zero. A pair with memberships left gets the right
// count; one without loses its counter and then its tenant key.
func (s *Store) recountDrained(ctx context.Context, keys []tenantUser) error {
	byTenant := map[string][]string{}
	var tenants []string
	for _, k := range keys {
		if byTenant[k.Tenant] == nil {
			tenants = append(tenants, k.Tenant)
		}
		byTenant[k.Tenant] = append(byTenant[k.Tenant], k.UserID)
	}
	for _, tenant := range tenants {
		cur, err := s.tenantUsers.Find(ctx, bson.D{
			{Key: "tenant", Value: tenant},
			{Key: "userId", Value: bson.D{{Key: "$in", Value: byTenant[tenant]}}},
			{Key: "n", Value: bson.D{{Key: "$lte", Value: 0}}},
		}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "tenant", Value: 1}, {Key: "userId", Value: 1}}))
		if err != nil {
			return fmt.Errorf("find drained counters: %w", err)
		}
		var drained []tenantUser
		if err := cur.All(ctx, &drained); err != nil {
			return fmt.Errorf("find drained counters: %w", err)
		}
		for _, k := range drained {
			if err := s.recount(ctx, k); err != nil {
				return err
			}
		}
	}
	return nil
}

// recount sets the counter of k to the number of the user's memberships
// in the tenant, and unlists the user from the tenant when it has none.
// It also repairs a counter that a failure without a transaction left
// too low.
func (s *Store) recount(ctx context.Context, k tenantUser) error {
	n, err := s.memberships.CountDocuments(ctx, k.filter())
	if err != nil {
		return fmt.Errorf("recount memberships of %q in %q: %w", k.UserID, k.Tenant, err)
	}
	if n > 0 {
		s.logger.WarnContext(ctx, "mongodb: membership counter was too low, recounted",
			"tenant", k.Tenant, "user", k.UserID, "memberships", n)
		_, err := s.tenantUsers.UpdateOne(ctx, k.filter(), bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: n}}}})
		if err != nil {
			return fmt.Errorf("recount memberships of %q in %q: %w", k.UserID, k.Tenant, err)
		}
		return nil
	}
	// Guarded by the count, so that a membership counted concurrently
	// keeps both its counter and its tenant key.
	res, err := s.tenantUsers.DeleteOne(ctx, append(k.filter(), bson.E{Key: "n", Value: bson.D{{Key: "$lte", Value: 0}}}))
	if err != nil {
		return fmt.Errorf("delete counter of %q in %q: %w", k.UserID, k.Tenant, err)
	}
	if res.DeletedCount == 0 {
		return nil
	}
	_, err = s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: k.UserID}},
		bson.D{{Key: "$pull", Value: bson.D{{Key: fieldTenants, Value: k.Tenant}}}})
	if err != nil {
		return fmt.Errorf("unlist user %q from tenant %q: %w", k.UserID, k.Tenant, err)
	}
	return nil
}

// touchGroups increments the version of the groups whose members changed.
func (s *Store) touchGroups(ctx context.Context, ids []string) error {
	_, err := s.groups.UpdateMany(ctx,
		bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		bson.D{
			{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
			{Key: "$set", Value: bson.D{{Key: "lastModified", Value: time.Now().UTC()}}},
		})
	if err != nil {
		return fmt.Errorf("touch groups: %w", err)
	}
	return nil
}

// bumpUsers increments the version of each user of ids after a change
// of its memberships, sending at most s.batch ids per command. An
// id with no user (one being deleted) matches nothing.
func (s *Store) bumpUsers(ctx context.Context, ids []string) error {
	for batch := range slices.Chunk(ids, s.batch) {
		_, err := s.users.UpdateMany(ctx,
			bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: batch}}}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
		if err != nil {
			return fmt.Errorf("bump versions of %d users: %w", len(batch), err)
		}
	}
	return nil
}
