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

// maxUpdateAttempts bounds the retries of a version-guarded update that
// keeps losing to concurrent writers.
const maxUpdateAttempts = 200

// resourceDoc is the stored form of a user or group, as read back.
type resourceDoc struct {
	ID           string    `bson:"_id"`
	Tenant       string    `bson:"tenant,omitempty"`
	Attributes   bson.D    `bson:"a"`
	Created      time.Time `bson:"created"`
	LastModified time.Time `bson:"lastModified"`
	Version      int64     `bson:"version"`
}

// withoutSearch leaves the search copy out of read results.
var withoutSearch = bson.D{{Key: "s", Value: 0}}

func userDoc(u *storage.User) bson.D {
	return bson.D{
		{Key: "_id", Value: u.ID},
		{Key: "a", Value: storedAttributes(u.Attributes)},
		{Key: "s", Value: searchCopy(u.Attributes)},
		{Key: "created", Value: u.Created},
		{Key: "lastModified", Value: u.LastModified},
		{Key: "version", Value: u.Version},
	}
}

func (d *resourceDoc) user() (*storage.User, error) {
	attrs, err := attributesOf(d.Attributes)
	if err != nil {
		return nil, fmt.Errorf("decode user %q: %w", d.ID, err)
	}
	return &storage.User{
		ID:           d.ID,
		Attributes:   attrs,
		Created:      d.Created.UTC(),
		LastModified: d.LastModified.UTC(),
		Version:      d.Version,
	}, nil
}

// CreateUser inserts the user; the unique index on the lower-cased
// userName rejects a duplicate.
func (s *Store) CreateUser(ctx context.Context, u *storage.User) error {
	u.Version = 1
	_, err := s.users.InsertOne(ctx, userDoc(u))
	return translate(fmt.Sprintf("create user %q", u.UserName()), err)
}

// GetUser reads one user by id.
func (s *Store) GetUser(ctx context.Context, id string) (*storage.User, error) {
	u, err := s.getUser(ctx, id)
	return u, translate(fmt.Sprintf("get user %q", id), err)
}

func (s *Store) getUser(ctx context.Context, id string) (*storage.User, error) {
	var d resourceDoc
	err := s.users.FindOne(ctx, bson.D{{Key: "_id", Value: id}},
		options.FindOne().SetProjection(withoutSearch)).Decode(&d)
	if err != nil {
		return nil, err
	}
	return d.user()
}

// UpdateUser replaces the user's attributes if its version has not
// changed since it was read, and starts over when it has.
func (s *Store) UpdateUser(ctx context.Context, id string, now time.Time, update func(*storage.User) error) (*storage.User, error) {
	op := fmt.Sprintf("update user %q", id)
	for attempt := range maxUpdateAttempts {
		if attempt > 0 {
			s.logger.DebugContext(ctx, "mongodb: user changed since read, retrying update",
				"user", id, "attempt", attempt+1)
		}
		u, err := s.getUser(ctx, id)
		if err != nil {
			return nil, translate(op, err)
		}
		read, display := u.Version, memberDisplay(u)
		if err := update(u); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		u.ID = id
		u.Version = read + 1
		u.LastModified = now
		res, err := s.users.UpdateOne(ctx,
			bson.D{{Key: "_id", Value: id}, {Key: "version", Value: read}},
			bson.D{{Key: "$set", Value: bson.D{
				{Key: "a", Value: storedAttributes(u.Attributes)},
				{Key: "s", Value: searchCopy(u.Attributes)},
				{Key: "lastModified", Value: now},
				{Key: "version", Value: u.Version},
			}}})
		if err != nil {
			return nil, translate(op, err)
		}
		if res.MatchedCount == 1 {
			if memberDisplay(u) != display {
				if err := s.bumpGroupsOf(ctx, id); err != nil {
					return nil, translate(op, err)
				}
			}
			return u, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
	return nil, fmt.Errorf("%s: version changed %d times in a row", op, maxUpdateAttempts)
}

// memberDisplay returns the text that groups list for the user as a
// member: its displayName, or its userName when it has none.
func memberDisplay(u *storage.User) string {
	if d, ok := u.Attributes["displayName"].(string); ok && d != "" {
		return d
	}
	return u.UserName()
}

// bumpGroupsOf increments the version of every group the user is a member
// of, whose member lists show the user's display text. It runs after the
// user's update, outside a transaction: a failure in between leaves those
// groups' versions unchanged, so a client revalidating a group may keep
// the old display text until the group changes again.
func (s *Store) bumpGroupsOf(ctx context.Context, userID string) error {
	ids, err := s.distinctStrings(ctx, s.memberships, "groupId", bson.D{{Key: "userId", Value: userID}})
	if err != nil || len(ids) == 0 {
		return err
	}
	_, err = s.groups.UpdateMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
	return err
}

// DeleteUser deletes the user and then its memberships and membership
// counters. The version check is part of the filter of the first write,
// so it holds with or without a transaction. Without a transaction a
// failure after that write leaves memberships of a missing user, which
// no read shows: members are always joined with their user.
func (s *Store) DeleteUser(ctx context.Context, id string, ifVersion int64) error {
	op := fmt.Sprintf("delete user %q", id)
	err := s.inTransaction(ctx, func(ctx context.Context) error {
		key := bson.D{{Key: "_id", Value: id}}
		res, err := s.users.DeleteOne(ctx, withVersion(key, ifVersion))
		if err != nil {
			return err
		}
		if res.DeletedCount == 0 {
			return s.notDeleted(ctx, s.users, key, ifVersion)
		}
		byUser := bson.D{{Key: "userId", Value: id}}
		if _, err := s.removeMemberships(ctx, byUser, true); err != nil {
			return err
		}
		// Counters that a failed earlier removal left behind.
		_, err = s.tenantUsers.DeleteMany(ctx, byUser)
		return err
	})
	return translate(op, err)
}

// withVersion adds the version to a delete filter unless ifVersion is 0.
func withVersion(key bson.D, ifVersion int64) bson.D {
	if ifVersion == 0 {
		return key
	}
	return append(slices.Clip(key), bson.E{Key: "version", Value: ifVersion})
}

// notDeleted explains why a delete filtered by withVersion(key, ifVersion)
// matched nothing: mongo.ErrNoDocuments if no document has the key, and
// ErrVersionMismatch if one has, with another version.
func (s *Store) notDeleted(ctx context.Context, c *mongo.Collection, key bson.D, ifVersion int64) error {
	if ifVersion == 0 {
		return mongo.ErrNoDocuments
	}
	var d struct {
		Version int64 `bson:"version"`
	}
	err := c.FindOne(ctx, key, options.FindOne().SetProjection(bson.D{{Key: "version", Value: 1}})).Decode(&d)
	if err != nil {
		return err
	}
	return versionMismatch(d.Version, ifVersion)
}

// versionMismatch returns ErrVersionMismatch naming both versions.
func versionMismatch(stored, ifVersion int64) error {
	return fmt.Errorf("%w: version %d, not %d", storage.ErrVersionMismatch, stored, ifVersion)
}

// RemoveUserFromTenant deletes the user's memberships in the tenant's
// groups.
func (s *Store) RemoveUserFromTenant(ctx context.Context, tenant, userID string) (int, error) {
	var n int
	err := s.inTransaction(ctx, func(ctx context.Context) error {
		var err error
		n, err = s.removeMemberships(ctx, tenantUser{tenant, userID}.filter(), true)
		return err
	})
	return n, translate(fmt.Sprintf("remove user %q from tenant", userID), err)
}

func (s *Store) distinctStrings(ctx context.Context, c *mongo.Collection, field string, filter bson.D) ([]string, error) {
	var out []string
	if err := c.Distinct(ctx, field, filter).Decode(&out); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil, nil
		}
		return nil, err
	}
	return out, nil
}
