package manager_test

import (
	"fmt"
	"testing"

	"msgo/framework/manager"
	"msgo/framework/msgotest"
	"msgo/library/cache/cachetest"
	"msgo/library/encrypt"
)

// benchSend measures one send call end to end over HTTP: the client's
// request, the push, and the delivered count in the answer.
func benchSend(b *testing.B, m *api, path string, body []byte, want int, clients []*msgotest.Client) {
	b.ReportAllocs()
	for b.Loop() {
		if n := m.delivered(b, path, body); n != want {
			b.Fatalf("delivered %d, want %d", n, want)
		}
		for _, cl := range clients {
			cl.Frames() // keep the test clients' buffers small
		}
	}
}

func BenchmarkSendUser(b *testing.B) {
	srv := startNode(b, "n1", nil)
	cl := dial(b, srv, "u1", encrypt.TypeWechatUser)
	benchSend(b, serve(b, srv, manager.Options{}), "/api/send/user", []byte(`{"id":"u1","event":"e","param":{"a":1}}`), 1, []*msgotest.Client{cl})
}

// BenchmarkSendUserOtherNodeRedis pushes from n1's manager to a user
// connected to n2, over Redis: the delivered count makes a round trip.
func BenchmarkSendUserOtherNodeRedis(b *testing.B) {
	stores := cachetest.RedisNodes(b, 2)
	n1, n2 := startNode(b, "n1", stores[0]), startNode(b, "n2", stores[1])
	cl := dial(b, n2, "u1", encrypt.TypeWechatUser)
	benchSend(b, serve(b, n1, manager.Options{}), "/api/send/user", []byte(`{"id":"u1","event":"e","param":{"a":1}}`), 1, []*msgotest.Client{cl})
}

func BenchmarkBroadcast1000(b *testing.B) {
	srv := startNode(b, "n1", nil)
	clients := make([]*msgotest.Client, 1000)
	for i := range clients {
		clients[i] = dial(b, srv, fmt.Sprint("u", i), encrypt.TypeWechatUser)
	}
	benchSend(b, serve(b, srv, manager.Options{}), "/api/broadcast", []byte(`{"event":"e","param":{"a":1}}`), len(clients), clients)
}
