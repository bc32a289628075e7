// Package transport moves WebSocket bytes for msgo and knows nothing above
// them: no App, store, router or module. One epoll instance, served by a
// bounded pool of goroutines that handle what they take inline, accepts,
// upgrades, reads and parses frames, and per-core flusher lanes write what
// fan-outs queue. No goroutine
// and no buffer belong to an idle connection.
//
//	s, err := transport.New(transport.Options[Session]{
//		Authenticate: func(token []byte, s *Session) error { ... },
//		Message:      func(c *transport.Conn[Session], msg []byte) { c.Send(reply) },
//		Closed:       func(c *transport.Conn[Session]) { ... },
//	})
//	go s.Serve(ln)
//
// A Conn carries the layer above's session S beside its own state, so one
// value holds everything about a connection; Export and Server.Import move
// the transport's part (State) between processes. Its surface is small: ID,
// Send, Queue, Close, and one callback per complete message.
//
// Concurrency: Message and Closed run on the connection's worker, one at a
// time, in arrival order. Send, Queue and Close are safe from any goroutine;
// a connection's session is changed under Conn.Edit. Linux only: the
// platform code is in the _linux.go files.
package transport
