package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer that the server goroutines and the test
// can use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// listeningAddr waits for the "listening" log record of the named
// listener and returns its address.
func listeningAddr(t *testing.T, logs *syncBuffer, name string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(logs.String(), "\n") {
			var rec struct{ Msg, Listener, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" && rec.Listener == name {
				return rec.Addr
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("listener %s did not start:\n%s", name, logs)
	return ""
}

func TestServeDrainsRequestsOnShutdown(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	started := make(chan struct{})
	release := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		_, _ = io.WriteString(w, "finished")
	})
	fast := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ops")
	})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() {
		served <- serve(ctx, logger, []*listener{
			{name: "api", addr: "127.0.0.1:0", handler: slow},
			{name: "ops", addr: "127.0.0.1:0", handler: fast},
		}, 10*time.Second)
	}()
	apiAddr := listeningAddr(t, &logs, "api")
	opsAddr := listeningAddr(t, &logs, "ops")

	resp, err := http.Get("http://" + opsAddr + "/")
	if err != nil {
		t.Fatalf("GET ops: %v", err)
	}
	resp.Body.Close()

	type result struct {
		body string
		err  error
	}
	inFlight := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + apiAddr + "/")
		if err != nil {
			inFlight <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		inFlight <- result{body: string(b), err: err}
	}()
	<-started
	cancel()

	// The listeners close at once; the request in flight still completes.
	waitClosed(t, apiAddr)
	close(release)
	if got := <-inFlight; got.err != nil || got.body != "finished" {
		t.Errorf("request in flight = %q, %v, want finished", got.body, got.err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("serve returned %v, want nil after a clean shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return after shutdown")
	}
}

// waitClosed waits until addr refuses connections.
func waitClosed(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			return
		}
		conn.Close()
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("%s still accepts connections after shutdown began", addr)
}

func TestServeFailsOnTakenAddress(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()

	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	err = serve(context.Background(), logger, []*listener{
		{name: "api", addr: "127.0.0.1:0", handler: http.NotFoundHandler()},
		{name: "ops", addr: taken.Addr().String(), handler: http.NotFoundHandler()},
	}, time.Second)
	if err == nil || !strings.Contains(err.Error(), "listen on "+taken.Addr().String()+" for ops") {
		t.Errorf("serve error = %v, want a listen error naming the ops address", err)
	}
}
