//go:build linux

package live_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"golang.org/x/sys/unix"
)

// benchClients are the benchmark's raw clients: a goroutine per client
// would cost the shared CPUs more than the server under test, so a few
// epoll loops read every client's socket and count frames, parsing only
// what they must.
type benchClients struct {
	eps   []int
	conns []atomic.Pointer[benchConn] // by index; the index is the epoll event's data
	n     int                         // clients dialed
	stop  atomic.Bool
	wg    sync.WaitGroup
}

func newBenchClients(loops, capacity int) (*benchClients, error) {
	bc := &benchClients{conns: make([]atomic.Pointer[benchConn], capacity)}
	for range loops {
		ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			bc.close()
			return nil, err
		}
		bc.eps = append(bc.eps, ep)
		bc.wg.Go(func() { bc.loop(ep) })
	}
	return bc, nil
}

// close stops the loops and closes every client.
func (bc *benchClients) close() {
	bc.stop.Store(true)
	bc.wg.Wait()
	for _, ep := range bc.eps {
		unix.Close(ep)
	}
	for i := range bc.n {
		bc.conns[i].Load().conn.Close()
	}
}

// benchConn is one client. Its counters are written by its loop and read
// by the benchmark.
type benchConn struct {
	conn    net.Conn
	fd      int
	sample  bool
	pend    []byte // an incomplete frame, loop only
	pushes  atomic.Int64
	replies chan struct{}
	failed  atomic.Pointer[error]

	lmu sync.Mutex
	lat []time.Duration
}

// dial connects a client to url (a plain-TCP loopback address) and adds it
// to a loop. Only an upgrade answer with nothing after it is expected.
func (bc *benchClients) dial(url string, sample bool) (*benchConn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dialer{}.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	if br != nil && br.Buffered() > 0 {
		conn.Close()
		return nil, errors.New("frames arrived with the upgrade answer")
	}
	raw, err := conn.(syscall.Conn).SyscallConn()
	if err != nil {
		conn.Close()
		return nil, err
	}
	c := &benchConn{conn: conn, sample: sample, replies: make(chan struct{}, 4)}
	raw.Control(func(fd uintptr) { c.fd = int(fd) })
	i := bc.n
	bc.n++
	bc.conns[i].Store(c)
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(i)}
	if err := unix.EpollCtl(bc.eps[i%len(bc.eps)], unix.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		return nil, err
	}
	return c, nil
}

func (bc *benchClients) loop(ep int) {
	events := make([]unix.EpollEvent, 512)
	buf := make([]byte, 256<<10)
	for !bc.stop.Load() {
		// Closing an epoll fd does not wake its waiter: poll the stop flag.
		n, err := unix.EpollWait(ep, events, 100)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return
		}
		for _, ev := range events[:n] {
			bc.conns[ev.Fd].Load().readable(buf)
		}
	}
}

var (
	pushSuffix = []byte(`"event":"live.message"}`)
	contentKey = []byte(`"content":"`)
	// Requests carry id 0 (join) or 1 (send); a reply ends with it.
	replyJoin = []byte(`"id":0}`)
	replySend = []byte(`"id":1}`)
)

// readable reads what c's socket holds (level-triggered: one read is
// enough) and handles every complete frame.
func (c *benchConn) readable(buf []byte) {
	if c.failed.Load() != nil {
		return
	}
	n, err := unix.Read(c.fd, buf)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return
	case err != nil:
		c.fail(err)
		return
	case n == 0:
		c.fail(errors.New("connection closed by the server"))
		return
	}
	data := buf[:n]
	if len(c.pend) > 0 {
		data = append(c.pend, data...)
	}
	for {
		size, ok := frameSize(data)
		if !ok || len(data) < size {
			break
		}
		c.frame(data[:size])
		data = data[size:]
	}
	c.pend = append(c.pend[:0], data...)
}

// frameSize returns the whole size of the server frame at the start of b,
// or false when its header is incomplete.
func frameSize(b []byte) (int, bool) {
	if len(b) < 2 {
		return 0, false
	}
	switch n := int(b[1] & 0x7f); n {
	case 126:
		if len(b) < 4 {
			return 0, false
		}
		return 4 + int(binary.BigEndian.Uint16(b[2:])), true
	case 127:
		if len(b) < 10 {
			return 0, false
		}
		return 10 + int(binary.BigEndian.Uint64(b[2:])), true
	default:
		return 2 + n, true
	}
}

func (c *benchConn) frame(f []byte) {
	if ws.OpCode(f[0]&0x0f) != ws.OpText {
		return
	}
	h := 2
	if f[1]&0x7f == 126 {
		h = 4
	} else if f[1]&0x7f == 127 {
		h = 10
	}
	p := f[h:]
	switch {
	case bytes.HasSuffix(p, pushSuffix):
		if c.sample {
			c.record(p)
		}
		c.pushes.Add(1)
	case bytes.HasSuffix(p, replyJoin) || bytes.HasSuffix(p, replySend):
		select {
		case c.replies <- struct{}{}:
		default:
			c.fail(errors.New("more replies than requests"))
		}
	}
}

// record notes the latency of a push whose content is its send time.
func (c *benchConn) record(p []byte) {
	i := bytes.Index(p, contentKey)
	if i < 0 {
		return
	}
	p = p[i+len(contentKey):]
	j := bytes.IndexByte(p, '"')
	if j < 0 {
		return
	}
	sent, err := strconv.ParseInt(string(p[:j]), 10, 64)
	if err != nil {
		return
	}
	d := time.Duration(time.Now().UnixNano() - sent)
	c.lmu.Lock()
	c.lat = append(c.lat, d)
	c.lmu.Unlock()
}

func (c *benchConn) takeLatencies() []time.Duration {
	c.lmu.Lock()
	defer c.lmu.Unlock()
	out := slices.Clone(c.lat)
	c.lat = c.lat[:0]
	return out
}

func (c *benchConn) fail(err error) {
	c.failed.CompareAndSwap(nil, &err)
}

func (c *benchConn) request(payload []byte) error {
	return wsutil.WriteClientText(c.conn, payload)
}

// awaitReply waits for the reply to the one request c has in flight.
func (c *benchConn) awaitReply(timeout time.Duration) error {
	select {
	case <-c.replies:
		return nil
	case <-time.After(timeout):
		if p := c.failed.Load(); p != nil {
			return *p
		}
		return errors.New("no reply")
	}
}

// awaitPushes polls until total pushes have arrived.
func (c *benchConn) awaitPushes(total int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for c.pushes.Load() < total {
		if p := c.failed.Load(); p != nil {
			return *p
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d pushes", c.pushes.Load(), total)
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}
