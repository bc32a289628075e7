// Command gorillahub is the comparison hub on github.com/gorilla/websocket:
// a goroutine per connection reads, and writes take a per-connection lock.
package main

import (
	"log"
	"net/http"
	"sync"

	"github.com/gorilla/websocket"

	"msgo/bench/peer"
)

type conn struct {
	mu sync.Mutex
	ws *websocket.Conn
}

func (c *conn) Write(frame []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws.WriteMessage(websocket.TextMessage, frame)
}

func main() {
	f := peer.ParseFlags()
	room := peer.NewRoom()
	peer.ServeManager(f.Manager, room)
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }, ReadBufferSize: 1024, WriteBufferSize: 1024}
	log.Fatal(http.ListenAndServe(f.Addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c := &conn{ws: ws}
		defer func() { room.Leave(c); ws.Close() }()
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			room.Handle(c, msg)
		}
	})))
}
