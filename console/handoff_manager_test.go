package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestManagerHold: a reload's hold on the manager port answers the request
// in progress before it returns, and ends an idle kept-alive connection
// without doing anything on it; a connection made meanwhile waits in the
// backlog and is served once released; replies meanwhile close their
// connections.
func TestManagerHold(t *testing.T) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	held := newHeldListener(ln)
	handled := make(chan string, 10)
	slow := make(chan struct{})
	srv := &http.Server{ConnState: held.track, Handler: held.handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-slow
		}
		handled <- r.URL.Path
		io.WriteString(w, "done")
	}))}
	go srv.Serve(held)
	defer srv.Close()

	idle := dialManager(t, ln.Addr().String())
	get(t, idle, "/first") // the connection is idle and kept alive afterwards
	<-handled
	busy := dialManager(t, ln.Addr().String())
	if _, err := io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the slow request is being handled

	held.closeAfterReplies(true)
	returned := make(chan struct{})
	go func() { held.hold(context.Background()); close(returned) }()
	select {
	case <-returned:
		t.Fatal("hold returned while a request was in progress")
	case <-time.After(100 * time.Millisecond):
	}
	close(slow)
	<-returned
	if r, err := http.ReadResponse(bufio.NewReader(busy), nil); err != nil || r.StatusCode != 200 {
		t.Fatalf("the request in progress at the hold: %v %v", r, err)
	}
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := idle.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("the idle connection is still open after the hold: %d %v", n, err)
	}

	later := dialManager(t, ln.Addr().String()) // in the backlog: not accepted while held
	if _, err := io.WriteString(later, "GET /later HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-handled:
		if p != "/slow" {
			t.Fatalf("%s handled while held", p)
		}
	default:
	}
	time.Sleep(100 * time.Millisecond)
	if len(handled) > 0 {
		t.Fatal("a connection made during the hold was served before the release")
	}
	held.release()
	r, err := http.ReadResponse(bufio.NewReader(later), nil)
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("the request made during the hold, after the release: %v %v", r, err)
	}
	if !r.Close {
		t.Fatal("a reply while replies close their connections kept it alive")
	}
}

func dialManager(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func get(t *testing.T, c net.Conn, path string) {
	t.Helper()
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("GET %s: %v %v", path, r, err)
	}
	io.Copy(io.Discard, r.Body)
}
