package framework

import (
	"msgo/framework/transport"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkDispatchEcho measures one index.index.index-style request through
// dispatch: envelope, route lookup, params, reply encoding and the write to a
// socketpair whose other end is drained.
//
//	go test -run=^$ -bench=DispatchEcho -benchmem ./framework/
func BenchmarkDispatchEcho(b *testing.B) {
	r := NewRouter()
	r.Handle("index.index.index", func(c *Context) error { return c.Success("执行完成", c.RawParams()) })
	s := socketlessServer(b, r, Config{RateLimit: -1})
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(fds[1])
	c, err := s.tr.Import(fds[0], transport.State{}, session{ident: compact(Identity{ID: "u", Type: "wechatUser"})})
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte(`{"method":"Index.Index.Index","id":17,"hello":"world","n":[1,2,3]}`)
	buf := make([]byte, 1<<16)
	work := make([]byte, len(msg))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		copy(work, msg) // dispatch borrows the read buffer
		s.dispatch(c, work)
		if i%64 == 0 {
			for {
				if n, _ := unix.Read(fds[1], buf); n <= 0 {
					break
				}
			}
		}
	}
}
