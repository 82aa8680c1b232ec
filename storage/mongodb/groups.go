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

	"github.com/scimd/scimd/storage"
)

func groupDoc(g *storage.Group) bson.D {
	return bson.D{
		{Key: "_id", Value: g.ID},
		{Key: "tenant", Value: g.Tenant},
		{Key: "a", Value: storedAttributes(g.Attributes)},
		{Key: "s", Value: searchCopy(g.Attributes)},
		{Key: "created", Value: g.Created},
		{Key: "lastModified", Value: g.LastModified},
		{Key: "version", Value: g.Version},
	}
}

func (d *resourceDoc) group() (*storage.Group, error) {
	attrs, err := attributesOf(d.Attributes)
	if err != nil {
		return nil, fmt.Errorf("decode group %q: %w", d.ID, err)
	}
	return &storage.Group{
		ID:           d.ID,
		Tenant:       d.Tenant,
		Attributes:   attrs,
		Created:      d.Created.UTC(),
		LastModified: d.LastModified.UTC(),
		Version:      d.Version,
	}, nil
}

func groupKey(tenant, id string) bson.D {
	return bson.D{{Key: "tenant", Value: tenant}, {Key: "_id", Value: id}}
}

// CreateGroup checks that the sandbox, if any, and every member exist,
// then inserts the group and its memberships (see claimSandbox and
// recheckSandbox for a concurrent DeleteSandbox). Without a transaction a
// failure after the group insert leaves the group with part of its
// members.
func (s *Store) CreateGroup(ctx context.Context, g *storage.Group, members []string) error {
	op := fmt.Sprintf("create group %q", g.DisplayName())
	g.Version = 1
	inSandbox := g.Tenant != storage.MainTenant
	err := s.inTransaction(ctx, func(ctx context.Context) error {
		if inSandbox {
			if err := s.claimSandbox(ctx, g.Tenant); err != nil {
				return err
			}
		}
		if err := s.checkUsersExist(ctx, members); err != nil {
			return err
		}
		if _, err := s.groups.InsertOne(ctx, groupDoc(g)); err != nil {
			return err
		}
		return s.addMemberships(ctx, g.Tenant, g.ID, members)
	})
	// NOTE: without transactions a failure here leaves the group with
	// part of its members; the caller sees the error and may retry.
	if err == nil && inSandbox && !s.transactions {
		err = s.recheckSandbox(ctx, g.Tenant)
	}
	return translate(op, err)
}

// GetGroup reads one group of the tenant.
func (s *Store) GetGroup(ctx context.Context, tenant, id string) (*storage.Group, error) {
	g, err := s.getGroup(ctx, tenant, id)
	return g, translate(fmt.Sprintf("get group %q", id), err)
}

func (s *Store) getGroup(ctx context.Context, tenant, id string) (*storage.Group, error) {
	var d resourceDoc
	err := s.groups.FindOne(ctx, groupKey(tenant, id),
		options.FindOne().SetProjection(withoutSearch)).Decode(&d)
	if err != nil {
		return nil, err
	}
	return d.group()
}

// UpdateGroup stores the new attributes guarded by the version read, then
// applies the membership change one membership at a time. Member ids are
// checked before anything is written, so with or without a transaction a
// *MemberNotFoundError changes nothing.
func (s *Store) UpdateGroup(ctx context.Context, tenant, id string, now time.Time,
	update func(*storage.Group) (*storage.MemberChange, error)) (*storage.Group, error) {
	op := fmt.Sprintf("update group %q", id)
	for attempt := range maxUpdateAttempts {
		if attempt > 0 {
			s.logger.DebugContext(ctx, "mongodb: group changed since read, retrying update",
				"group", id, "tenant", tenant, "attempt", attempt+1)
		}
		var g *storage.Group
		var stored bool
		err := s.inTransaction(ctx, func(ctx context.Context) error {
			var err error
			g, stored, err = s.updateGroupOnce(ctx, tenant, id, now, update)
			return err
		})
		if err != nil {
			return nil, translate(op, err)
		}
		if stored {
			return g, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
	return nil, fmt.Errorf("%s: version changed %d times in a row", op, maxUpdateAttempts)
}

// updateGroupOnce makes one attempt; stored is false when the version
// changed after the read.
func (s *Store) updateGroupOnce(ctx context.Context, tenant, id string, now time.Time,
	update func(*storage.Group) (*storage.MemberChange, error)) (*storage.Group, bool, error) {
	g, err := s.getGroup(ctx, tenant, id)
	if err != nil {
		return nil, false, err
	}
	read := g.Version
	change, err := update(g)
	if err != nil {
		return nil, false, err
	}
	if change != nil {
		if err := s.checkUsersExist(ctx, slices.Concat(change.Set, change.Add)); err != nil {
			return nil, false, err
		}
	}
	g.ID, g.Tenant = id, tenant
	g.Version = read + 1
	g.LastModified = now
	res, err := s.groups.UpdateOne(ctx,
		bson.D{{Key: "tenant", Value: tenant}, {Key: "_id", Value: id}, {Key: "version", Value: read}},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "a", Value: storedAttributes(g.Attributes)},
			{Key: "s", Value: searchCopy(g.Attributes)},
			{Key: "lastModified", Value: now},
			{Key: "version", Value: g.Version},
		}}})
	if err != nil {
		return nil, false, err
	}
	if res.MatchedCount == 0 {
		return nil, false, nil
	}
	if err := s.applyMemberChange(ctx, tenant, id, change); err != nil {
		return nil, false, err
	}
	return g, true, nil
}

// applyMemberChange writes a membership change as single-membership
// writes. It reads no member that the change keeps, except that a
// replacement reads the members it removes.
func (s *Store) applyMemberChange(ctx context.Context, tenant, groupID string, change *storage.MemberChange) error {
	if change == nil {
		return nil
	}
	if change.Replace {
		_, err := s.removeMemberships(ctx, bson.D{
			{Key: "groupId", Value: groupID},
			{Key: "userId", Value: bson.D{{Key: "$nin", Value: nonNil(change.Set)}}},
		}, false)
		if err != nil {
			return err
		}
		return s.addMemberships(ctx, tenant, groupID, change.Set)
	}
	if err := s.addMemberships(ctx, tenant, groupID, change.Add); err != nil {
		return err
	}
	if len(change.Remove) == 0 {
		return nil
	}
	_, err := s.removeMemberships(ctx, bson.D{
		{Key: "groupId", Value: groupID},
		{Key: "userId", Value: bson.D{{Key: "$in", Value: change.Remove}}},
	}, false)
	return err
}

// checkUsersExist returns a *MemberNotFoundError for the first id of ids
// that names no user.
func (s *Store) checkUsersExist(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	found, err := s.existingUsers(ctx, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !found[id] {
			return &storage.MemberNotFoundError{UserID: id}
		}
	}
	return nil
}

func (s *Store) existingUsers(ctx context.Context, ids []string) (map[string]bool, error) {
	cur, err := s.users.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	found := make(map[string]bool, len(docs))
	for _, d := range docs {
		found[d.ID] = true
	}
	return found, nil
}

// DeleteGroup deletes the group's memberships, the group, and once more
// any membership added concurrently in between. Without a transaction a
// failure half-way leaves a group with fewer members, and a retry
// finishes the deletion.
//
// The version is checked when the group is read and again in the filter
// of the group's own delete, so that a change in between aborts with
// ErrVersionMismatch. A transaction then undoes the removed memberships.
//
// NOTE: without a transaction, a change of the group between the first
// check and the group's delete leaves the group without the members
// removed so far, although the call fails with ErrVersionMismatch.
//
// NOTE: with transactions the whole deletion is one transaction of about
// three writes per member, batched by removalBatch. For a group of
// 100,000 members that has not been measured against MongoDB's default
// 60-second transaction lifetime.
func (s *Store) DeleteGroup(ctx context.Context, tenant, id string, ifVersion int64) error {
	op := fmt.Sprintf("delete group %q", id)
	err := s.inTransaction(ctx, func(ctx context.Context) error {
		g, err := s.getGroup(ctx, tenant, id)
		if err != nil {
			return err
		}
		if ifVersion != 0 && g.Version != ifVersion {
			return versionMismatch(g.Version, ifVersion)
		}
		members := bson.D{{Key: "groupId", Value: id}}
		if _, err := s.removeMemberships(ctx, members, false); err != nil {
			return err
		}
		key := groupKey(tenant, id)
		res, err := s.groups.DeleteOne(ctx, withVersion(key, ifVersion))
		if err != nil {
			return err
		}
		if res.DeletedCount == 0 {
			return s.notDeleted(ctx, s.groups, key, ifVersion)
		}
		_, err = s.removeMemberships(ctx, members, false)
		return err
	})
	return translate(op, err)
}

// ListMembers reads the group's memberships in user id order and joins
// them with the users; memberships of a deleted user are skipped.
func (s *Store) ListMembers(ctx context.Context, tenant, groupID, after string, limit int) ([]storage.Member, error) {
	op := fmt.Sprintf("list members of group %q", groupID)
	if _, err := s.getGroup(ctx, tenant, groupID); err != nil {
		return nil, translate(op, err)
	}
	var out []storage.Member
	for len(out) < limit {
		ids, err := s.memberPage(ctx, groupID, after, 0, limit-len(out))
		if err != nil {
			return nil, translate(op, err)
		}
		if len(ids) == 0 {
			break
		}
		display, err := s.userDisplays(ctx, ids)
		if err != nil {
			return nil, translate(op, err)
		}
		for _, id := range ids {
			if d, ok := display[id]; ok {
				out = append(out, storage.Member{UserID: id, Display: d})
			}
		}
		after = ids[len(ids)-1]
	}
	return out, nil
}

// userDisplays returns each existing user's display text: displayName, or
// userName when it has none.
func (s *Store) userDisplays(ctx context.Context, ids []string) (map[string]string, error) {
	cur, err := s.users.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: "a.displayName", Value: 1}, {Key: "a.userName", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []struct {
		ID string `bson:"_id"`
		A  struct {
			DisplayName any    `bson:"displayName"`
			UserName    string `bson:"userName"`
		} `bson:"a"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(docs))
	for _, d := range docs {
		display, _ := d.A.DisplayName.(string)
		if display == "" {
			display = d.A.UserName
		}
		out[d.ID] = display
	}
	return out, nil
}

// IsMember reports whether the group of the tenant has the user as a
// member and the user exists. It returns ErrNotFound for a group unknown
// in the tenant.
func (s *Store) IsMember(ctx context.Context, tenant, groupID, userID string) (bool, error) {
	op := fmt.Sprintf("check member %q of group %q", userID, groupID)
	if _, err := s.getGroup(ctx, tenant, groupID); err != nil {
		return false, translate(op, err)
	}
	err := s.memberships.FindOne(ctx, bson.D{
		{Key: "groupId", Value: groupID},
		{Key: "userId", Value: userID},
		{Key: "tenant", Value: tenant},
	}).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, translate(op, err)
	}
	found, err := s.existingUsers(ctx, []string{userID})
	if err != nil {
		return false, translate(op, err)
	}
	return found[userID], nil
}

// nonNil returns ids, or an empty slice for nil, which the driver would
// otherwise encode as null.
func nonNil(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}
