package framework_test

import (
	"context"
	"net"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/framework/transport"
	"msgo/library/cache"
)

// TestConnStateEncoding: a state with every field set survives
// MarshalBinary and UnmarshalBinary unchanged, and a decoder refuses an
// unknown version and every truncation.
func TestConnStateEncoding(t *testing.T) {
	st := framework.ConnState{
		Identity:    user("u1"),
		Groups:      []framework.Group{framework.Room("g1"), framework.InternalGroup("房间")},
		CloseKeys:   []string{"k1"},
		Controllers: []string{"Test.Moved", "Live.User"},
		RateTokens:  7.5,
		Session:     "0123456789abcdef0123456789abcdef",
		Transport: transport.State{
			LastSeen:  1_700_000_000,
			Pending:   []byte{0x81, 0x85},
			MessageOp: 1,
			Message:   []byte("half a messa"),
			Output:    []byte{0x81, 0x02, 'h', 'i'},
			Replay:    &transport.Replay{Next: 9, Received: 4, Budget: 65536, Kept: [][]byte{{0x81, 0x01, '{'}, {0x81, 0x01, '}'}}},
		},
	}
	b, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got framework.ConnState
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, st) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, st)
	}
	for n := range len(b) {
		if err := new(framework.ConnState).UnmarshalBinary(b[:n]); err == nil {
			t.Fatalf("%d of %d bytes decoded without an error", n, len(b))
		}
	}
	if err := new(framework.ConnState).UnmarshalBinary(append([]byte{b[0] + 1}, b[1:]...)); err == nil || !strings.Contains(err.Error(), "version") {
		t.Fatalf("unknown version: %v", err)
	}
}

// TestConnStateMovesBetweenNodes exports a connection from one node, carries
// its state through the encoding and imports it on another node's socket:
// the identity, room, close key and close controller come along, the queued
// output is written first, the half-read request completes, and a group push
// from the first node reaches it on the second.
func TestConnStateMovesBetweenNodes(t *testing.T) {
	ctx := context.Background()
	store := cache.NewMemory()
	t.Cleanup(func() { store.Close() })
	closedOn := make(chan string, 2)
	mod := func(r *framework.Router) {
		r.Handle("test.echo.echo", func(c *framework.Context) error { return c.Success("ok", c.RawParams()) })
		r.OnClose("Test.Moved", func(_ context.Context, app *framework.App, cl framework.Client) {
			closedOn <- app.NodeID() + " " + cl.UserID()
		})
	}
	a := msgotest.Start(t, msgotest.Options{Store: store, NodeID: "a", Modules: []msgotest.Module{mod}})
	b := msgotest.Start(t, msgotest.Options{Store: store, NodeID: "b", Modules: []msgotest.Module{mod}})

	ida, cla := importPair(t, a, framework.ConnState{Identity: user("u1"), RateTokens: framework.DefaultRateLimit})
	app := a.App()
	if err := app.JoinGroup(ctx, ida, framework.Room("g1")); err != nil {
		t.Fatal(err)
	}
	if err := app.AddCloseKey(ctx, ida, "k1"); err != nil {
		t.Fatal(err)
	}
	if err := app.AddCloseController(ida, "Test.Moved"); err != nil {
		t.Fatal(err)
	}
	st, err := a.ExportConn(ida)
	if err != nil {
		t.Fatal(err)
	}
	if st.Identity != user("u1") || !slices.Equal(st.Groups, []framework.Group{framework.Room("g1")}) ||
		!slices.Equal(st.CloseKeys, []string{"k1"}) || !slices.Equal(st.Controllers, []string{"Test.Moved"}) {
		t.Fatalf("exported %+v", st)
	}
	// What a connection can hold mid-stream: half a request read, a frame
	// not yet written.
	req := frame(true, ws.OpText, []byte(`{"method":"test.echo.echo","id":1,"n":42}`))
	st.Transport.Pending = req[:9]
	st.Transport.Output = ws.MustCompileFrame(ws.NewTextFrame([]byte("queued")))
	enc, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var moved framework.ConnState
	if err := moved.UnmarshalBinary(enc); err != nil {
		t.Fatal(err)
	}

	// The connection leaves a: its hooks run there and undo a's entries.
	cla.Close()
	if got := <-closedOn; got != "a u1" {
		t.Fatalf("close controller ran as %q, want on a for u1", got)
	}
	eventually(t, "a forgets the connection", func() bool { return a.Connections() == 0 })

	idb, clb := importPair(t, b, moved)
	if f := clb.next(t); string(f.Payload) != "queued" {
		t.Fatalf("first frame on b: %q, want the queued output", f.Payload)
	}
	clb.write(t, req[9:])
	if f := clb.next(t); !strings.Contains(string(f.Payload), `"n":42`) || !strings.Contains(string(f.Payload), `"status":200`) {
		t.Fatalf("reply to the half-read request: %s", f.Payload)
	}
	push, err := framework.Push("test.moved", "hello")
	if err != nil {
		t.Fatal(err)
	}
	if err := app.SendToGroup(ctx, framework.Room("g1"), push); err != nil {
		t.Fatal(err)
	}
	if f := clb.next(t); !strings.Contains(string(f.Payload), "hello") {
		t.Fatalf("group push from a: %s", f.Payload)
	}
	again, err := b.ExportConn(idb)
	if err != nil {
		t.Fatal(err)
	}
	if again.Identity != st.Identity || !slices.Equal(again.Groups, st.Groups) ||
		!slices.Equal(again.CloseKeys, st.CloseKeys) || !slices.Equal(again.Controllers, st.Controllers) {
		t.Fatalf("on b: %+v, want what a exported: %+v", again, st)
	}
	if members, err := app.CloseKeyMembers(ctx, "k1"); err != nil || len(members) != 1 || members[0].Node != "b" {
		t.Fatalf("close key k1 members: %v %v, want the connection on b", members, err)
	}

	// Closing it on b runs the close controller there and clears the key.
	clb.Close()
	if got := <-closedOn; got != "b u1" {
		t.Fatalf("close controller ran as %q, want on b for u1", got)
	}
	eventually(t, "the close key is cleared", func() bool {
		m, err := app.CloseKeyMembers(ctx, "k1")
		return err == nil && len(m) == 0
	})
}

// importPair imports one end of a socketpair into srv with st, as a socket
// whose handshake is done, and returns the connection's id and a client on
// the other end.
func importPair(t *testing.T, srv *msgotest.Server, st framework.ConnState) (framework.ConnID, *rawClient) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fds[1]), "client")
	nc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	id, err := srv.ImportConn(context.Background(), fds[0], st)
	if err != nil {
		unix.Close(fds[0])
		t.Fatal(err)
	}
	return id, &rawClient{Conn: nc, r: nc}
}
