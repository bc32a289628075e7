package framework_test

import (
	"fmt"
	"strconv"
	"sync"
	"testing"

	"msgo/framework"
	"msgo/framework/msgotest"
)

// TestManyPipelined opens 1,000 connections at once, each sending its
// requests without waiting, and checks that every reply arrives, in each
// connection's request order.
func TestManyPipelined(t *testing.T) {
	conns, perConn := 1000, 20
	if testing.Short() {
		conns = 100
	}
	srv, _ := start(t, framework.Config{})

	clients := make([]*msgotest.Client, conns)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64) // dials in flight
	for i := range clients {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			cl, err := srv.DialURL(srv.URL + "?auth=" + srv.Token(t, user("load"+strconv.Itoa(i))))
			if err != nil {
				t.Errorf("dial %d: %v", i, err)
				return
			}
			clients[i] = cl
		})
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, cl := range clients {
			if cl != nil {
				cl.Close()
			}
		}
	})
	if t.Failed() {
		return
	}
	if n := srv.Connections(); n != conns {
		t.Fatalf("%d connections on the server, want %d", n, conns)
	}

	for i, cl := range clients {
		wg.Go(func() {
			for j := range perConn {
				cl.Write(t, fmt.Appendf(nil, `{"method":"test.echo.echo","id":%d,"conn":%d}`, j, i))
			}
			for j := range perConn {
				r, err := cl.Next(msgotest.DefaultTimeout, anyFrame)
				if err != nil {
					t.Errorf("connection %d: reply %d: %v", i, j, err)
					return
				}
				if r.Status != 200 || string(r.ID) != strconv.Itoa(j) || string(r.Param) != fmt.Sprintf(`{"conn":%d}`, i) {
					t.Errorf("connection %d: reply %d is %+v", i, j, r)
					return
				}
			}
		})
	}
	wg.Wait()
}
