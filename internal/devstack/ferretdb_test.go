package devstack

import (
	"context"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

func TestStartFerretDB(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	uri, stop, err := StartFerretDB(ctx, FerretOptions{Dir: t.TempDir() + "/nested"})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "mongodb" || !strings.HasPrefix(u.Host, "127.0.0.1:") || strings.HasSuffix(u.Host, ":0") {
		t.Fatalf("uri %q (err %v), want mongodb://127.0.0.1:<port>/", uri, err)
	}

	client, err := mongo.Connect(ctx, options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	coll := client.Database("emsp").Collection("probe")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "n", Value: 7}}); err != nil {
		t.Fatal(err)
	}
	var got struct{ N int }
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "a"}}).Decode(&got); err != nil || got.N != 7 {
		t.Fatalf("read back %+v, %v; want n=7", got, err)
	}

	stop()
	stopped = true
	if conn, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
		conn.Close()
		t.Fatal("server still accepts connections after stop")
	}
}

func TestStartFerretDBNeedsABackend(t *testing.T) {
	t.Parallel()
	_, _, err := StartFerretDB(context.Background(), FerretOptions{})
	if err == nil || !strings.Contains(err.Error(), "data directory or a PostgreSQL URL") {
		t.Fatalf("StartFerretDB() = %v, want a configuration error", err)
	}
}
