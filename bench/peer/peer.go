// Package peer is what the comparison hubs share: the protocol surface the
// msgo load generator drives (an echo request/reply, live.user.join into one
// room, a manager call that pushes to the room), written once so that each
// hub differs from the others only in its WebSocket library.
//
// Messages are scanned, not decoded: a peer should cost no more than the
// library underneath it, so that comparing against it measures msgo.
package peer

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"strconv"
	"sync"
)

// Conn is one client connection of a hub; Write sends one text frame and is
// safe for concurrent use.
type Conn interface {
	Write(frame []byte) error
}

// Room is the one room every joined connection is in.
type Room struct {
	mu      sync.RWMutex
	members map[Conn]struct{}
}

// NewRoom returns an empty room.
func NewRoom() *Room { return &Room{members: make(map[Conn]struct{})} }

// Leave takes c out of the room; hubs call it when c closes.
func (r *Room) Leave(c Conn) {
	r.mu.Lock()
	delete(r.members, c)
	r.mu.Unlock()
}

func (r *Room) join(c Conn) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.members[c] = struct{}{}
	return len(r.members)
}

// Push writes frame to every member and returns how many took it.
func (r *Room) Push(frame []byte) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := 0
	for c := range r.members {
		if c.Write(frame) == nil {
			n++
		}
	}
	return n
}

var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// Handle answers one request message of c: live.user.join joins the room,
// anything else is echoed with an empty param.
func (r *Room) Handle(c Conn, msg []byte) {
	method, id := field(msg, `"method"`), field(msg, `"id"`)
	bp := bufs.Get().(*[]byte)
	b := append((*bp)[:0], `{"status":200,"info":"`...)
	if bytes.EqualFold(trimQuotes(method), []byte("live.user.join")) {
		n := r.join(c)
		b = append(b, `success","param":{"room":"bench","online":`...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, '}')
	} else {
		b = append(b, `执行完成","param":{}`...)
	}
	b = append(b, `,"event":`...)
	b = append(b, bytes.ToLower(method)...)
	if id != nil {
		b = append(b, `,"id":`...)
		b = append(b, id...)
	}
	b = append(b, '}')
	c.Write(b)
	*bp = b
	bufs.Put(bp)
}

// field returns the raw JSON value (a string with its quotes, or a number)
// after key in a flat object, or nil.
func field(msg []byte, key string) []byte {
	i := bytes.Index(msg, []byte(key))
	if i < 0 {
		return nil
	}
	v := bytes.TrimLeft(msg[i+len(key):], " :")
	if len(v) > 0 && v[0] == '"' {
		if j := bytes.IndexByte(v[1:], '"'); j >= 0 {
			return v[:j+2]
		}
		return nil
	}
	j := bytes.IndexAny(v, ",} ")
	if j < 0 {
		return nil
	}
	return v[:j]
}

func trimQuotes(b []byte) []byte { return bytes.Trim(b, `"`) }

// ManagerHandler serves POST /api/send/room {"room","event","param"}: one
// frame, encoded once, written to every member; it answers like msgo's
// manager port, {"code":200,"data":{"delivered":n}}.
func ManagerHandler(r *Room) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body struct {
			Event string          `json:"event"`
			Param json.RawMessage `json:"param"`
		}
		raw, _ := io.ReadAll(io.LimitReader(req.Body, 64<<10))
		if err := json.Unmarshal(raw, &body); err != nil || body.Event == "" {
			http.Error(w, `{"code":400,"message":"bad body"}`, http.StatusBadRequest)
			return
		}
		if len(body.Param) == 0 {
			body.Param = json.RawMessage(`{}`)
		}
		ev, _ := json.Marshal(body.Event)
		frame := fmt.Appendf(nil, `{"status":200,"info":"","param":%s,"event":%s}`, body.Param, ev)
		n := r.Push(frame)
		fmt.Fprintf(w, `{"code":200,"message":"ok","data":{"delivered":%d}}`, n)
	})
}

// Flags are every hub's command line: where to listen.
type Flags struct {
	Addr, Manager string
}

// ParseFlags reads -addr and -manager.
func ParseFlags() Flags {
	var f Flags
	flag.StringVar(&f.Addr, "addr", "127.0.0.1:9501", "WebSocket listen address (any path, any or no auth token)")
	flag.StringVar(&f.Manager, "manager", "127.0.0.1:9502", "manager listen address (POST /api/send/room)")
	flag.Parse()
	return f
}

// ServeManager serves the manager port in the background.
func ServeManager(addr string, r *Room) {
	go func() { log.Fatal(http.ListenAndServe(addr, ManagerHandler(r))) }()
}
