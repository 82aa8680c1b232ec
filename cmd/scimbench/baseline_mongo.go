package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// runMongoBaseline measures the MongoDB Go driver against a fresh
// database on the server scimd used: one collection holding each user's
// attributes, a unique index on the lower-cased userName and an index on
// externalId, one InsertOne per user. It drops that database and the one
// scimd used at the end.
func runMongoBaseline(ctx context.Context, log *slog.Logger, cfg *config, rep *report, ds *dataset, scimdDB string) error {
	client, err := mongo.Connect(options.Client().ApplyURI(cfg.mongoURI))
	if err != nil {
		return fmt.Errorf("mongodb baseline: connect: %w", err)
	}
	defer client.Disconnect(context.WithoutCancel(ctx))

	dbName := "scimbench_baseline_" + randomHex(6)
	db := client.Database(dbName)
	defer func() {
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		for _, name := range []string{dbName, scimdDB} {
			if err := client.Database(name).Drop(cleanup); err != nil {
				log.Warn("drop benchmark database", "database", name, "err", err)
			}
		}
	}()

	coll := db.Collection("users")
	_, err = coll.Indexes().CreateMany(ctx, []mongo.IndexModel{
		{Keys: bson.D{{Key: "userNameLower", Value: 1}}, Options: options.Index().SetUnique(true)},
		{Keys: bson.D{{Key: "externalId", Value: 1}}},
	})
	if err != nil {
		return fmt.Errorf("mongodb baseline: create indexes: %w", err)
	}

	users, err := loadMongo(ctx, coll, len(ds.users))
	if err != nil {
		return err
	}
	log.Info("mongodb baseline loaded", "users", len(users))

	br := &baselineResult{
		Short:  "MongoDB driver",
		Engine: "MongoDB through go.mongodb.org/mongo-driver/v2, fresh database on the same server",
		Method: "A collection `users` with the attributes, `userNameLower` (unique index) and `externalId` (index); " +
			"insert = one InsertOne with the default write concern; find = one FindOne decoded into a map",
	}
	ops := map[string]func(clients int) operation{
		blInsert: func(clients int) operation {
			return func(ctx context.Context, w, i int) error {
				doc, err := mongoDoc(i, fmt.Sprintf("b%d-", clients))
				if err != nil {
					return err
				}
				_, err = coll.InsertOne(ctx, doc)
				return err
			}
		},
		blUserName: func(clients int) operation {
			return mongoFind(coll, clients, users, func(u user, i int) bson.D {
				return bson.D{{Key: "userNameLower", Value: strings.ToLower(caseVariant(u.UserName, i))}}
			})
		},
		blExternalID: func(clients int) operation {
			return mongoFind(coll, clients, users, func(u user, _ int) bson.D {
				return bson.D{{Key: "externalId", Value: u.ExternalID}}
			})
		},
		blByID: func(clients int) operation {
			return mongoFind(coll, clients, users, func(u user, _ int) bson.D { return bson.D{{Key: "_id", Value: u.ID}} })
		},
	}
	br.Results = measureBaseline(ctx, log, cfg, ops)
	rep.baselines = append(rep.baselines, br)
	return nil
}

// mongoDoc returns user i as a BSON document with _id and userNameLower.
func mongoDoc(i int, prefix string) (bson.M, error) {
	id, u, raw := baselineDoc(i, prefix)
	var doc bson.M
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("mongodb baseline: build user %d: %w", i, err)
	}
	delete(doc, "id")
	doc["_id"] = id
	doc["userNameLower"] = strings.ToLower(u.UserName)
	return doc, nil
}

// loadMongo inserts n users with InsertMany in batches of 1,000 (not
// measured) and returns them.
func loadMongo(ctx context.Context, coll *mongo.Collection, n int) ([]user, error) {
	users := make([]user, 0, n)
	for lo := 0; lo < n; lo += 1000 {
		var docs []any
		for i := lo; i < min(lo+1000, n); i++ {
			doc, err := mongoDoc(i, "")
			if err != nil {
				return nil, err
			}
			docs = append(docs, doc)
			users = append(users, user{ID: doc["_id"].(string), UserName: doc["userName"].(string), ExternalID: doc["externalId"].(string)})
		}
		if _, err := coll.InsertMany(ctx, docs); err != nil {
			return nil, fmt.Errorf("mongodb baseline: load users %d to %d: %w", lo, lo+len(docs), err)
		}
	}
	return users, nil
}

func mongoFind(coll *mongo.Collection, clients int, users []user, filter func(user, int) bson.D) operation {
	r := rngs(clients)
	return func(ctx context.Context, w, i int) error {
		u := users[r[w].IntN(len(users))]
		var doc bson.M
		if err := coll.FindOne(ctx, filter(u, i)).Decode(&doc); err != nil {
			return fmt.Errorf("find %s: %w", u.UserName, err)
		}
		if doc["_id"] != u.ID {
			return fmt.Errorf("find %s: got user %v", u.UserName, doc["_id"])
		}
		return nil
	}
}
