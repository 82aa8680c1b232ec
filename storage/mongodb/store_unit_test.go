package mongodb

import (
	"errors"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/scimd/scimd/storage"
)

func TestTranslateErrors(t *testing.T) {
	duplicate := mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 11000, Message: "E11000 duplicate key"}}}
	other := mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 121, Message: "validation failed"}}}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"no document", mongo.ErrNoDocuments, storage.ErrNotFound},
		{"wrapped no document", fmt.Errorf("find: %w", mongo.ErrNoDocuments), storage.ErrNotFound},
		{"duplicate key", duplicate, storage.ErrAlreadyExists},
		{"member not found", &storage.MemberNotFoundError{UserID: "u"}, storage.ErrMemberNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := translate("op", tc.err)
			if !errors.Is(got, tc.want) {
				t.Errorf("translate(%v) = %v, want it to match %v", tc.err, got, tc.want)
			}
		})
	}
	if got := translate("op", other); errors.Is(got, storage.ErrAlreadyExists) || errors.Is(got, storage.ErrNotFound) {
		t.Errorf("translate(validation error) = %v, want no sentinel", got)
	}
	if got := translate("op", nil); got != nil {
		t.Errorf("translate(nil) = %v, want nil", got)
	}
}

func TestOnlyDuplicates(t *testing.T) {
	dup := mongo.BulkWriteError{WriteError: mongo.WriteError{Code: 11000}}
	bad := mongo.BulkWriteError{WriteError: mongo.WriteError{Code: 2}}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"all duplicates", mongo.BulkWriteException{WriteErrors: []mongo.BulkWriteError{dup, dup}}, true},
		{"one other error", mongo.BulkWriteException{WriteErrors: []mongo.BulkWriteError{dup, bad}}, false},
		{"write concern error", mongo.BulkWriteException{
			WriteErrors:       []mongo.BulkWriteError{dup},
			WriteConcernError: &mongo.WriteConcernError{Code: 64},
		}, false},
		{"other error", errors.New("connection reset"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := onlyDuplicates(tc.err); got != tc.want {
				t.Errorf("onlyDuplicates = %v, want %v", got, tc.want)
			}
		})
	}
}
