// Command gwshub is the comparison hub on github.com/lxzan/gws: a goroutine
// per connection reads (gws's ReadLoop), and gws serializes writes.
package main

import (
	"log"
	"net/http"

	"github.com/lxzan/gws"

	"msgo/bench/peer"
)

type conn struct{ ws *gws.Conn }

func (c conn) Write(frame []byte) error { return c.ws.WriteMessage(gws.OpcodeText, frame) }

type handler struct {
	gws.BuiltinEventHandler
	room *peer.Room
}

func (h *handler) OnClose(ws *gws.Conn, _ error) { h.room.Leave(conn{ws}) }

func (h *handler) OnMessage(ws *gws.Conn, m *gws.Message) {
	defer m.Close()
	h.room.Handle(conn{ws}, m.Bytes())
}

func main() {
	f := peer.ParseFlags()
	room := peer.NewRoom()
	peer.ServeManager(f.Manager, room)
	up := gws.NewUpgrader(&handler{room: room}, &gws.ServerOption{})
	log.Fatal(http.ListenAndServe(f.Addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		go ws.ReadLoop()
	})))
}
