package manager_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"msgo/framework/manager"
	"msgo/library/cache"
	"msgo/library/cache/cachetest"
)

func TestRoomCallsAcrossNodesMemory(t *testing.T) {
	s := memoryStore(t)
	testRoomCalls(t, s, s)
}

func TestRoomCallsAcrossNodesRedis(t *testing.T) {
	stores := cachetest.RedisNodes(t, 2)
	testRoomCalls(t, stores[0], stores[1])
}

// testRoomCalls drives the room calls on the cluster of send_test.go: u1
// has a wechatUser connection on each node and a kefu one on n2; r1 holds
// w1 (n1) and u2 (n2), joined as the live module joins a token's code.
func testRoomCalls(t *testing.T, s1, s2 cache.Store) {
	c := startCluster(t, s1, s2)
	var cnt struct{ Connections, Users int }
	c.m2.get(t, "/api/room/count?room=r1", &cnt)
	if cnt.Connections != 2 || cnt.Users != 2 {
		t.Fatalf("r1 count = %+v, want 2 connections, 2 users", cnt)
	}

	var j struct{ Joined *int }
	c.m1.post(t, "/api/room/join", map[string]any{"id": "u1", "room": "r1"}, &j)
	if j.Joined == nil || *j.Joined != 3 { // both wechatUser devices and the kefu one
		t.Fatalf("join u1 = %v, want 3", j.Joined)
	}
	c.m2.get(t, "/api/room/count?room=r1", &cnt)
	if cnt.Connections != 5 || cnt.Users != 4 {
		t.Fatalf("r1 count after join = %+v, want 5 connections, 4 users", cnt)
	}
	// The room is the one the live module pushes to: every member gets it.
	c.m1.delivered(t, "/api/send/room", map[string]any{"room": "r1", "event": "t.room", "param": map[string]any{}})
	c.expect(t, "send to r1", "t.room", "w1@n1", "u2@n2", "u1@n1", "u1@n2", "k:u1@n2")

	var users struct {
		Users []struct{ ID, Type, Nickname string }
		Count int
	}
	c.m1.get(t, "/api/room/users?room=r1&limit=2", &users)
	if users.Count != 4 || len(users.Users) != 2 || users.Users[0].ID != "u1" || users.Users[0].Type != "kefu" || users.Users[0].Nickname != "u1" {
		t.Fatalf("r1 users = %+v", users)
	}

	var rooms struct{ Rooms []string }
	c.m2.get(t, "/api/user/rooms?id=u1&type=wechatUser", &rooms)
	if !reflect.DeepEqual(rooms.Rooms, []string{"r1"}) {
		t.Fatalf("u1 rooms = %v", rooms.Rooms)
	}
	var l struct{ Left *int }
	c.m2.post(t, "/api/room/leave", map[string]any{"id": "u1", "type": "kefu", "room": "r1"}, &l)
	if l.Left == nil || *l.Left != 1 {
		t.Fatalf("leave = %v, want 1", l.Left)
	}
	c.m2.post(t, "/api/room/leave", map[string]any{"id": "u1", "room": "r1"}, &l)
	if *l.Left != 2 {
		t.Fatalf("second leave = %d, want 2", *l.Left)
	}
	c.m1.get(t, "/api/user/rooms?id=u1", &rooms)
	if len(rooms.Rooms) != 0 {
		t.Fatalf("u1 rooms after leaving = %v", rooms.Rooms)
	}
	c.m1.get(t, "/api/room/count?room=r1", &cnt)
	if cnt.Connections != 2 || cnt.Users != 2 {
		t.Fatalf("r1 count after leave = %+v", cnt)
	}
}

func TestRoomCallsRejectBadInput(t *testing.T) {
	n := startNode(t, "n1", memoryStore(t))
	m := serve(t, n, manager.Options{})
	for _, tc := range []struct {
		method, path string
		body         any
		want         string
	}{
		{http.MethodPost, "/api/room/join", map[string]any{"id": "u1", "room": "r1", "rooms": "x"}, "rooms: unknown key"},
		{http.MethodPost, "/api/room/join", map[string]any{"id": "u1"}, "room: required"},
		{http.MethodPost, "/api/room/leave", map[string]any{"room": "r1"}, "id: required"},
		{http.MethodPost, "/api/room/join", map[string]any{"id": "u1", "room": "r1", "type": "admin"}, "type: must be"},
		{http.MethodGet, "/api/room/users?room=r1&limit=0", nil, "limit: must be"},
		{http.MethodGet, "/api/room/users?room=r1&limit=1001", nil, "limit: must be"},
		{http.MethodGet, "/api/room/users?room=r1&limit=x", nil, "limit: must be"},
		{http.MethodGet, "/api/room/users", nil, "room: required"},
		{http.MethodGet, "/api/room/count?room=r1&x=1", nil, "x: unknown key"},
		{http.MethodGet, "/api/user/rooms?type=wall", nil, "id: required"},
	} {
		ans := m.do(t, tc.method, tc.path, tc.body, "Bearer "+m.token)
		if ans.status != http.StatusBadRequest || !strings.Contains(ans.Message, tc.want) {
			t.Errorf("%s %s %v: %d %q, want 400 %q", tc.method, tc.path, tc.body, ans.status, ans.Message, tc.want)
		}
	}
}
