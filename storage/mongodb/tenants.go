package mongodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/scimd/scimd/storage"
)

type sandboxDoc struct {
	ID          string    `bson:"_id"`
	Key         string    `bson:"key"`
	DisplayName string    `bson:"displayName"`
	Created     time.Time `bson:"created"`
}

func (d *sandboxDoc) sandbox() *storage.Sandbox {
	return &storage.Sandbox{ID: d.ID, Key: d.Key, DisplayName: d.DisplayName, Created: d.Created.UTC()}
}

// CreateSandbox inserts the sandbox; its id and key are unique.
func (s *Store) CreateSandbox(ctx context.Context, sb *storage.Sandbox) error {
	_, err := s.sandboxes.InsertOne(ctx, sandboxDoc{
		ID: sb.ID, Key: sb.Key, DisplayName: sb.DisplayName, Created: sb.Created,
	})
	return translate(fmt.Sprintf("create sandbox %q", sb.ID), err)
}

// GetSandbox reads one sandbox by id.
func (s *Store) GetSandbox(ctx context.Context, id string) (*storage.Sandbox, error) {
	var d sandboxDoc
	if err := s.sandboxes.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return nil, translate(fmt.Sprintf("get sandbox %q", id), err)
	}
	return d.sandbox(), nil
}

// ListSandboxes returns every sandbox in id order.
func (s *Store) ListSandboxes(ctx context.Context) ([]*storage.Sandbox, error) {
	cur, err := s.sandboxes.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, translate("list sandboxes", err)
	}
	var docs []sandboxDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("list sandboxes", err)
	}
	out := make([]*storage.Sandbox, len(docs))
	for i := range docs {
		out[i] = docs[i].sandbox()
	}
	return out, nil
}

// DeleteSandbox deletes the sandbox record first: from then on its key is
// unreachable, so the deletes of its groups, memberships, membership
// counters and credentials, and the removal of its key from the users,
// may fail half-way without anyone seeing the rest. The users listed in
// the sandbox (see fieldTenants) lose their groups there, so their
// versions go up with the removal of the key.
func (s *Store) DeleteSandbox(ctx context.Context, id string) error {
	op := fmt.Sprintf("delete sandbox %q", id)
	var d sandboxDoc
	err := s.sandboxes.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if err != nil {
		return translate(op, err)
	}
	return translate(op, s.deleteTenantData(ctx, d.Key))
}

// deleteTenantData deletes the groups, memberships, membership counters
// and credentials stored under a tenant key that no sandbox has any more,
// and removes the key from the users.
func (s *Store) deleteTenantData(ctx context.Context, key string) error {
	byTenant := bson.D{{Key: "tenant", Value: key}}
	for _, c := range []*mongo.Collection{s.credentials, s.memberships, s.groups, s.tenantUsers} {
		if _, err := c.DeleteMany(ctx, byTenant); err != nil {
			return err
		}
	}
	_, err := s.users.UpdateMany(ctx, bson.D{{Key: fieldTenants, Value: key}},
		bson.D{
			{Key: "$pull", Value: bson.D{{Key: fieldTenants, Value: key}}},
			{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
		})
	return err
}

// fieldSandboxWrites counts on a sandbox document the transactions that
// wrote a group or credential of the sandbox; see claimSandbox.
const fieldSandboxWrites = "writes"

// claimSandbox returns ErrTenantNotFound unless a sandbox has the key. In
// a transaction it also increments the sandbox's write counter, because
// a read alone would not conflict with DeleteSandbox. With the write, a
// delete committed after the transaction's snapshot causes a write
// conflict, so the transaction retries and then finds no sandbox. A
// delete that comes later waits until the transaction commits, and then
// its cascade removes the transaction's writes too.
//
// The price is that concurrent creations in one sandbox conflict with
// each other as well, and WithTransaction retries them one after another.
func (s *Store) claimSandbox(ctx context.Context, key string) error {
	byKey := bson.D{{Key: "key", Value: key}}
	if s.transactions {
		res, err := s.sandboxes.UpdateOne(ctx, byKey,
			bson.D{{Key: "$inc", Value: bson.D{{Key: fieldSandboxWrites, Value: 1}}}})
		if err != nil {
			return err
		}
		if res.MatchedCount == 0 {
			return storage.ErrTenantNotFound
		}
		return nil
	}
	idOnly := options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})
	err := s.sandboxes.FindOne(ctx, byKey, idOnly).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return storage.ErrTenantNotFound
	}
	return err
}

// recheckSandbox runs after a write under the sandbox key without a
// transaction. A sandbox still there means DeleteSandbox has not deleted
// its record yet, so it will delete the write with the rest. A sandbox
// gone may have been deleted before the write landed, so recheckSandbox
// deletes everything under the key, as DeleteSandbox does, and returns
// ErrTenantNotFound.
//
// NOTE: without transactions, a process that stops, or a store that
// fails, between the write and the end of this cleanup leaves records
// under the dead key; they are unreachable but stay stored.
func (s *Store) recheckSandbox(ctx context.Context, key string) error {
	// The write is done: finish the check even if the caller gives up.
	ctx = context.WithoutCancel(ctx)
	err := s.claimSandbox(ctx, key)
	if !errors.Is(err, storage.ErrTenantNotFound) {
		return err
	}
	if err := s.deleteTenantData(ctx, key); err != nil {
		return fmt.Errorf("delete writes to deleted sandbox: %w", err)
	}
	return storage.ErrTenantNotFound
}

type credentialDoc struct {
	ID          string    `bson:"_id"`
	Tenant      string    `bson:"tenant"`
	Description string    `bson:"description"`
	Created     time.Time `bson:"created"`
	Hash        []byte    `bson:"hash"`
}

func (d *credentialDoc) credential() *storage.Credential {
	return &storage.Credential{
		ID: d.ID, Tenant: d.Tenant, Description: d.Description, Created: d.Created.UTC(), Hash: d.Hash,
	}
}

// CreateCredential inserts the credential; its id and hash are unique. A
// credential of a sandbox is inserted only while the sandbox exists (see
// claimSandbox and recheckSandbox).
func (s *Store) CreateCredential(ctx context.Context, c *storage.Credential) error {
	inSandbox := c.Tenant != storage.MainTenant && c.Tenant != storage.AdminTenant
	err := s.inTransaction(ctx, func(ctx context.Context) error {
		if inSandbox {
			if err := s.claimSandbox(ctx, c.Tenant); err != nil {
				return err
			}
		}
		_, err := s.credentials.InsertOne(ctx, credentialDoc{
			ID: c.ID, Tenant: c.Tenant, Description: c.Description, Created: c.Created, Hash: c.Hash,
		})
		return err
	})
	if err == nil && inSandbox && !s.transactions {
		err = s.recheckSandbox(ctx, c.Tenant)
	}
	return translate(fmt.Sprintf("create credential %q", c.ID), err)
}

// CredentialByHash finds the credential with the secret's hash.
func (s *Store) CredentialByHash(ctx context.Context, hash []byte) (*storage.Credential, error) {
	var d credentialDoc
	if err := s.credentials.FindOne(ctx, bson.D{{Key: "hash", Value: hash}}).Decode(&d); err != nil {
		return nil, translate("find credential by hash", err)
	}
	return d.credential(), nil
}

// ListCredentials returns every credential in id order.
func (s *Store) ListCredentials(ctx context.Context) ([]*storage.Credential, error) {
	cur, err := s.credentials.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, translate("list credentials", err)
	}
	var docs []credentialDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("list credentials", err)
	}
	out := make([]*storage.Credential, len(docs))
	for i := range docs {
		out[i] = docs[i].credential()
	}
	return out, nil
}

// DeleteCredential deletes one credential by id.
func (s *Store) DeleteCredential(ctx context.Context, id string) error {
	op := fmt.Sprintf("delete credential %q", id)
	res, err := s.credentials.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return translate(op, err)
	}
	if res.DeletedCount == 0 {
		return translate(op, mongo.ErrNoDocuments)
	}
	return nil
}
