package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/scimd/scimd/schemas"
	"github.com/scimd/scimd/storage"
	"github.com/scimd/scimd/storage/sqlite"
)

// storeBaseline measures storage/sqlite's Store called directly on a
// scratch file: CreateUser, QueryUsers with an eq filter (limit 100 with
// the total counted, as a SCIM list request needs) and GetUser.
func storeBaseline(ctx context.Context, log *slog.Logger, cfg *config, path string, n int) (*baselineResult, error) {
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("store baseline: %w", err)
	}
	defer st.Close()
	userNamePath, err := schemas.User.Lookup("userName")
	if err != nil {
		return nil, fmt.Errorf("store baseline: %w", err)
	}
	externalIDPath, err := schemas.User.Lookup("externalId")
	if err != nil {
		return nil, fmt.Errorf("store baseline: %w", err)
	}

	users, err := loadStore(ctx, st, n, cfg.buildClients)
	if err != nil {
		return nil, err
	}
	log.Info("store baseline loaded", "users", len(users))

	br := &baselineResult{
		Short:  "storage/sqlite Store",
		Engine: "context: storage/sqlite Store called directly, scratch file",
		Method: "`sqlite.Open` with default options, the same package scimd runs; insert = `CreateUser`; " +
			"find by userName/externalId = `QueryUsers` with an `eq` filter, limit 100 and the total counted; " +
			"find by id = `GetUser`. No HTTP, JSON encoding of responses, validation or tenancy rules",
	}
	query := func(clients int, path schemas.Path, key func(user, int) string) operation {
		r := rngs(clients)
		return func(ctx context.Context, w, i int) error {
			u := users[r[w].IntN(len(users))]
			q := storage.Query{Filter: schemas.Compare{Path: path, Op: schemas.Eq, Value: key(u, i)}, Limit: 100, Count: true}
			page, err := st.QueryUsers(ctx, storage.MainTenant, q)
			if err != nil {
				return fmt.Errorf("query %s: %w", u.UserName, err)
			}
			if len(page.Items) != 1 || page.Items[0].ID != u.ID {
				return fmt.Errorf("query %s: got %d users", u.UserName, len(page.Items))
			}
			return nil
		}
	}
	ops := map[string]func(clients int) operation{
		blInsert: func(clients int) operation {
			return func(ctx context.Context, w, i int) error {
				return createStoreUser(ctx, st, i, fmt.Sprintf("b%d-", clients), nil)
			}
		},
		blUserName: func(clients int) operation {
			return query(clients, userNamePath, func(u user, i int) string { return caseVariant(u.UserName, i) })
		},
		blExternalID: func(clients int) operation {
			return query(clients, externalIDPath, func(u user, _ int) string { return u.ExternalID })
		},
		blByID: func(clients int) operation {
			r := rngs(clients)
			return func(ctx context.Context, w, i int) error {
				u := users[r[w].IntN(len(users))]
				_, err := st.GetUser(ctx, u.ID)
				return err
			}
		},
	}
	br.Results = measureBaseline(ctx, log, cfg, ops)
	return br, nil
}

// baselineUser returns user i as the Store receives it: a new random id,
// the attributes of a request body after JSON decoding (so that they have
// the types a handler passes on) and the current time.
func baselineUser(i int, prefix string) (user, *storage.User, error) {
	id, u, doc := baselineDoc(i, prefix)
	var attrs map[string]any
	if err := json.Unmarshal(doc, &attrs); err != nil {
		return user{}, nil, fmt.Errorf("build user %d: %w", i, err)
	}
	now := time.Now().UTC()
	return u, &storage.User{ID: id, Attributes: attrs, Created: now, LastModified: now}, nil
}

// createStoreUser stores user i and, when out is not nil, sets it to the
// user.
func createStoreUser(ctx context.Context, st storage.Store, i int, prefix string, out *user) error {
	u, su, err := baselineUser(i, prefix)
	if err != nil {
		return err
	}
	if err := st.CreateUser(ctx, su); err != nil {
		return fmt.Errorf("create user %d: %w", i, err)
	}
	if out != nil {
		*out = u
	}
	return nil
}

// loadStore creates n users from the given number of goroutines (not
// measured) and returns them.
func loadStore(ctx context.Context, st storage.Store, n, clients int) ([]user, error) {
	users := make([]user, n)
	r := measure(ctx, "load", clients, n, 24*time.Hour, func(ctx context.Context, w, i int) error {
		return createStoreUser(ctx, st, i, "", &users[i])
	})
	if r.Errors > 0 || r.Ops != n {
		return nil, fmt.Errorf("store baseline: loaded %d of %d users: %s", r.Ops, n, r.FirstErr)
	}
	return users, nil
}
